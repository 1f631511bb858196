"""Questions about the documents as a whole ("What is this about?") are answered with their openings
(qa/overview.py). A scripted detector stands in for the fitted one here; the fitted detector on the
real embedder is exercised in tests/integration/test_reranker.py."""

from __future__ import annotations

import numpy as np
import pytest

from index.documents import Document
from qa import Assistant
from qa.overview import OVERVIEW_PATH, load_overview_detector

ABOUT = "What is this about?"
REPORT = Document(
    id="dryers",
    title="Solar dryers in the Volta region",
    text="Solar tunnel dryers were built for 40 cooperatives. Drying took two days instead of five. "
    "Operating costs fell by 35%. The dryers paid for themselves in two seasons.",
)
NOTE = Document(id="bread", title="Bread notes", text="Whole wheat dough needs more water. Bake the loaf for 40 minutes.")


class ScriptedDetector:
    """Takes exactly the listed questions for overviews (by their vectors)."""

    threshold = 0.5

    def __init__(self, embed_model, questions: list[str]) -> None:
        self._vectors = [np.asarray(embed_model.get_query_embedding(q)) for q in questions]

    def probability(self, vector) -> float:
        return 0.9 if any(np.allclose(vector, v) for v in self._vectors) else 0.1


@pytest.fixture
def assistant(hash_settings) -> Assistant:
    assistant = Assistant(settings=hash_settings, include_bundled=False)
    assistant.ingest([REPORT, NOTE])
    assistant.retriever._overview = ScriptedDetector(assistant.embed_model, [ABOUT, "这是关于什么的？"])
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
    assert not ranking.overview
    assert ranking.hits[0].sentence.text == "Operating costs fell by 35%."


def test_the_detector_can_be_switched_off_and_exists_only_for_its_embedder(hash_settings) -> None:
    off = Assistant(settings=hash_settings.model_copy(update={"overview": False}), include_bundled=False)
    assert off.retriever._overview is None
    assert load_overview_detector("hash-256") is None  # fitted on e5's vectors, not the test embedder's
    assert OVERVIEW_PATH.exists()
