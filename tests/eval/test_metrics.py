"""Each metric on small hand-computed cases."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from eval.judge.base import SupportVerdict
from eval.metrics import (
    Statement,
    abstention_scores,
    alce_citation_precision,
    alce_citation_recall,
    answer_correctness,
    citation_precision,
    citation_recall,
    definition,
    faithfulness,
    judge_statement,
    latency_percentiles,
    mean_defined,
    recall_at_k,
    reciprocal_rank,
    unbacked_sentences,
    verification_dropped,
)


class WordJudge:
    """Supported when every word of the claim occurs in the evidence: enough to exercise the logic."""

    name = "words"

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def judge(self, claim: str, evidence: Sequence[str]) -> SupportVerdict:
        self.calls.append((claim, tuple(evidence)))
        words = set(" ".join(evidence).lower().split())
        ok = set(claim.lower().split()) <= words
        return SupportVerdict(supported=ok, score=1.0 if ok else 0.0, method="verbatim")


GOLD = [frozenset({"s4", "z12"}), frozenset({"s8", "z16"})]


def test_recall_at_k_counts_groups_not_sentences():
    ranked = ["z12", "s4", "s1", "s8"]
    assert recall_at_k(ranked, GOLD, 1) == 0.5
    assert recall_at_k(ranked, GOLD, 3) == 0.5
    assert recall_at_k(ranked, GOLD, 4) == 1.0
    assert recall_at_k(ranked, [], 4) is None


def test_reciprocal_rank():
    assert reciprocal_rank(["s1", "s2", "z16"], GOLD) == pytest.approx(1 / 3)
    assert reciprocal_rank(["s1"], GOLD) == 0.0
    assert reciprocal_rank(["s1"], []) is None


def test_citation_precision_and_recall():
    acceptable = frozenset({"s4", "z12", "s8", "z16", "s7"})
    assert citation_precision(["s4", "z12", "s7", "s1"], acceptable) == 0.75
    assert citation_precision([], acceptable) is None
    assert citation_recall(["s4", "z12"], GOLD) == 0.5
    assert citation_recall(["z12", "s8"], GOLD) == 1.0
    assert citation_recall([], []) is None


def test_alce_supported_and_precise():
    judge = WordJudge()
    statement = Statement("initial therapy includes methotrexate", (("initial therapy includes methotrexate",),))
    result = judge_statement(statement, ["doc text", "initial therapy includes methotrexate"], judge)
    assert result.supported and result.precise == (True,) and result.grounded


def test_alce_needs_all_units_jointly_and_flags_the_redundant_one():
    judge = WordJudge()
    # "a b" needs both the first two units; the third adds nothing and is imprecise.
    statement = Statement("a b", (("a x",), ("b y",), ("a b z",)))
    result = judge_statement(statement, [], judge)
    assert result.supported
    assert result.precise == (False, False, True)
    assert not result.grounded and result.grounding_verdict is None

    pair = Statement("a b", (("a x",), ("b y",)))
    assert judge_statement(pair, [], judge).precise == (True, True)


def test_translation_cited_beside_its_original_is_one_unit():
    judge = WordJudge()
    statement = Statement("a b", (("a b", "甲 乙"),))
    assert judge_statement(statement, [], judge).precise == (True,)


def test_unsupported_and_uncited_statements():
    judge = WordJudge()
    unsupported = judge_statement(Statement("a c", (("a b",),)), ["a b"], judge)
    uncited = judge_statement(Statement("a b", ()), ["a b"], judge)
    assert not unsupported.supported and unsupported.precise == (False,) and not unsupported.grounded
    assert not uncited.supported and uncited.verdict is None and uncited.grounded
    judgements = [unsupported, uncited]
    assert alce_citation_recall(judgements) == 0.0
    assert alce_citation_precision(judgements) == 0.0
    assert faithfulness(judgements) == 0.5
    assert alce_citation_recall([]) is None and alce_citation_precision([uncited]) is None and faithfulness([]) is None


def test_answer_correctness_accepts_any_wording_and_width():
    facts = [["methotrexate", "甲氨蝶呤"], ["corticosteroids", "皮质类固醇"], ["biologic therapies"]]
    assert answer_correctness("…包括使用皮质类固醇和甲氨蝶呤 [1][2]", facts) == pytest.approx(2 / 3)
    assert answer_correctness("METHOTREXATE and Biologic   therapies", facts) == pytest.approx(2 / 3)
    assert answer_correctness("ＣＤ２０", [["CD20"]]) == 1.0
    assert answer_correctness("anything", []) is None


def test_abstention_scores():
    scores = abstention_scores(abstained=[True, True, False, False], answerable=[False, True, False, True])
    assert scores.precision == 0.5 and scores.recall == 0.5 and scores.f1 == 0.5
    none_abstained = abstention_scores([False, False], [False, True])
    assert none_abstained.precision is None and none_abstained.recall == 0.0 and none_abstained.f1 is None
    all_answerable = abstention_scores([True, False], [True, True])
    assert all_answerable.precision == 0.0 and all_answerable.recall is None


def test_latency_and_means():
    assert latency_percentiles([10, 20, 30, 40, 1000]) == (30.0, pytest.approx(808.0))
    with pytest.raises(ValueError, match="no latencies"):
        latency_percentiles([])
    assert mean_defined([1.0, None, 0.0]) == (0.5, 2)
    assert mean_defined([None]) == (None, 0)


def test_definitions_come_from_docstrings():
    assert definition(recall_at_k).startswith("Recall@k: share of gold evidence groups")
    assert "\n" not in definition(abstention_scores)


def test_unbacked_sentences_counts_shown_sentences_without_a_verbatim_quote_in_what_they_cite() -> None:
    source = "Steroids  reduced relapse (p = 0.03) in 40 patients."
    backed = [(["steroids reduced relapse"], source)]
    ellipsis = [(["Steroids … in 40 patients"], source)]
    invented = [(["steroids cured relapse"], source)]
    uncited: list = []
    assert unbacked_sentences([backed, ellipsis]) == 0
    assert unbacked_sentences([backed, invented, uncited]) == 2
    assert verification_dropped(4, 1) == 0.25 and verification_dropped(0, 0) is None
