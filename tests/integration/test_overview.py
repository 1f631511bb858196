"""The fitted overview detector (qa/overview.json) on the real embedder, with phrasings that are not
in its training file, and the default assistant's answer to one."""

from __future__ import annotations

import pytest

from qa.overview import OVERVIEW_PATH

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not OVERVIEW_PATH.is_file(), reason="no fitted overview detector")]

# Held-out recall is 0.89 (en) / 0.78 (zh) (qa/overview.json): "What is this study about?" scores 0.72, below
# the 0.80 threshold that no fit-half specific question reaches. These are clear cases.
OVERVIEWS = ["Could you tell me what this paper is about?", "Tell me about this document", "这篇摘要讲的是什么？"]
SPECIFIC = ["What is this disease about?", "What is the main treatment?", "Summarize the side effects of steroids.", "这种病的主要治疗是什么？"]


def test_questions_about_the_whole_are_told_from_specific_ones(real_assistant):
    detector, embed = real_assistant.retriever._overview, real_assistant.embed_model
    assert detector is not None
    assert [detector.is_overview(embed.get_query_embedding(q)) for q in OVERVIEWS] == [True] * len(OVERVIEWS)
    assert [detector.is_overview(embed.get_query_embedding(q)) for q in SPECIFIC] == [False] * len(SPECIFIC)


def test_the_assistant_answers_an_overview_question_with_the_opening(real_assistant):
    answer = real_assistant.ask("What is this about?")
    assert not answer.abstained
    document = real_assistant.documents()[0]
    opening = [s for s in real_assistant.catalog.of_document(document.id) if s.kind == "body" and s.language == "en"][:2]
    assert [c.sentence_id for c in answer.citations if c.parallel_of is None] == [s.id for s in opening]
