"""The Chroma-backed index: sentence vectors (through llama-index) plus a document manifest.

Two collections live side by side:
- `<name>`: one record per sentence, written through llama-index's `ChromaVectorStore`.
- `<name>-documents`: one record per document (its full text and content hash).

A document's record is written only after all its sentences, and removed only
after them, so it is the commit marker: an ingest killed at any point leaves
either the old complete state or orphan sentences that the next run replaces
and that retrieval ignores meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from index.documents import Document, Sentence
from index.errors import IndexUnavailableError

_PAGE = 5000
# Chroma needs a vector for every record; the manifest is looked up by ID only.
_MANIFEST_VECTOR = [1.0]
_SENTENCE_FIELDS = ("doc_id", "ordinal", "start", "end", "language", "kind", "parallel_id", "section")


def make_client(data_dir: Path, host: str | None = None, port: int = 8000) -> chromadb.ClientAPI:
    settings = ChromaSettings(anonymized_telemetry=False)
    if host:
        try:
            client = chromadb.HttpClient(host=host, port=port, settings=settings)
            client.heartbeat()
        except Exception as error:  # chromadb raises several unrelated types for an unreachable server
            raise IndexUnavailableError(
                f"Cannot reach a Chroma server at {host}:{port} ({error}). "
                f"Start one with `chroma run --path DIR --port {port}`, or omit --chroma-host to use {data_dir}."
            ) from error
        return client
    data_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)


def sentence_node(sentence: Sentence, document: Document, window: str, embedding: list[float]) -> TextNode:
    """A llama-index node for one sentence, carrying what retrieval and display need."""
    metadata = {field: getattr(sentence, field) for field in _SENTENCE_FIELDS}
    metadata["parallel_id"] = sentence.parallel_id or ""
    metadata.update(
        window=window,
        title=document.title,
        authors="; ".join(document.authors),
        journal=document.journal or "",
        year=document.year or 0,
        doi=document.doi or "",
    )
    return TextNode(
        id_=sentence.id,
        text=sentence.text,
        embedding=embedding,
        metadata=metadata,
        excluded_embed_metadata_keys=list(metadata),
        excluded_llm_metadata_keys=list(metadata),
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=sentence.doc_id)},
    )


def sentence_from_record(sentence_id: str, text: str, metadata: dict) -> Sentence:
    return Sentence(
        id=sentence_id,
        text=text,
        doc_id=metadata["doc_id"],
        ordinal=metadata["ordinal"],
        start=metadata["start"],
        end=metadata["end"],
        language=metadata["language"],
        kind=metadata["kind"],
        parallel_id=metadata["parallel_id"] or None,
        section=metadata.get("section", ""),
    )


class ChromaIndex:
    """Reads and writes sentences and documents in Chroma; knows nothing of embeddings' origin."""

    def __init__(self, client: chromadb.ClientAPI, name: str, embedding_label: str) -> None:
        if len(name) < 3:
            raise IndexUnavailableError(f"Collection name '{name}' is too short: Chroma needs 3 or more characters.")
        self.name = name
        self.sentences = client.get_or_create_collection(
            name, metadata={"hnsw:space": "cosine", "embedding_model": embedding_label}
        )
        built_with = (self.sentences.metadata or {}).get("embedding_model")
        if built_with != embedding_label:
            raise IndexUnavailableError(
                f"Collection '{name}' was built with the embedding model '{built_with}', not '{embedding_label}'. "
                "Use another --data-dir or collection, or the same model."
            )
        self.documents = client.get_or_create_collection(f"{name}-documents")
        self.vector_store = ChromaVectorStore(chroma_collection=self.sentences)

    # --- documents (the manifest) -------------------------------------------------

    def document_hashes(self) -> dict[str, str]:
        return {record_id: meta["content_hash"] for record_id, _, meta in self._pages(self.documents, ["metadatas"])}

    def load_documents(self) -> dict[str, Document]:
        return {
            record_id: Document.model_validate_json(text)
            for record_id, text, _ in self._pages(self.documents, ["documents", "metadatas"])
        }

    def commit_documents(self, documents: Sequence[Document]) -> None:
        """One write for many records: each Chroma write has a fixed cost (~40 ms here) that per-document commits pay."""
        if not documents:
            return
        self.documents.upsert(
            ids=[d.id for d in documents],
            embeddings=[_MANIFEST_VECTOR] * len(documents),
            documents=[d.model_dump_json() for d in documents],
            metadatas=[{"content_hash": d.content_hash, "source": d.source or ""} for d in documents],
        )

    # --- sentences ------------------------------------------------------------------

    def write_nodes(self, nodes: Sequence[TextNode]) -> None:
        """Idempotent write: Chroma's add ignores existing IDs, so those are deleted first."""
        ids = [node.node_id for node in nodes]
        self.vector_store.delete_nodes(node_ids=ids)
        self.vector_store.add(list(nodes))

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored embeddings by sentence ID: one lookup, no model call."""
        if not ids:
            return {}
        found = self.sentences.get(ids=list(ids), include=["embeddings"])
        return dict(zip(found["ids"], found["embeddings"], strict=True))

    def sentence_ids(self, doc_id: str) -> list[str]:
        return self.sentences.get(where={"doc_id": doc_id}, include=[])["ids"]

    def delete_sentences(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _PAGE):
            self.sentences.delete(ids=list(ids[start : start + _PAGE]))

    def remove_document(self, doc_id: str) -> None:
        """Sentences first, then the manifest record, so an interrupted removal can be re-run."""
        self.delete_sentences(self.sentence_ids(doc_id))
        self.documents.delete(ids=[doc_id])

    def load_sentences(self) -> Iterator[Sentence]:
        for record_id, text, metadata in self._pages(self.sentences, ["documents", "metadatas"]):
            yield sentence_from_record(record_id, text, metadata)

    def count(self) -> int:
        return self.sentences.count()

    @staticmethod
    def _pages(collection, include: list[str]) -> Iterator[tuple[str, str, dict]]:
        offset = 0
        while True:
            page = collection.get(include=include, limit=_PAGE, offset=offset)
            if not page["ids"]:
                return
            texts = page.get("documents") or [""] * len(page["ids"])
            metas = page.get("metadatas") or [{}] * len(page["ids"])
            yield from zip(page["ids"], texts, metas)
            offset += len(page["ids"])
