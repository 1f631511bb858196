"""The two records everything else passes around: a source document and one of its sentences."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["en", "zh"]
SentenceKind = Literal["metadata", "body"]


class Document(BaseModel):
    """A source document as indexed: its full text is what citation offsets point into."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable document ID (file stem, JSONL `id`, or the bundled corpus name).")
    text: str = Field(description="The full text; every sentence is text[start:end].")
    title: str = ""
    source: str = Field("", description="Where the text came from: a file path, or 'bundled'.")
    authors: tuple[str, ...] = ()
    affiliation: str | None = None
    journal: str | None = None
    year: int | None = None
    doi: str | None = None
    metadata_lines: int = Field(0, description="How many leading lines are bibliographic metadata.")
    extra: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Hash of everything that shapes the indexed sentences; unchanged hash means re-ingest is a no-op."""
        payload = self.model_dump_json(exclude={"source"})
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def doi_url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None


class Sentence(BaseModel):
    """One citable sentence with its exact position in its document."""

    model_config = ConfigDict(frozen=True)

    id: str
    doc_id: str
    ordinal: int = Field(description="Position of the sentence in its document, from 0.")
    text: str
    start: int
    end: int
    language: Language
    kind: SentenceKind = "body"
    parallel_id: str | None = Field(None, description="The sentence this one translates, or is translated by.")
    section: str = Field("", description="The heading above the sentence (for a table row, also its column names); "
                         "for a header line its role (Authors, Affiliation, Citation).")

    @property
    def embedding_text(self) -> str:
        """What the embedder reads: the sentence in its section, so a row or a header line carries its context."""
        return f"{self.section}: {self.text}" if self.section else self.text

    @staticmethod
    def make_id(doc_id: str, ordinal: int, text: str) -> str:
        """Same document, position and text give the same ID on every ingest."""
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
        return f"{doc_id}:{ordinal:04d}:{digest}"
