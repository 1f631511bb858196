"""The reranker's training groups: the answer first, then the first stage's hardest wrong picks;
unanswerable questions train "none of these"."""

import json
import random

import pytest

from eval.fit_reranker import _groups, _records


def _record(labels, answerable=True):
    return {
        "question": "When was it built?",
        "answerable": answerable,
        "candidates": [{"text": f"s{i}", "section": "", "context": f"s{i - 1}" if i else "", "label": label} for i, label in enumerate(labels)],
    }


def test_a_group_is_the_positive_then_the_highest_ranked_negatives():
    [(question, passages, target)] = _groups([_record([0, 0, 1, 0, 0, 0])], negatives=3, rng=random.Random(0))
    assert question == "When was it built?"
    assert passages == ["passage: s2", "passage: s0", "passage: s1", "passage: s3"]
    assert target == 0


def test_a_context_reading_adapter_trains_on_each_candidate_with_the_sentence_before_it():
    [(_, passages, _)] = _groups([_record([0, 1])], negatives=3, rng=random.Random(0), context=True)
    assert passages == ["passage: s1 (context: s0)", "passage: s0"]


def test_an_unanswerable_question_trains_none_of_these_over_its_top_candidates():
    [(_, passages, target)] = _groups([_record([0, 0, 0, 0], answerable=False)], negatives=2, rng=random.Random(0))
    assert passages == ["passage: s0", "passage: s1", "passage: s2"]
    assert target == -1


def test_questions_whose_labels_contradict_their_kind_are_left_out():
    # Answerable, but no candidate holds the answer; unanswerable, but one candidate holds the text.
    assert _groups([_record([0, 0, 0]), _record([0, 1], answerable=False)], negatives=5, rng=random.Random(0)) == []


def test_other_positives_are_never_used_as_negatives():
    [(_, passages, _)] = _groups([_record([1, 1, 0])], negatives=5, rng=random.Random(0))
    assert len(passages) == 2 and passages[1] == "passage: s2"


def test_parallel_questions_are_also_asked_in_the_other_language_over_the_same_candidates():
    from eval.fit_reranker import _cross_lingual

    en = {**_record([1, 0]), "set": "xquad", "id": "q7-en", "language": "en"}
    zh = {**_record([0, 1]), "set": "xquad", "id": "q7-zh", "language": "zh", "question": "它是什么时候建的？"}
    lone = {**_record([1]), "set": "cmrc", "id": "c1", "language": "zh"}
    swapped = {r["id"]: r for r in _cross_lingual([en, zh, lone])}
    assert set(swapped) == {"q7-en-asked-zh", "q7-zh-asked-en"}
    assert swapped["q7-en-asked-zh"]["question"] == "它是什么时候建的？"
    assert swapped["q7-en-asked-zh"]["candidates"] == en["candidates"]
    assert swapped["q7-zh-asked-en"]["question"] == "When was it built?"


def test_the_reranker_and_the_models_fitted_on_its_logits_learn_from_different_articles():
    from eval.fit_relevance import SHARE, in_sample, trains_reranker

    # Both languages of one XQuAD article fall on the same side, and both sides are used.
    sides = {trains_reranker("xquad", (f"xquad-en-{a}", f"xquad-zh-{a}")) for a in ("warsaw", "teacher", "nikola-tesla", "oxygen", "geology")}
    assert sides == {True, False}
    for article in ("warsaw", "teacher"):
        assert trains_reranker("xquad", (f"xquad-en-{article}",)) == trains_reranker("xquad", (f"xquad-zh-{article}",))
    # CMRC: the share eval.fit_relevance samples fits the gate; the rest trains the reranker.
    docs = [f"cmrc-dev-{i}" for i in range(200)]
    assert all(trains_reranker("cmrc", (d,)) != in_sample(d, SHARE) for d in docs)


def test_a_context_reading_fit_refuses_candidates_collected_without_context(tmp_path):
    data = tmp_path / "reranker-candidates.jsonl"
    record = _record([1, 0])
    for candidate in record["candidates"]:
        del candidate["context"]
    data.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert _records(data, context=False) == [record]
    with pytest.raises(SystemExit, match="collect"):
        _records(data, context=True)
