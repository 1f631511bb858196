"""What an embedded index holds, read straight from Chroma's SQLite file.

`qa list` and the argument checks of `qa remove` must answer in well under a second;
importing chromadb alone takes ~3 s here (llama-index ~10 s). Everything they need is in
the metadata segments of Chroma's SQLite file: the manifest records (each document's
JSON) and the `doc_id` of every sentence. The file is opened read-only; a layout this
reader does not recognise gives None, and the caller opens Chroma itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from index.documents import Document
from index.loaders import DocumentError

# Chroma's default tenant and database: where `PersistentClient` puts collections unless told otherwise.
_DEFAULT_TENANT = "default_tenant"
_DEFAULT_DATABASE = "default_database"


@dataclass(frozen=True)
class Listing:
    """The committed documents of an index, by ID order, and how many sentences each has."""

    documents: list[Document] = field(default_factory=list)
    sentences: dict[str, int] = field(default_factory=dict)

    def ids(self) -> set[str]:
        return {document.id for document in self.documents}


def _metadata_segment(db: sqlite3.Connection, collection: str) -> str | None:
    row = db.execute(
        "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
        "JOIN databases d ON c.database_id = d.id "
        "WHERE c.name = ? AND d.name = ? AND d.tenant_id = ? AND s.scope = 'METADATA'",
        (collection, _DEFAULT_DATABASE, _DEFAULT_TENANT),
    ).fetchone()
    return row[0] if row else None


def _values(db: sqlite3.Connection, segment: str, key: str) -> list[str]:
    rows = db.execute(
        "SELECT m.string_value FROM embeddings e JOIN embedding_metadata m ON m.id = e.id "
        "WHERE e.segment_id = ? AND m.key = ?",
        (segment, key),
    )
    return [value for (value,) in rows]


def read_listing(data_dir: Path, collection: str) -> Listing | None:
    """The documents in the embedded index at `data_dir`; an empty listing when there is no index
    yet, None when the file is not in the layout this reader knows (open Chroma instead)."""
    path = data_dir / "chroma" / "chroma.sqlite3"
    if not path.exists():
        return Listing()
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            manifest = _metadata_segment(db, f"{collection}-documents")
            sentences = _metadata_segment(db, collection)
            if manifest is None:
                return Listing()
            # Chroma keeps each record's text under this key: for the manifest, the document's JSON.
            documents = sorted(
                (Document.model_validate_json(text) for text in _values(db, manifest, "chroma:document")), key=lambda d: d.id
            )
            counts = dict(
                db.execute(
                    "SELECT m.string_value, COUNT(*) FROM embeddings e JOIN embedding_metadata m ON m.id = e.id "
                    "WHERE e.segment_id = ? AND m.key = 'doc_id' GROUP BY m.string_value",
                    (sentences,),
                ).fetchall()
            )
    except (sqlite3.Error, ValueError):
        return None
    return Listing(documents, {d.id: counts.get(d.id, 0) for d in documents})


def unknown_documents(doc_ids: Iterable[str], known: Collection[str]) -> None:
    """Raise `DocumentError` naming every ID in `doc_ids` that is not indexed."""
    unknown = [doc_id for doc_id in doc_ids if doc_id not in known]
    if unknown:
        raise DocumentError(f"No indexed document with ID {', '.join(repr(u) for u in unknown)}; see `qa list`.")
