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


class QuoteCheck(BaseModel):
    """One quote a generated answer sentence gives for one of its citations, as checked."""

    sentence_id: str | None = Field(description="The cited source sentence; None when the model used a marker it was not shown.")
    quote: str = Field(description="The quote as the model wrote it.")
    start: int | None = Field(None, description="Offset of the quote in the document, when it was found verbatim.")
    end: int | None = None


class AnswerSentence(BaseModel):
    """One sentence a generative answerer wrote, with what backs it and whether it is shown."""

    text: str = Field(description="The sentence without its markers.")
    markers: list[int] = Field(default_factory=list, description="Its [n] markers in `Answer.text`; empty when dropped.")
    quotes: list[QuoteCheck] = Field(default_factory=list)
    verdict: Literal["shown", "dropped"]
    reason: str = Field("", description="Why it was dropped (failed check and detail); empty when shown.")
    support: float | None = Field(None, description="The support judge's score, 0..1, when the judge was reached.")


class Answer(BaseModel):
    question: str
    text: str = Field(description="The answer; each quoted passage is followed by its [n] marker(s).")
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    related: list[RelatedSentence] = Field(default_factory=list)
    language: Language = Field(description="Language of the question, and so of the answer's framing.")
    confidence: float | None = Field(
        None,
        description="How sure the assistant is that the documents answer the question, 0..1: the fitted answer/abstain "
        "gate's probability (it answers above a per-language threshold). A citation's `score` instead ranks sentences "
        "against each other and runs low for a sentence in another language than the question.",
    )
    standalone_question: str = Field(
        "", description="The question as searched: after folding in the conversation history and correcting misspelt words."
    )
    prompt_version: str = ""
    answerer: str = "extractive"
    latency_ms: float = 0.0
    sentences: list[AnswerSentence] = Field(
        default_factory=list, description="Generative answers: every sentence the model wrote, shown or dropped, and why."
    )
    fallback: str = Field("", description="Why the generative answerer showed the extractive answer instead (empty if it did not).")
    notice: str = Field("", description="A note for the reader, e.g. that unsupported sentences were removed.")

    @property
    def searched_otherwise(self) -> str:
        """What was searched when it is not the question as typed (misspelt words corrected, or a
        follow-up joined to the question before it), else "": what the app and `qa ask` show."""
        return self.standalone_question if self.standalone_question and self.standalone_question != self.question else ""


class ChatTurn(BaseModel):
    """One message of a conversation passed as `history`."""

    role: Literal["user", "assistant"]
    content: str
