"""The second stage: the cross-encoder re-reads the first stage's top candidates (with a scripted
fake here; the real adapter is exercised in tests/integration/test_reranker.py)."""

from __future__ import annotations

import dataclasses

import pytest

from qa.relevance import Logistic, RelevanceModel, Reranked, load_relevance_model


class ScriptedReranker:
    """Scores a sentence by whether it holds a chosen word: the cross-encoder's role, scripted."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.calls: list[tuple[str, int]] = []

    def scores(self, question, sentences):
        self.calls.append((question, len(sentences)))
        return [5.0 if self.word in text.lower() else -5.0 for text, _ in sentences]


def _model(plain_gate_bias: float, reranked_gate_bias: float) -> RelevanceModel:
    """The fitted first stage, with a second stage that follows the cross-encoder alone and gates
    that always (or never) answer, so the test can tell which gate decided."""
    base = load_relevance_model()
    languages = {}
    for language, entry in base.languages.items():
        languages[language] = dataclasses.replace(
            entry,
            gate=Logistic({}, plain_gate_bias),
            reranked=Reranked(Logistic({"first_stage": 0.0, "cross": 1.0}, 0.0), Logistic({}, reranked_gate_bias), 0.5),
        )
    return RelevanceModel(version="test", languages=languages)


@pytest.fixture
def reranked(hash_assistant):
    retriever = hash_assistant.retriever
    first = retriever.search("What treatments are used for juvenile dermatomyositis?", top_k=50)
    # A candidate the first stage ranks low within the top six: the fake cross-encoder prefers it.
    target = first.hits[4].sentence
    word = max(target.text.lower().split(), key=len)
    assert sum(word in h.sentence.text.lower() for h in first.hits[:6]) == 1, "pick a word unique to the target"
    retriever._reranker = ScriptedReranker(word)
    retriever._rerank_top = 6
    retriever._model = _model(plain_gate_bias=-50.0, reranked_gate_bias=50.0)
    return retriever, first, target


def test_the_cross_encoder_reorders_the_first_stage_top(reranked):
    retriever, first, target = reranked
    ranking = retriever.search(first.query, top_k=50)
    assert ranking.hits[0].sentence.id == target.id
    assert ranking.hits[0].features["cross"] == 5.0
    assert retriever._reranker.calls == [(first.query, 6)]
    # Only the top six were re-read; the rest keep their first-stage order, below them.
    assert [h.sentence.id for h in ranking.hits[6:]] == [h.sentence.id for h in first.hits[6:]]
    relevances = [h.relevance for h in ranking.hits]
    assert relevances == sorted(relevances, reverse=True)


def test_the_reranked_gate_decides(reranked):
    retriever, first, _ = reranked
    assert retriever.search(first.query).answer  # the reranked gate answers; the plain one never would
    retriever._reranker = None
    assert not retriever.search(first.query).answer


def test_reranking_is_off_with_another_embedder(hash_assistant):
    assert hash_assistant.retriever._reranker is None
