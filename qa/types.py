"""Typed public results of the assistant: answers, citations, related sentences."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from index.documents import Language


class QuestionError(ValueError):
    """The question itself is unusable (empty, or too long)."""


class Citation(BaseModel):
    """One cited source sentence; `document(doc_id).text[start:end] == text`."""

    marker: int = Field(description="The n of the [n] marker in the answer text.")
    sentence_id: str
    doc_id: str
    text: str = Field(description="The whole cited sentence, verbatim.")
    start: int
    end: int
    score: float = Field(description="Relevance of the sentence to the question, 0..1.")
    language: Language
    quote: str = Field("", description="The verbatim part of the sentence the answer quotes (may be the whole sentence).")
    parallel_of: int | None = Field(None, description="Marker of the citation this one translates, if it is a parallel sentence.")
    page: int | None = Field(None, description="Page (from 1) of a paged source such as a PDF; None otherwise.")


class RelatedSentence(BaseModel):
    """A nearby sentence shown when the assistant abstains; not evidence for any claim."""

    sentence_id: str
    doc_id: str
    text: str
    start: int
    end: int
    score: float
    language: Language


class Answer(BaseModel):
    question: str
    text: str = Field(description="The answer; each quoted passage is followed by its [n] marker(s).")
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    related: list[RelatedSentence] = Field(default_factory=list)
    language: Language = Field(description="Language of the question, and so of the answer's framing.")
    standalone_question: str = Field("", description="The question as searched, after folding in the conversation history.")
    prompt_version: str = ""
    answerer: str = "extractive"
    latency_ms: float = 0.0


class ChatTurn(BaseModel):
    """One message of a conversation passed as `history`."""

    role: Literal["user", "assistant"]
    content: str
