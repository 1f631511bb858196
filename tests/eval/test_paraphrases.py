"""Paraphrased questions for `qa eval --paraphrases` and the relevance fit (eval.paraphrases)."""

from __future__ import annotations

import pytest

from eval.dataset import DatasetError, EvalQuestion
from eval.paraphrases import FIELDS, acceptable, load_paraphrases, overlap, with_paraphrases


def test_a_kept_rewrite_asks_in_other_words_and_gives_no_answer_away():
    original = "What percentage of the farmland is used to grow wheat?"
    assert acceptable(original, "How much of the agricultural land goes to wheat?", ("40%",))
    # Reworded in grammar only, copied, no longer a question, or naming the answer: not kept.
    assert not acceptable(original, "What percentage of farmland is used for growing wheat?", ("40%",))
    assert not acceptable(original, original, ("40%",))
    assert not acceptable(original, "The agricultural land given to cereals", ("40%",))
    assert not acceptable(original, "Is it 40% of the agricultural land that goes to cereals?", ("40%",))
    assert acceptable("多大比例的农田用于种植小麦？", "农业用地里有多少是种麦子的？", ("四成",))


def test_overlap_counts_the_original_content_terms_the_rewrite_keeps():
    assert overlap("When did Acme open its first factory?", "In what year did Acme start manufacturing?") == pytest.approx(1 / 4)
    assert overlap("What?", "Anything?") == 0.0


def test_the_shipped_rewrites_load_and_replace_only_the_question_text():
    rewrites = load_paraphrases()
    assert {s for s, _ in rewrites} >= {"xquad"} and all(rewrites.values())
    (set_name, key), text = next(iter(rewrites.items()))
    original = EvalQuestion(id=key, category="answerable", language="en", question="original?", answerable=True, answers=["x"], split="test")
    other = original.model_copy(update={"id": "no-rewrite"})
    (asked,) = with_paraphrases(set_name, [original, other])
    assert asked.question == text and asked.model_dump(exclude={"question"}) == original.model_dump(exclude={"question"})


def test_a_malformed_file_names_what_is_wrong(tmp_path):
    header = tmp_path / "header.tsv"
    header.write_text("set\tid\tquestion\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="header must be"):
        load_paraphrases(header)
    row = tmp_path / "row.tsv"
    row.write_text("\t".join(FIELDS) + "\nxquad\tq1-en\tfr\tQuoi ?\tmodel\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"row.tsv:2: "):
        load_paraphrases(row)


def test_the_relevance_fit_asks_each_rewrite_over_the_same_index_in_its_original_split():
    from eval.fit_relevance import MEASURED_ONLY, corpora

    found = {c.name: c for c in corpora(share=0.05)}
    original = {q[0]: q for q in found["xquad"].questions}
    paraphrased = found["xquad-paraphrased"]
    assert paraphrased.index == "xquad" and "xquad-paraphrased" in MEASURED_ONLY and len(paraphrased.questions) == len(
        {k for s, k in load_paraphrases() if s == "xquad"}
    )
    for key, text, split, answerable, answers, scope in paraphrased.questions:
        assert text != original[key][1] and (split, answerable, answers, scope) == original[key][2:]
    assert {q[2] for q in paraphrased.questions} == {"fit", "test", "reranker"}
