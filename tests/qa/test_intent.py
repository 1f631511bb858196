"""Questions about the documents themselves (qa/intent.py): "What is this about?" is answered with
their openings, "Who wrote this?" from their header lines. A scripted detector stands in for the
fitted one here; the fitted detector on the real embedder is exercised in tests/integration/test_intent.py."""

from __future__ import annotations

import numpy as np
import pytest

from index.documents import Document
from qa import Assistant
from qa.intent import INTENT_PATH, load_intent_detector

ABOUT = "What is this about?"
WHO = "Who wrote this?"
REPORT = Document(
    id="dryers",
    title="Solar dryers in the Volta region",
    text="Solar tunnel dryers were built for 40 cooperatives. Drying took two days instead of five. "
    "Operating costs fell by 35%. The dryers paid for themselves in two seasons.",
)
NOTE = Document(id="bread", title="Bread notes", text="Whole wheat dough needs more water. Bake the loaf for 40 minutes.")


PAPER = Document(
    id="paper",
    title="Tanks in schools",
    text="Achieng Otieno, Brian Mwangi\nSchool of Public Health, Maseno University, Kenya\n"
    "J Water Health. 2024;22(3):101-9. doi:10.2166/wh.2024.001\n"
    "Rainwater tanks were installed in 12 schools. Absence fell by a fifth.",
    metadata_lines=3,
)


class ScriptedDetector:
    """Takes exactly the listed questions for the listed intents (by their vectors)."""

    def __init__(self, embed_model, questions: dict[str, str]) -> None:
        self._vectors = [(np.asarray(embed_model.get_query_embedding(q)), intent) for q, intent in questions.items()]

    def intent(self, vector):
        return next(((intent, 0.9) for v, intent in self._vectors if np.allclose(vector, v)), ("specific", 0.8))


@pytest.fixture
def assistant(hash_settings) -> Assistant:
    assistant = Assistant(settings=hash_settings, include_bundled=False)
    assistant.ingest([REPORT, NOTE])
    assistant.retriever._intents = ScriptedDetector(assistant.embed_model, {ABOUT: "overview", WHO: "authors"})
    return assistant


def test_a_question_about_one_document_quotes_its_opening(assistant: Assistant) -> None:
    answer = assistant.ask(ABOUT, doc_ids=["dryers"])
    assert not answer.abstained
    assert [c.text for c in answer.citations] == ["Solar tunnel dryers were built for 40 cooperatives.", "Drying took two days instead of five."]
    for citation in answer.citations:
        assert REPORT.text[citation.start : citation.end] == citation.text


def test_a_question_about_several_documents_quotes_each_opening(assistant: Assistant) -> None:
    answer = assistant.ask(ABOUT)
    assert sorted(c.doc_id for c in answer.citations) == ["bread", "dryers"]
    assert {c.text for c in answer.citations} == {"Solar tunnel dryers were built for 40 cooperatives.", "Whole wheat dough needs more water."}
    # The same ranking for the API's retrieve as for the answer.
    assert {h.sentence.text for h in assistant.retrieve(ABOUT)} == {c.text for c in answer.citations}


def test_other_questions_are_searched_as_before(assistant: Assistant) -> None:
    ranking = assistant.retriever.search("How much did operating costs fall?")
    assert ranking.intent == "specific"
    assert ranking.hits[0].sentence.text == "Operating costs fell by 35%."


def test_a_bibliographic_question_is_answered_from_a_header_line(assistant: Assistant) -> None:
    assistant.ingest([PAPER])
    answer = assistant.ask(WHO, doc_ids=["paper"])
    assert not answer.abstained
    first = assistant.catalog.get(answer.citations[0].sentence_id)
    assert first.kind == "metadata" and first.section == "Authors" and first.text == "Achieng Otieno, Brian Mwangi"
    relevances = [h.relevance for h in assistant.retriever.search(WHO, top_k=20).hits]
    assert relevances == sorted(relevances, reverse=True)


def test_a_bibliographic_question_about_documents_without_a_header_is_searched_as_before(assistant: Assistant) -> None:
    ranking = assistant.retriever.search(WHO, doc_ids=["dryers", "bread"])
    assert ranking.intent == "specific"
    assert all(h.sentence.kind == "body" for h in ranking.hits)


def test_the_detector_can_be_switched_off_and_exists_only_for_its_embedder(hash_settings) -> None:
    off = Assistant(settings=hash_settings.model_copy(update={"intents": False}), include_bundled=False)
    assert off.retriever._intents is None
    assert load_intent_detector("hash-256") is None  # fitted on e5's vectors, not the test embedder's
    assert INTENT_PATH.exists()
