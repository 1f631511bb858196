"""Documents and questions written for citeqa (`eval/data/written_documents.jsonl`).

The dev sets' questions were written by a few annotators about a few sources (20 Wikipedia
articles, Chinese Wikipedia passages, PubMedQA abstracts), and the cross-encoder learns those
sources as much as the task. These are original short documents (articles, reports, minutes,
guides, field notes) in English and Chinese on many subjects, each with questions of four kinds:
naming their subject, paraphrasing the answering sentence in other words, asked in the other
language, and on-topic questions the document does not answer. They train the cross-encoder
(four fifths of the documents) and are a held-out test (the other fifth): `eval.fit_relevance.corpora`.
See eval/data/README.md for how they were written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from eval.dataset import DATA_DIR, DatasetError, read_records
from index.documents import Document

WRITTEN_DOCUMENTS_PATH = DATA_DIR / "written_documents.jsonl"


class WrittenQuestion(BaseModel):
    """One question about a written document; `answer` is an exact piece of one of its sentences,
    empty when the document does not answer the question."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["named", "paraphrase", "across", "unanswerable"]
    language: Literal["en", "zh"]
    question: str = Field(min_length=1)
    answer: str

    @model_validator(mode="after")
    def _answer_matches_kind(self) -> WrittenQuestion:
        if (self.kind == "unanswerable") != (not self.answer):
            raise ValueError("an unanswerable question has an empty answer, every other kind a non-empty one")
        return self


class WrittenDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^wd-\d+-\d+$")
    language: Literal["en", "zh"]
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    questions: list[WrittenQuestion] = Field(min_length=1)

    def document(self) -> Document:
        return Document(id=self.id, text=self.text, title=self.title, source=f"written for citeqa ({self.id})", extra={"dataset": "citeqa-written"})


def load_written_documents(path: Path = WRITTEN_DOCUMENTS_PATH) -> list[WrittenDocument]:
    """Read and validate the file; raise `DatasetError` naming the first bad line. Each answer
    must occur exactly once in its document, so a sentence holding it is the one that answers."""
    documents: list[WrittenDocument] = []
    unreadable = f"the written documents ({{reason}}); restore them with `git checkout -- {path.name}`."
    for number, document in read_records(path, WrittenDocument, "written document", unreadable, key="id"):
        for question in document.questions:
            occurrences = document.text.count(question.answer) if question.answer else 1
            if occurrences != 1:
                raise DatasetError(
                    f"{path}:{number}: the answer {question.answer!r} to {question.question!r} occurs "
                    f"{occurrences} times in {document.id} (exactly once expected)."
                )
        documents.append(document)
    if not documents:
        raise DatasetError(f"{path}: no written documents.")
    return documents
