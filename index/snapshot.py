"""The catalog kept on disk, so a new process does not reread and retokenize every sentence.

`open_catalog` is how a process gets its first catalog. The snapshot in the data directory
(`catalog-cache/<collection>.npz`) records the index revision it was taken at:
- same revision as the index, and that revision settled: it is the catalog (nothing is read
  from Chroma);
- older (or newer: an index restored from a backup): it is brought up to date like any
  catalog, by content hash (`Catalog.refreshed`: only changed documents are read, only their
  sentences tokenized), then written again;
- missing, unreadable, from another collection, format or tokenizer: the catalog is built
  from Chroma as before, and written.
A snapshot is also written by every writer after its commit, under the writer lock
(qa/assistant.py). It is only ever replaced whole (temporary file, then rename), and never
trusted past its checks: a damaged one is logged and ignored, never fatal.

Its revision is read before its content, and it is written (and used) only while that revision
is settled (`ChromaIndex.settled_revision`: no write under way or killed part-way since it was
bumped), so it holds exactly what the index held at that revision.

The file is an uncompressed NumPy archive, read without pickle: JSON for the documents,
sentences and vocabulary, arrays for the token ids (index/lexical.py `Terms`). BM25 and IDF
are recomputed from the ids on load (a fraction of a second at 100,000 sentences).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from pathlib import Path

import numpy as np
from pydantic import TypeAdapter

from index.catalog import Catalog
from index.documents import Document, Sentence
from index.gc_pause import gc_paused
from index.lexical import Terms
from index.store import ChromaIndex
from index.tokenize import TOKENIZER_VERSION

log = logging.getLogger(__name__)

FORMAT = 1
_DOCUMENTS = TypeAdapter(list[Document])
_SENTENCES = TypeAdapter(list[Sentence])


def snapshot_path(data_dir: Path, collection: str) -> Path:
    return Path(data_dir) / "catalog-cache" / f"{collection}.npz"


def _identity(index: ChromaIndex) -> dict:
    """What a snapshot must match besides the revision: a recreated collection gets a new ID."""
    return {"format": FORMAT, "tokenizer": TOKENIZER_VERSION, "collection": index.name, "collection_id": str(index.sentences.id)}


def _bytes(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype=np.uint8).tobytes()


class _Restored:
    """A snapshot's sentences with their tokens, for `Catalog(known=...)`."""

    def __init__(self, sentences: list[Sentence], terms: Terms) -> None:
        if len(sentences) != len(terms):
            raise ValueError(f"{len(sentences)} sentences but tokens for {len(terms)}")
        self.sentences, self.terms = sentences, terms
        self._position = {s.id: i for i, s in enumerate(sentences)}

    def position(self, sentence_id: str) -> int | None:
        return self._position.get(sentence_id)

    def at(self, position: int) -> Sentence:
        return self.sentences[position]


def read_snapshot(path: Path, index: ChromaIndex) -> tuple[Catalog, int] | None:
    """The stored catalog and its revision; None if there is none for this collection, or it cannot be used."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(_bytes(archive["header"]))
            if {key: header.get(key) for key in _identity(index)} != _identity(index):
                log.info("catalog snapshot %s is for another collection, format or tokenizer: not used", path)
                return None
            documents = _DOCUMENTS.validate_json(_bytes(archive["documents"]))
            hashes = json.loads(_bytes(archive["hashes"]))
            sentences = _SENTENCES.validate_json(_bytes(archive["sentences"]))
            vocabulary = json.loads(_bytes(archive["vocabulary"]))
            terms = Terms(vocabulary, archive["token_ids"], archive["token_starts"])
        if len(hashes) != len(documents) or not all(isinstance(v, str) for v in vocabulary):
            raise ValueError("inconsistent documents or vocabulary")
        restored = _Restored(sentences, terms)
        catalog = Catalog({d.id: d for d in documents}, sentences, dict(zip((d.id for d in documents), hashes)), known=restored)
        if len(catalog) != len(sentences):
            raise ValueError("sentences of documents the snapshot does not hold")
        return catalog, int(header["revision"])
    except FileNotFoundError:
        return None
    except Exception as error:  # anything at all: the snapshot is only ever a shortcut
        log.warning("catalog snapshot %s is unreadable (%s: %s): rebuilding the catalog from the index", path, type(error).__name__, error)
        return None


def write_snapshot(path: Path, catalog: Catalog, revision: int, index: ChromaIndex) -> bool:
    """Store `catalog` as the index at `revision` (its content must be no older); replaced whole or not at all."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        documents = list(catalog.documents.values())
        arrays = {
            "header": {**_identity(index), "revision": revision, "documents": len(documents), "sentences": len(catalog)},
            "documents": _DOCUMENTS.dump_json(documents),
            "hashes": [catalog.hashes[d.id] for d in documents],
            "sentences": _SENTENCES.dump_json(catalog.sentences),
            "vocabulary": catalog.terms.vocabulary,
        }
        encoded = {
            name: np.frombuffer(value if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False).encode(), dtype=np.uint8)
            for name, value in arrays.items()
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(path)
        with open(temporary, "wb") as out:
            np.savez(out, **encoded, token_ids=catalog.terms.ids, token_starts=catalog.terms.starts)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        return True
    except Exception as error:  # a full disk or a read-only data directory costs only the next open's speed
        log.warning("could not write the catalog snapshot %s: %s", path, error)
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        return False


def _remove_abandoned(path: Path, older_than_seconds: float = 600.0) -> None:
    """Temporary files of writers killed mid-write (a write takes about a second)."""
    now = time.time()
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if now - leftover.stat().st_mtime > older_than_seconds:
                leftover.unlink()


def open_catalog(index: ChromaIndex, path: Path, revision: int) -> Catalog:
    """The catalog of the index at `revision` (read by the caller before this call) or later."""
    with gc_paused():  # hundreds of thousands of new objects, no cycles (index/gc_pause.py)
        return _open_catalog(index, path, revision)


def _open_catalog(index: ChromaIndex, path: Path, revision: int) -> Catalog:
    stored = read_snapshot(path, index)
    if stored is not None and stored[1] == revision and index.settled_revision() == revision:
        return stored[0]
    if stored is None:
        catalog = Catalog.load(index)
    else:
        updated, removed = stored[0].refreshed(index)
        catalog = stored[0].changed(updated, removed)
    if index.settled_revision() == revision:  # else a writer is at work, and will write a newer one
        write_snapshot(path, catalog, revision, index)
    return catalog
