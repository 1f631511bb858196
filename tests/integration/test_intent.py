"""The fitted intent detector (qa/intent.json) on the real embedder, with phrasings that are not in
its training file, and the default assistant's answers to such questions."""

from __future__ import annotations

import pytest

from qa.intent import INTENT_PATH

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not INTENT_PATH.is_file(), reason="no fitted intent detector")]

# Held-out figures are in qa/intent.json (recall 0.73-1.00 per intent and language): these are
# clear cases, for the wiring.
CASES = {
    "Could you tell me what this paper is about?": "overview",
    "Tell me about this document": "overview",
    "Which researchers wrote this review?": "authors",
    "作者叫什么名字？": "authors",
    "Which institution is the author at?": "affiliation",
    "Which journal is this review in?": "publication",
    "What is this disease about?": "specific",
    "Summarize the side effects of steroids.": "specific",
    "Who discovered the first antibiotic?": "specific",
    "这种病的主要治疗是什么？": "specific",
}


def test_questions_about_the_documents_are_told_from_questions_about_their_content(real_assistant):
    detector, embed = real_assistant.retriever._intents, real_assistant.embed_model
    assert detector is not None
    assert {q: detector.intent(embed.get_query_embedding(q))[0] for q in CASES} == CASES


def test_the_assistant_answers_an_overview_question_with_the_opening(real_assistant):
    answer = real_assistant.ask("What is this about?")
    assert not answer.abstained
    document = real_assistant.documents()[0]
    opening = [s for s in real_assistant.catalog.of_document(document.id) if s.kind == "body" and s.language == "en"][:2]
    assert [c.sentence_id for c in answer.citations if c.parallel_of is None] == [s.id for s in opening]


def test_the_assistant_answers_who_wrote_it_from_the_author_line(real_assistant):
    answer = real_assistant.ask("Which researchers wrote this review?")
    assert not answer.abstained
    cited = real_assistant.catalog.get(answer.citations[0].sentence_id)
    assert cited.kind == "metadata" and cited.section == "Authors"
