"""The Chroma-backed index: sentence vectors (through llama-index) plus a document manifest.

Three collections live side by side:
- `<name>`: one record per sentence, written through llama-index's `ChromaVectorStore`.
- `<name>-documents`: one record per document (its full text and content hash): the manifest.
- `<name>-state`: the revision (bumped by every committed write, so other processes
  notice), the journal of documents being changed, and, with a Chroma server, the
  writer's lease (index/locking.py).

The manifest record is the commit marker, and every sentence records the document
version (`generation`, the content hash) it belongs to; readers take only the sentences
of the committed version. So at every instant a reader sees either the old complete
document or the new complete one:
- update: the new version's sentences are written under new IDs beside the old ones,
  then the manifest record is switched, then the old version's sentences are deleted;
- removal: the manifest record is deleted first, then the sentences.
Leftovers of an interrupted write are invisible, and the next writer deletes them
(`tidy`, driven by the journal). From a write's first journal entry to its revision bump the
revision is marked unsettled (`settled_revision`): a write killed in between leaves it so, and
a catalog stored at that revision (index/snapshot.py) is then checked by content hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import chromadb
from chromadb.config import Settings as ChromaSettings

from index.documents import Document, Sentence
from index.errors import IndexUnavailableError
from index.faults import crash_point
from index.locking import ChromaLeaseLock, FileWriterLock, WriterLock

if TYPE_CHECKING:  # llama-index takes ~10 s to import; `qa remove` never needs it
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

_PAGE = 5000
# Chroma needs a vector for every record; the manifest is looked up by ID only.
_MANIFEST_VECTOR = [1.0]
_SENTENCE_FIELDS = ("doc_id", "ordinal", "start", "end", "language", "kind", "parallel_id", "section")
_REVISION_ID = "revision"
_JOURNAL_KIND = "journal"


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


def fresh_client(client: chromadb.ClientAPI) -> chromadb.ClientAPI:
    """An embedded client that rereads the index from disk.

    An embedded Chroma keeps each collection's vector index in memory and does not see
    what other processes write until it writes itself; Chroma shares one such client
    per path in a process, so it is dropped from that cache and a new one opened. Other
    holders of the old client keep working on their (older) view.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    path = client.get_settings().persist_directory
    SharedSystemClient._identifier_to_system.pop(path, None)
    return chromadb.PersistentClient(path=path, settings=client.get_settings())


