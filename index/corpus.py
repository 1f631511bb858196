"""The bundled default corpus: a 2025 review abstract on juvenile dermatomyositis treatment."""

from __future__ import annotations

from pathlib import Path

from index.documents import Document
from index.loaders import load_text_file

BUNDLED_CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
BUNDLED_DOCUMENT_ID = "jdm_treatment_review"


def bundled_corpus_paths() -> list[Path]:
    return sorted(BUNDLED_CORPUS_DIR.glob("*.txt"))


def bundled_document() -> Document:
    path = BUNDLED_CORPUS_DIR / f"{BUNDLED_DOCUMENT_ID}.txt"
    # The file carries no article title; this label says what the document is, not what it is called.
    label = "Review abstract: treatment of juvenile dermatomyositis (English + Chinese)"
    return load_text_file(path).model_copy(update={"source": "bundled", "title": label})
