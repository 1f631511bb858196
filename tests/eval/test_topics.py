"""Topic questions for `qa eval --topics` and the intent fit (eval.topics)."""

from __future__ import annotations

import pytest

from eval.dataset import DatasetError, EvalQuestion
from eval.topics import PLACEHOLDER, common_nouns, load_frames, topic_of, topic_question, with_topics
from index.documents import Document


def test_every_frame_holds_the_placeholder_and_each_language_has_fit_and_test_frames():
    frames = load_frames()
    for language in ("en", "zh"):
        fit = {f.text for f in frames if f.language == language and f.split == "fit"}
        test = {f.text for f in frames if f.language == language and f.split == "test"}
        assert len(fit) >= 5 and len(test) >= 5 and not fit & test, language
    assert all(f.text.count(PLACEHOLDER) == 1 for f in frames)


def test_a_malformed_frame_names_its_line(tmp_path):
    path = tmp_path / "frames.tsv"
    path.write_text("# comment\nfit\ten\tTell me about it.\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"frames.tsv:2: .*\{topic\}"):
        load_frames(path)


def test_the_topic_is_an_answer_in_the_question_language_that_names_a_thing():
    assert topic_of(["the Yuan dynasty", "元朝"], "zh") == "元朝"
    assert topic_of(["the Yuan dynasty", "元朝"], "en") == "the Yuan dynasty"
    # A clause, a quantity or a long answer is no topic; the next accepted answer may be.
    assert topic_of(["to increase profits", "profits"], "en") == "profits"
    assert topic_of(["six years"], "en") is None and topic_of(["三种"], "zh") is None and topic_of(["1990"], "en") is None
    assert topic_of(["the city council that met in the old town hall"], "en") is None


def test_the_frame_follows_the_question_split_and_is_the_same_on_every_run():
    fit = {f.text for f in load_frames() if f.language == "en" and f.split == "fit"}
    asked = topic_question("q1-en", "en", "fit", "the Normans")
    assert asked == topic_question("q1-en", "en", "fit", "the Normans")
    assert "the Normans" in asked and asked.replace("the Normans", PLACEHOLDER) in fit


def test_only_the_question_text_changes_and_questions_without_a_topic_are_left_out():
    named = EvalQuestion(id="q1-zh", category="answerable", language="zh", question="诺曼人何时征服英格兰？", answerable=True, answers=["1066年", "诺曼人"], split="test")
    numeric = EvalQuestion(id="q2-zh", category="answerable", language="zh", question="多少人？", answerable=True, answers=["三百万"], split="test")
    (asked,) = with_topics([named, numeric], [])
    assert "诺曼人" in asked.question
    assert asked.model_dump(exclude={"question"}) == named.model_dump(exclude={"question"})


def test_an_unanswerable_question_whose_topic_the_index_names_is_left_out():
    elsewhere = EvalQuestion(id="q3-en", category="off_topic", language="en", question="Where is the wall?", answerable=False, answers=["Britain"], split="test")
    nowhere = EvalQuestion(id="q4-en", category="off_topic", language="en", question="Who ruled?", answerable=False, answers=["the Yuan dynasty"], split="test")
    documents = [Document(id="museum", text="The costume collection is the most comprehensive in Britain.")]
    assert [q.id for q in with_topics([elsewhere, nowhere], documents)] == ["q4-en"]


def test_common_nouns_are_the_words_readers_name_as_generic_topics():
    english = ["The cost of the roof was high. The cost of the wing was lower.", "Most of the cost was paid; the budget for the year and the budget of the city are set."]
    assert common_nouns(english, "en", 2) == ["cost", "budget"]
    chinese = ["改造的费用很高。费用由市议会支付。", "图书馆的藏书增加了。"]
    assert common_nouns(chinese, "zh", 1) == ["费用"]
