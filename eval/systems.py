"""The systems under evaluation behind one interface, so every row is scored the same way.

A system answers an `EvalQuestion` with a `SystemResponse`: the answer text, its
passages (each claim with the [n] markers that cite it), what each marker points
at (resolved to source sentence IDs and text), and its own ranking of sentences
and documents for the retrieval metrics. Passages come from the system's own
structure rather than from parsing the text, because source text can itself
contain bracketed numbers such as reference markers "[12]".
"""

from __future__ import annotations

import time
from typing import Protocol

from pydantic import BaseModel, Field, model_validator

from eval.dataset import EvalQuestion
from eval.metrics import Statement, unbacked_sentences
from qa import Answer, Assistant
from qa.types import AnswerSentence


class CitedSource(BaseModel):
    """What one [n] marker points at: a sentence (citeqa) or a chunk of several sentences (baseline)."""

    marker: int
    doc_id: str
    sentence_ids: list[str]
    text: str
    parallel_of: int | None = None


class Passage(BaseModel):
    """One claim of the answer and the markers that cite it."""

    text: str
    markers: list[int]


class RankedUnit(BaseModel):
    """One entry of a system's ranking as text: a sentence, or a chunk for a chunk-level system."""

    doc_id: str
    text: str


class SystemResponse(BaseModel):
    text: str
    abstained: bool
    passages: list[Passage]
    citations: list[CitedSource]
    searched_as: str
    ranked_sentences: list[str]
    ranked_documents: list[str]
    ranked_units: list[RankedUnit] = Field(
        default_factory=list, description="The ranking as text, best first, for answer-containment hits."
    )
    latency_ms: float
    unbacked_sentences: int = Field(0, description="Shown sentences lacking a verbatim-quote-backed citation (eval.metrics.unbacked_sentences).")
    fallback: str = Field("", description="Why a generative answerer showed the extractive answer instead.")
    written: list[AnswerSentence] = Field(
        default_factory=list, description="A generative answer's sentences as its model wrote them, shown or dropped and why."
    )

    @model_validator(mode="after")
    def _markers_resolve(self) -> SystemResponse:
        known = {citation.marker for citation in self.citations}
        for passage in self.passages:
            unknown = set(passage.markers) - known
            if unknown:
                raise ValueError(f"passage {passage.text[:40]!r} cites {sorted(unknown)} but no citation has that marker")
        return self

    @property
    def cited_sentences(self) -> list[str]:
        """Cited sentence IDs in citation order, each once."""
        return list(dict.fromkeys(s for citation in self.citations for s in citation.sentence_ids))

    @property
    def cited_documents(self) -> list[str]:
        return [citation.doc_id for citation in self.citations]

    def statements(self) -> list[Statement]:
        """The answer's claims with their cited evidence; a translation cited beside its original joins its unit."""
        by_marker = {citation.marker: citation for citation in self.citations}
        statements = []
        for passage in self.passages:
            units: dict[int, list[str]] = {}
            for marker in passage.markers:
                citation = by_marker[marker]
                root = citation.parallel_of if citation.parallel_of in passage.markers else marker
                units.setdefault(root, []).append(citation.text)
            statements.append(Statement(passage.text, tuple(tuple(texts) for texts in units.values())))
        return statements


class System(Protocol):
    name: str

    def respond(self, question: EvalQuestion, depth: int) -> SystemResponse:
        """Answer the question, and rank at least `depth` sentences for the retrieval metrics."""
        ...

    def describe(self) -> dict[str, str | int]:
        """How the system is set up, for the report."""
        ...


class CiteqaSystem:
    """citeqa itself: `Assistant.ask` for the answer, `Assistant.retrieve` for the ranking."""

    def __init__(self, assistant: Assistant, name: str = "citeqa") -> None:
        self.assistant = assistant
        self.name = name

    def describe(self) -> dict[str, str | int]:
        return {
            "answerer": self.assistant.settings.answerer,
            **({"model": _model(self.assistant)} if self.assistant.generative is not None else {}),
            "history": "folded into a standalone question by the assistant",
        }

    def respond(self, question: EvalQuestion, depth: int) -> SystemResponse:
        started = time.perf_counter()
        answer = self.assistant.ask(question.question, question.history)
        latency_ms = (time.perf_counter() - started) * 1000
        # Rank with the question as the assistant searched it, so follow-ups are judged fairly.
        hits = self.assistant.retrieve(answer.standalone_question or question.question, top_k=depth)
        return SystemResponse(
            text=answer.text,
            abstained=answer.abstained,
            passages=_passages(answer),
            citations=_citations(answer),
            searched_as=answer.standalone_question,
            ranked_sentences=[hit.sentence_id for hit in hits],
            ranked_documents=list(dict.fromkeys(hit.sentence.doc_id for hit in hits)),
            ranked_units=[RankedUnit(doc_id=hit.sentence.doc_id, text=hit.sentence.text) for hit in hits],
            latency_ms=latency_ms,
            unbacked_sentences=unbacked_sentences(_quoted(answer)),
            fallback=answer.fallback,
            written=answer.sentences,
        )


def _model(assistant: Assistant) -> str:
    from qa.llm import describe

    return describe(assistant.settings)


def _quoted(answer: Answer) -> list[list[tuple[list[str], str]]]:
    """Each shown answer sentence as (its quotes, cited sentence text) per cited original sentence."""
    by_marker = {c.marker: c for c in answer.citations}
    if not answer.sentences or answer.fallback:  # the extractive answer: each passage quotes its citation
        return [[([c.quote or c.text], c.text)] for c in answer.citations if c.parallel_of is None]
    shown = [s for s in answer.sentences if s.verdict == "shown"]
    return [
        [
            ([q.quote for q in s.quotes if q.sentence_id == by_marker[m].sentence_id], by_marker[m].text)
            for m in s.markers
            if m in by_marker and by_marker[m].parallel_of is None
        ]
        for s in shown
    ]


def _passages(answer: Answer) -> list[Passage]:
    """A written answer's shown sentences with their markers; for quotes, each quoted passage: an
    original citation's quote, cited by its marker and its translations' markers."""
    if answer.sentences and not answer.fallback:
        return [Passage(text=s.text, markers=s.markers) for s in answer.sentences if s.verdict == "shown"]
    return [
        Passage(
            text=citation.quote or citation.text,
            markers=[citation.marker] + [c.marker for c in answer.citations if c.parallel_of == citation.marker],
        )
        for citation in answer.citations
        if citation.parallel_of is None
    ]


def _citations(answer: Answer) -> list[CitedSource]:
    return [
        CitedSource(
            marker=c.marker,
            doc_id=c.doc_id,
            sentence_ids=[c.sentence_id],
            text=c.text,
            parallel_of=c.parallel_of,
        )
        for c in answer.citations
    ]
