"""Incremental updates: only changed documents are re-embedded; removed ones leave every result."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.documents import Document
from index.embedding import HashEmbedding
from index.splitting import split_document
from qa.assistant import Assistant
from qa.settings import Settings

pytestmark = pytest.mark.integration


class CountingHashEmbedding(HashEmbedding):
    """The hash embedder, recording every text it embeds (documents and queries apart)."""

    embedded: list[str] = []
    queries: list[str] = []

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return [self._vector(text) for text in texts]

    def _get_text_embedding(self, text: str) -> list[float]:
        self.embedded.append(text)
        return self._vector(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        self.queries.append(query)
        return self._vector(query)


TOPICS = ["aspirin stroke", "statin cholesterol", "insulin glucose", "warfarin bleeding", "metformin weight"]


def corpus() -> list[Document]:
    return [
        Document(
            id=f"paper{i}",
            text=" ".join(f"The {topic} study {i} reported finding number {j} in its cohort." for j in range(4)),
            title=f"Paper {i}",
        )
        for i, topic in enumerate(TOPICS)
    ]


def open_assistant(data_dir: Path, embedder: CountingHashEmbedding) -> Assistant:
    settings = Settings(data_dir=data_dir, embedding="hash", show_progress=False, collection="incremental")
    return Assistant(settings=settings, embed_model=embedder, include_bundled=False)


def document_texts(assistant: Assistant, documents: list[Document]) -> list[str]:
    return [s.text for d in documents for s in split_document(d)]


def test_only_the_changed_document_is_re_embedded(tmp_path: Path) -> None:
    embedder = CountingHashEmbedding(model_name="hash-256")
    assistant = open_assistant(tmp_path, embedder)
    documents = corpus()
    assistant.ingest(documents)
    assert sorted(embedder.embedded) == sorted(document_texts(assistant, documents))

    changed = documents[2].model_copy(update={"text": documents[2].text + " A follow-up found lower glucose variability."})
    updated = documents[:2] + [changed] + documents[3:]
    embedder.embedded.clear()
    # A fresh process re-ingesting the whole corpus: unchanged documents cost nothing.
    reopened = open_assistant(tmp_path, embedder)
    report = reopened.ingest(updated, total=len(updated))
    assert report.replaced == ["paper2"]
    assert sorted(report.unchanged) == ["paper0", "paper1", "paper3", "paper4"]
    assert sorted(embedder.embedded) == sorted(s.text for s in split_document(changed))
    assert report.sentences_written == len(split_document(changed))

    assert [s.text for s in reopened.catalog.of_document("paper2")][-1] == "A follow-up found lower glucose variability."
    assert set(reopened.index.sentence_ids("paper2")) == {s.id for s in split_document(changed)}
    hits = reopened.retrieve("glucose variability follow-up", top_k=3)
    assert hits[0].sentence.text == "A follow-up found lower glucose variability."

    embedder.embedded.clear()
    again = reopened.ingest(updated)
    assert again.sentences_written == 0 and embedder.embedded == []


def test_a_shrunk_document_loses_its_stale_sentences(tmp_path: Path) -> None:
    embedder = CountingHashEmbedding(model_name="hash-256")
    assistant = open_assistant(tmp_path, embedder)
    documents = corpus()
    assistant.ingest(documents)
    shrunk = documents[1].model_copy(update={"text": "The statin cholesterol study was withdrawn."})
    assistant.ingest([shrunk])
    assert [s.text for s in assistant.catalog.of_document("paper1")] == ["The statin cholesterol study was withdrawn."]
    assert assistant.index.sentence_ids("paper1") == [split_document(shrunk)[0].id]
    assert all("finding number" not in h.sentence.text for h in assistant.retrieve("statin cholesterol finding", top_k=10) if h.sentence.doc_id == "paper1")


def test_removed_documents_disappear_from_results(tmp_path: Path) -> None:
    embedder = CountingHashEmbedding(model_name="hash-256")
    assistant = open_assistant(tmp_path, embedder)
    assistant.ingest(corpus())
    assert assistant.retrieve("warfarin bleeding", top_k=1)[0].sentence.doc_id == "paper3"

    embedder.embedded.clear()
    assistant.remove_documents(["paper3"])
    assert embedder.embedded == []  # removal embeds nothing
    for view in (assistant, open_assistant(tmp_path, embedder)):
        assert "paper3" not in {d.id for d in view.documents()}
        assert all(h.sentence.doc_id != "paper3" for h in view.retrieve("warfarin bleeding", top_k=20))
        answer = view.ask("What did the warfarin bleeding study report?")
        assert all(c.doc_id != "paper3" for c in answer.citations)
        assert all(r.doc_id != "paper3" for r in answer.related)
        assert view.index.sentence_ids("paper3") == []
        assert view.index.count() == 16

    # Removing and re-adding costs exactly that document's embeddings.
    embedder.embedded.clear()
    report = assistant.ingest(corpus())
    assert report.added == ["paper3"] and len(report.unchanged) == 4
    assert sorted(embedder.embedded) == sorted(s.text for s in split_document(corpus()[3]))
