"""Typing errors for `qa eval --typos` (eval.noise)."""

from __future__ import annotations

from eval.dataset import EvalQuestion
from eval.noise import misspell, with_typos
from qa.spelling import LATIN_WORD
from rapidfuzz.distance import OSA

QUESTIONS = [
    "What does initial therapy for juvenile dermatomyositis usually include?",
    "Which emerging treatment options does the review say are worthy of study?",
    "When did the Normans conquer England?",
    "How many people live in Warsaw?",
]


def test_each_question_gets_one_or_two_single_edit_slips_the_same_on_every_run():
    for number, question in enumerate(QUESTIONS):
        slipped = misspell(question, f"q{number}")
        assert slipped == misspell(question, f"q{number}") != question
        before, after = LATIN_WORD.findall(question), LATIN_WORD.findall(slipped)
        changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        eligible = [w for w in before if len(w) >= 5 and not w.isupper()]
        assert len(changed) == (2 if len(eligible) >= 4 else 1)
        for original, typed in changed:
            assert len(original) >= 5 and typed[0] == original[0] and OSA.distance(original, typed) == 1


def test_chinese_text_and_short_questions_are_left_as_they_are():
    assert misspell("幼年皮肌炎的发病率是多少？", "zh") == "幼年皮肌炎的发病率是多少？"
    assert misspell("Is JDM rare?", "short") == "Is JDM rare?"  # no word of five letters; JDM is an acronym


def test_only_the_question_text_changes():
    question = EvalQuestion(id="jdm-1", category="english", language="en", question=QUESTIONS[0], answerable=True)
    (slipped,) = with_typos([question])
    assert slipped.question == misspell(QUESTIONS[0], "jdm-1")
    assert slipped.model_dump(exclude={"question"}) == question.model_dump(exclude={"question"})
