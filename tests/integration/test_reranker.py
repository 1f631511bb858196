"""The real cross-encoder (e5 weights + the shipped adapter in qa/reranker/), on sentences written
for this test: neither the bundled abstract nor the data it was fitted on."""

from __future__ import annotations

import pytest

from qa.reranker import ADAPTER_PATH, load_reranker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (ADAPTER_PATH / "adapter_config.json").is_file(), reason="no fitted reranker adapter"),
]

CASES = [
    (
        "When was the bridge opened to traffic?",
        "The bridge was opened to traffic in 1932, after six years of work.",
        "The bridge spans the river near the old market and carries two railway tracks.",
    ),
    (
        "Who designed the new library?",
        "The new library was designed by the architect Maria Lindqvist.",
        "The new library holds two million books and a large map collection.",
    ),
    (
        "这座桥是哪一年通车的？",
        "这座桥于1932年通车，修建历时六年。",
        "这座桥横跨老市场附近的河流，桥上有两条铁路。",
    ),
]


@pytest.mark.parametrize(("question", "answer", "topical"), CASES)
def test_the_answering_sentence_outscores_a_merely_topical_one(question, answer, topical):
    answering, other = load_reranker().scores(question, [(answer, ""), (topical, "")])
    assert answering > other


def test_the_default_assistant_reranks(real_assistant):
    ranking = real_assistant.retriever.search("Which drugs are used first?")
    assert real_assistant.retriever._reranker is not None
    assert "cross" in ranking.hits[0].features
