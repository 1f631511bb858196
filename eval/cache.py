"""Where an evaluation run keeps what it can reuse: indexes and sentence vectors, keyed by content.

Embedding a corpus is most of a run's cost; the query side is cheap. Each set is
therefore indexed once into a directory whose name is a digest of everything
that shapes the index: the set and its documents, the embedding model, and the
source of the `index` package (splitting, ingest, store). Change any of them and
the next run builds a fresh index beside the old one; change none and the
idempotent ingest finds every document already there.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import index
from index.documents import Document

CACHE_ENV = "CITEQA_EVAL_CACHE"


def cache_root() -> Path:
    """`$CITEQA_EVAL_CACHE`, else ~/.cache/citeqa/eval."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "citeqa" / "eval"


def _index_code_digest() -> str:
    package = Path(index.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def corpus_key(set_label: str, documents: Sequence[Document], model_label: str) -> str:
    """A readable, content-addressed directory name: `<set label>-<model>-<digest>`."""
    digest = hashlib.sha256()
    for part in (set_label, model_label, _index_code_digest(), *sorted(d.content_hash for d in documents)):
        digest.update(part.encode())
        digest.update(b"\0")
    model = "".join(c if c.isalnum() else "-" for c in model_label.casefold()).strip("-")[:40]
    return f"{set_label}-{model}-{digest.hexdigest()[:16]}"


def corpus_dir(set_label: str, documents: Sequence[Document], model_label: str) -> Path:
    return cache_root() / corpus_key(set_label, documents, model_label)
