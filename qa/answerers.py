"""The contract between retrieval and answering.

Retrieval (one path, used by `Assistant.ask`, `Assistant.retrieve`, `as_retriever()` and the
evaluation alike) produces a `Retrieval`: the ranked evidence with calibrated relevance and the
answer/abstain decision. An `Answerer` turns it into a typed `Answer`. The extractive answerer
(default, no model) and the generative one (an LLM, verified sentence by sentence) both sit
behind this Protocol and are chosen by `Settings.answerer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from index.documents import Language, Sentence
from qa.types import Answer


@dataclass(frozen=True)
class Evidence:
    """One candidate piece of evidence: a sentence, its translation if linked, and its relevance."""

    sentence: Sentence
    parallel: Sentence | None
    relevance: float
    """Calibrated probability that this sentence answers the question (0..1)."""
    required: bool = False
    """The best evidence for one part of a multi-part question: an answer should use it."""


@dataclass(frozen=True)
class Retrieval:
    question: str
    """The question as asked."""
    standalone: str
    """The question as searched, after folding in the conversation when it is a follow-up."""
    language: Language
    """Language of the question: the answer's framing follows it."""
    evidence: list[Evidence]
    """Candidates, most relevant first."""
    answerable: bool
    """The calibrated decision: False means the sources do not hold the answer, so abstain."""
    confidence: float | None = None
    """The gate's probability behind that decision (`Ranking.answerable`); None where none was computed."""


class Answerer(Protocol):
    name: str

    def answer(self, retrieval: Retrieval) -> Answer:
        """The final answer; an abstention (`Answer.abstained`) when `retrieval.answerable` is False."""
        ...


class StreamingAnswerer(Answerer, Protocol):
    def stream(self, retrieval: Retrieval) -> Iterator[str | Answer]:
        """Draft text chunks as they are produced, then the final verified `Answer` last."""
        ...
