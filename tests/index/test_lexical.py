"""BM25 from token ids: the same scores as bm25s, to the bit; reused tokens give the same index."""

from __future__ import annotations

import bm25s
import numpy as np

from index.lexical import LexicalIndex, Terms, idf_weights
from index.tokenize import tokenize

TEXTS = [
    "Aspirin lowers the risk of a second stroke in high-dose regimens.",
    "Statins lower LDL cholesterol; high-dose statins lower it further.",
    "...",  # no token at all
    "幼年皮肌炎的一线治疗通常是糖皮质激素。",
    "Insulin lowers glucose, and glucose variability falls with insulin pumps.",
    "Warfarin raises the risk of bleeding.",
]
QUERIES = ["high-dose aspirin stroke", "glucose glucose insulin", "幼年皮肌炎 治疗", "bleeding risk", "unknownword"]


def fresh_terms(texts: list[str]) -> Terms:
    return Terms.gather(None, [None] * len(texts), {i: tokenize(t) for i, t in enumerate(texts)})


def test_scores_equal_bm25s() -> None:
    tokens = [tokenize(t) for t in TEXTS]
    reference = bm25s.BM25()
    reference.index([t or ["\u2205"] for t in tokens], show_progress=False)
    ours = LexicalIndex(fresh_terms(TEXTS))
    for query in QUERIES:
        known = [t for t in tokenize(query) if t in reference.vocab_dict]
        expected = reference.get_scores(known) if known else None
        got = ours.scores(query)
        if expected is None:
            assert got is None
        else:
            assert got is not None and got.dtype == np.float32
            assert np.array_equal(got, expected), query


def test_reused_tokens_give_the_same_index_as_fresh_ones() -> None:
    first = fresh_terms(TEXTS)
    # Drop sentence 0, keep the others in another order, add a new one.
    texts = [TEXTS[4], TEXTS[2], "Metformin and weight loss.", TEXTS[1], TEXTS[3], TEXTS[5]]
    reused = [4, 2, None, 1, 3, 5]
    gathered = Terms.gather(first, reused, {2: tokenize(texts[2])})
    rebuilt = fresh_terms(texts)
    assert gathered.vocabulary == rebuilt.vocabulary  # "aspirin" and "stroke" are gone
    assert "aspirin" not in gathered.lookup
    assert np.array_equal(gathered.ids, rebuilt.ids) and np.array_equal(gathered.starts, rebuilt.starts)
    assert gathered.token_set(2) == frozenset(tokenize(texts[2]))
    assert idf_weights(LexicalIndex(gathered)) == idf_weights(LexicalIndex(rebuilt))


def test_empty_corpus() -> None:
    empty = LexicalIndex(fresh_terms([]))
    assert empty.scores("aspirin") is None and len(empty) == 0
    assert idf_weights(empty) == {}


def test_grouped_units_score_as_their_joined_sentences() -> None:
    # Units: sentences 0-1, 2-3, 4-5. A unit's BM25 is that of its sentences' tokens joined.
    grouped = LexicalIndex(fresh_terms(TEXTS).grouped(np.array([0, 2, 4])))
    joined = LexicalIndex(fresh_terms([" ".join(TEXTS[0:2]), " ".join(TEXTS[2:4]), " ".join(TEXTS[4:6])]))
    assert len(grouped) == 3
    for query in QUERIES:
        got, expected = grouped.scores(query), joined.scores(query)
        assert (got is None and expected is None) or np.allclose(got, expected), query  # type: ignore[arg-type]
    assert LexicalIndex(fresh_terms([]).grouped(np.array([], dtype=np.int64))).scores("aspirin") is None
