"""The intent detector's training file and its split (eval/fit_intent.py); the fit itself needs the real embedder."""

from __future__ import annotations

from collections import Counter

import pytest

from eval.fit_intent import Question, fit_half, written_questions


def test_every_written_question_parses_and_both_halves_hold_every_kind_in_both_languages() -> None:
    questions = written_questions()
    assert len({q.text for q in questions}) == len(questions), "a question is listed twice"
    fit = fit_half(questions)
    halves = Counter((q.intent, q.language, f) for q, f in zip(questions, fit))
    for intent in ("overview", "authors", "affiliation", "publication", "specific"):
        for language in ("en", "zh"):
            assert halves[(intent, language, True)] >= 2 and halves[(intent, language, False)] >= 2, (intent, language)


def test_an_unknown_kind_is_an_error(tmp_path) -> None:
    path = tmp_path / "questions.tsv"
    path.write_text("# comment\nbibliographic\ten\tWho wrote this?\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown kind"):
        written_questions(path)


def test_the_split_is_stable() -> None:
    questions = [Question(f"question {i}", "en", "written", "overview") for i in range(10)]
    assert fit_half(questions) == fit_half(list(questions)) and sum(fit_half(questions)) == 5