def sentence_node(sentence: Sentence, document: Document, window: str, embedding: list[float]) -> TextNode:
    """A llama-index node for one sentence, carrying what retrieval and display need."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    metadata = {field: getattr(sentence, field) for field in _SENTENCE_FIELDS}
    metadata["parallel_id"] = sentence.parallel_id or ""
    metadata.update(
        window=window,
        title=document.title,
        authors="; ".join(document.authors),
        journal=document.journal or "",
        year=document.year or 0,
        doi=document.doi or "",
        generation=document.content_hash,
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


def _committed(records: Iterable[tuple[str, str, dict]], hashes: dict[str, str]) -> Iterator[Sentence]:
    """The sentences of each document's committed version, from sentence records.

    Records without a `generation` were written before versions were recorded: they
    count for their document only while it has no sentence of its committed version.
    """
    current: dict[str, list[Sentence]] = {}
    legacy: dict[str, list[Sentence]] = {}
    for record_id, text, metadata in records:
        committed = hashes.get(metadata["doc_id"])
        if committed is None:
            continue
        generation = metadata.get("generation")
        if generation == committed:
            current.setdefault(metadata["doc_id"], []).append(sentence_from_record(record_id, text, metadata))
        elif generation is None:
            legacy.setdefault(metadata["doc_id"], []).append(sentence_from_record(record_id, text, metadata))
    for doc_id in hashes:
        yield from current.get(doc_id) or legacy.get(doc_id, [])


class ChromaIndex:
    """Reads and writes sentences and documents in Chroma; knows nothing of embeddings' origin."""

    def __init__(
        self,
        client: chromadb.ClientAPI,
        name: str,
        embedding_label: str | None,
        *,
        writer_wait_seconds: float = 3600.0,
        lease_seconds: float = 60.0,
    ) -> None:
        """`embedding_label` None opens an existing index for maintenance (`qa remove`) whatever its model."""
        if len(name) < 3:
            raise IndexUnavailableError(f"Collection name '{name}' is too short: Chroma needs 3 or more characters.")
        self.name = name
        self.embedding_label = embedding_label
        self._client = client
        self._open_collections()
        if self._is_server(client):
            where = f"collection '{name}' on the Chroma server"
            self.writer: WriterLock = ChromaLeaseLock(self.state, where, writer_wait_seconds, lease_seconds)
        else:  # the lock file sits in the data directory, beside Chroma's own folder (make_client)
            self.writer = FileWriterLock(Path(client.get_settings().persist_directory).parent, writer_wait_seconds)

    @staticmethod
    def _is_server(client: chromadb.ClientAPI) -> bool:
        return not client.get_settings().is_persistent

    def _open_collections(self) -> None:
        client, name, embedding_label = self._client, self.name, self.embedding_label
        self._vector_store = None
        if embedding_label is None:
            self.sentences, self.documents = client.get_collection(name), client.get_collection(f"{name}-documents")
            self.state = client.get_or_create_collection(f"{name}-state")
            return
        sentences = client.get_or_create_collection(
            name, metadata={"hnsw:space": "cosine", "embedding_model": embedding_label}
        )
        built_with = (sentences.metadata or {}).get("embedding_model")
        if built_with != embedding_label:
            raise IndexUnavailableError(
                f"Collection '{name}' was built with the embedding model '{built_with}', not '{embedding_label}'. "
                "Use another --data-dir or collection, or the same model."
            )
        # Assigned together at the end: a reader never pairs a new collection with an old one.
        self.sentences, self.documents, self.state = (
            sentences,
            client.get_or_create_collection(f"{name}-documents"),
            client.get_or_create_collection(f"{name}-state"),
        )

    @property
    def vector_store(self) -> ChromaVectorStore:
        """llama-index's view of the sentence collection, made on first use (llama-index is slow to import)."""
        if self._vector_store is None:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            self._vector_store = ChromaVectorStore(chroma_collection=self.sentences)
        return self._vector_store

    def reopen(self) -> None:
        """See other processes' writes in the vector search too (a server always shows them).

        The caller holds the writer lock: the vector index is read from disk here, by one
        query, rather than lazily at the next question, when a writer may be rewriting it."""
        if self._is_server(self._client):
            return
        self._client = fresh_client(self._client)
        self._open_collections()
        sample = self.sentences.get(limit=1, include=["embeddings"])["embeddings"]
        if sample is not None and len(sample):
            self.sentences.query(query_embeddings=[list(sample[0])], n_results=1, include=[])

    # --- revision and journal -------------------------------------------------------

    def revision(self) -> int:
        """How many writes have been committed: one cheap lookup by ID."""
        return self._revision_record()[0]

    def settled_revision(self) -> int | None:
        """The revision, or None while a write is under way or was killed part-way: from its first
        journal entry (`journal`) to its `bump_revision`, the index may hold committed changes that
        no revision counts yet, so a catalog stored at this revision (index/snapshot.py) may be behind."""
        revision, writing = self._revision_record()
        return None if writing else revision

    def _revision_record(self) -> tuple[int, bool]:
        found = self.state.get(ids=[_REVISION_ID], include=["metadatas"])["metadatas"]
        return (int(found[0]["revision"]), bool(found[0].get("writing"))) if found else (0, False)

    def bump_revision(self) -> int:
        """Record a committed write; called by the lock holder only, so increments are never lost."""
        revision = self.revision() + 1
        settled = {"kind": "revision", "revision": revision, "writing": False}  # written out: Chroma merges metadata
        self.state.upsert(ids=[_REVISION_ID], embeddings=[_MANIFEST_VECTOR], metadatas=[settled])
        return revision

    def journal(self, doc_ids: Sequence[str]) -> None:
        """Note documents about to change, so leftovers of an interrupted change are found and deleted;
        in the same write, mark the revision unsettled until the writer bumps it (`settled_revision`)."""
        if doc_ids:
            unsettled = {"kind": "revision", "revision": self.revision(), "writing": True}
            self.state.upsert(
                ids=[f"journal:{doc_id}" for doc_id in doc_ids] + [_REVISION_ID],
                embeddings=[_MANIFEST_VECTOR] * (len(doc_ids) + 1),
                metadatas=[{"kind": _JOURNAL_KIND, "doc_id": doc_id} for doc_id in doc_ids] + [unsettled],
            )

    def tidy(self, doc_ids: Sequence[str] | None = None) -> None:
        """Delete the sentences of `doc_ids` (default: every journalled document) that are not of
        the committed version, then close their journal entries. Writers only."""
        if doc_ids is None:
            entries = self.state.get(where={"kind": _JOURNAL_KIND}, include=["metadatas"])["metadatas"]
            doc_ids = [entry["doc_id"] for entry in entries]
        if not doc_ids:
            return
        hashes = self.document_hashes(doc_ids)
        stale: list[str] = []
        for start in range(0, len(doc_ids), _PAGE):
            chunk = list(doc_ids[start : start + _PAGE])
            records = self.sentences.get(where={"doc_id": {"$in": chunk}}, include=["metadatas"])
            stale += [
                record_id
                for record_id, metadata in zip(records["ids"], records["metadatas"], strict=True)
                if metadata.get("generation") != hashes.get(metadata["doc_id"])
            ]
        self.delete_sentences(stale)
        crash_point("tidied")
        self.state.delete(ids=[f"journal:{doc_id}" for doc_id in doc_ids])

    # --- documents (the manifest) -------------------------------------------------

    def document_hashes(self, doc_ids: Sequence[str] | None = None) -> dict[str, str]:
        if doc_ids is not None:
            found = self.documents.get(ids=list(doc_ids), include=["metadatas"])
            return {record_id: meta["content_hash"] for record_id, meta in zip(found["ids"], found["metadatas"], strict=True)}
        return {record_id: meta["content_hash"] for record_id, _, meta in self._pages(self.documents, ["metadatas"])}

    def load_manifest(self, doc_ids: Sequence[str] | None = None) -> tuple[dict[str, Document], dict[str, str]]:
        """Committed documents (all, or those of `doc_ids` still listed) and their content hashes, read together."""
        include = ["documents", "metadatas"]
        if doc_ids is not None:
            found = self.documents.get(ids=list(doc_ids), include=include) if doc_ids else {"ids": [], "documents": [], "metadatas": []}
            records: Iterable = zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        else:
            records = self._pages(self.documents, include)
        documents: dict[str, Document] = {}
        hashes: dict[str, str] = {}
        for record_id, text, metadata in records:
            documents[record_id] = Document.model_validate_json(text)
            hashes[record_id] = metadata["content_hash"]
        return documents, hashes
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

    def remove_documents(self, doc_ids: Sequence[str]) -> None:
        """The manifest records first (the documents vanish for readers at once), then their sentences."""
        self.journal(doc_ids)
        crash_point("remove-journalled")
        self.documents.delete(ids=list(doc_ids))
        crash_point("remove-unlisted")
        self.tidy(doc_ids)

    def load_sentences(self, hashes: dict[str, str]) -> Iterator[Sentence]:
        """The committed sentences of the documents in `hashes` (ID → committed content hash)."""
        if len(hashes) > _PAGE:  # most or all documents: one scan of the collection
            yield from _committed(self._pages(self.sentences, ["documents", "metadatas"]), hashes)
            return
        for start in range(0, len(hashes), _PAGE):
            chunk = list(hashes)[start : start + _PAGE]
            found = self.sentences.get(where={"doc_id": {"$in": chunk}}, include=["documents", "metadatas"])
            yield from _committed(zip(found["ids"], found["documents"], found["metadatas"], strict=True), hashes)

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
