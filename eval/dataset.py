"""The hand-written evaluation set: schema, loader, and the check against the live corpus.

Each JSONL line is one `GoldItem`. Loading validates every line and fails on the
first bad one with the file, line number and field, so a reviewer editing the
file by hand knows exactly what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from index.documents import Language, Sentence
from qa.types import ChatTurn

DATA_DIR = Path(__file__).resolve().parent / "data"
JDM_GOLD_PATH = DATA_DIR / "jdm_gold.jsonl"

Category = Literal[
    "english",
    "chinese",
    "cross_lingual",
    "paraphrase",
    "multi_sentence",
    "metadata",
    "follow_up",
    "keyword",
    "typo",
    "unanswerable",
    "false_premise",
]
# Categories whose questions the source cannot answer by construction.
UNANSWERABLE_CATEGORIES: frozenset[str] = frozenset({"unanswerable", "false_premise"})


class DatasetError(ValueError):
    """An evaluation file that cannot be used; the message names the file, line and fix."""


def validation_problems(error: ValidationError) -> str:
    """A record's validation errors as one line for a `DatasetError`: `field: message; ...`."""
    return "; ".join(f"{'.'.join(str(part) for part in problem['loc']) or 'item'}: {problem['msg']}" for problem in error.errors())


Record = TypeVar("Record", bound=BaseModel)


def read_records(path: Path, model: type[Record], what: str, unreadable: str, key: str) -> Iterator[tuple[int, Record]]:
    """Each non-blank line of a JSON-lines file validated as `model`, with its line number; a
    `DatasetError` names the file (`unreadable` says what it is and how to restore it) or the
    first bad line: not JSON, an invalid `what`, or a `key` field already used. Lines end at
    a newline only: JSON strings may hold U+2028, which `str.splitlines` would also split at."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as error:
        raise DatasetError(f"{path}: cannot read {unreadable.format(reason=error.strerror)}") from error
    first_line_of: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = model.model_validate(json.loads(line))
        except json.JSONDecodeError as error:
            raise DatasetError(f"{path}:{number}: not valid JSON ({error.msg} at column {error.colno}).") from error
        except ValidationError as error:
            raise DatasetError(f"{path}:{number}: invalid {what} ({validation_problems(error)}).") from error
        value = getattr(record, key)
        if value in first_line_of:
            raise DatasetError(f"{path}:{number}: duplicate {key} {value!r} (first used on line {first_line_of[value]}).")
        first_line_of[value] = number
        yield number, record


class SentenceRef(BaseModel):
    """A source sentence by stable ID, with its text beside it for human review."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sentence_id: str = Field(min_length=1)
    text: str = Field(min_length=1)


class GoldItem(BaseModel):
    """One evaluation question with its gold evidence and the facts a correct answer contains."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+-\d{3}$", description="`<set>-<nnn>`, unique in the file.")
    category: Category
    language: Language = Field(description="Language the question is mainly written in.")
    question: str = Field(min_length=1)
    history: list[ChatTurn] = Field(default_factory=list, description="Earlier turns a follow-up depends on.")
    answerable: bool
    gold: list[list[SentenceRef]] = Field(
        default_factory=list,
        description="Evidence groups; every group is needed, any one sentence of a group suffices "
        "(an English sentence and its Chinese translation form one group).",
    )
    also_relevant: list[SentenceRef] = Field(
        default_factory=list,
        description="Sentences that are fair to cite but not needed; citing them is not counted as an error.",
    )
    key_facts: list[list[str]] = Field(
        default_factory=list,
        description="Facts a correct answer contains; each is a list of acceptable wordings (any language).",
    )
    notes: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> GoldItem:
        if self.answerable:
            if not self.gold or not self.key_facts:
                raise ValueError("an answerable item needs at least one `gold` group and one `key_facts` entry")
            if self.category in UNANSWERABLE_CATEGORIES:
                raise ValueError(f"category {self.category!r} is for unanswerable items; set answerable to false")
        elif self.gold or self.key_facts:
            raise ValueError("an unanswerable item has no `gold` or `key_facts`; put related sentences in `notes`")
        if any(not group for group in self.gold):
            raise ValueError("`gold` contains an empty group; remove it")
        if any(not fact or any(not alias.strip() for alias in fact) for fact in self.key_facts):
            raise ValueError("`key_facts` contains an empty fact or wording")
        if (self.category == "follow_up") != bool(self.history):
            raise ValueError("`history` is required for category 'follow_up' and only for it")
        return self

    @property
    def gold_ids(self) -> list[frozenset[str]]:
        return [frozenset(ref.sentence_id for ref in group) for group in self.gold]

    @property
    def acceptable_ids(self) -> frozenset[str]:
        """Every sentence whose citation counts as correct: gold plus `also_relevant`."""
        ids = {ref.sentence_id for group in self.gold for ref in group}
        return frozenset(ids | {ref.sentence_id for ref in self.also_relevant})

    def sentence_refs(self) -> Iterable[SentenceRef]:
        for group in self.gold:
            yield from group
        yield from self.also_relevant


class GoldSet(BaseModel):
    name: str
    path: str
    items: list[GoldItem]


class EvalQuestion(BaseModel):
    """One question as the runner asks and scores it, whichever set it comes from.

    Sentence-level gold is empty where a set only knows the gold document (PubMedQA).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    category: str
    language: Language
    question: str
    history: list[ChatTurn] = Field(default_factory=list)
    answerable: bool
    gold_sentences: list[frozenset[str]] = Field(default_factory=list)
    acceptable_sentences: frozenset[str] = frozenset()
    gold_documents: list[frozenset[str]] = Field(default_factory=list)
    key_facts: list[list[str]] = Field(default_factory=list)
    answers: list[str] = Field(
        default_factory=list,
        description="Accepted answer texts (SQuAD-format sets): a ranked or cited unit of a gold document "
        "that contains one is a hit.",
    )
    split: Literal["fit", "test"] | None = Field(None, description="Which half of a SQuAD-format set it belongs to.")

    @classmethod
    def from_gold(cls, item: GoldItem, doc_id: str) -> EvalQuestion:
        return cls(
            id=item.id,
            category=item.category,
            language=item.language,
            question=item.question,
            history=item.history,
            answerable=item.answerable,
            gold_sentences=item.gold_ids,
            acceptable_sentences=item.acceptable_ids,
            gold_documents=[frozenset({doc_id})] if item.answerable else [],
            key_facts=item.key_facts,
        )


def load_gold_set(path: Path = JDM_GOLD_PATH, name: str = "jdm") -> GoldSet:
    """Read and validate a gold JSONL file; raise `DatasetError` naming the first bad line."""
    items = [item for _, item in read_records(path, GoldItem, "item", "the evaluation set ({reason}).", key="id")]
    if not items:
        raise DatasetError(f"{path}: the evaluation set is empty.")
    return GoldSet(name=name, path=str(path), items=items)


def corpus_mismatches(items: Sequence[GoldItem], sentences: Sequence[Sentence]) -> list[str]:
    """Gold references that no longer match the split corpus, one message per problem.

    Sentence IDs embed a hash of the text, so a changed splitter or corpus shows up
    here rather than as silently wrong metrics.
    """
    by_id = {sentence.id: sentence for sentence in sentences}
    problems = []
    for item in items:
        for ref in item.sentence_refs():
            sentence = by_id.get(ref.sentence_id)
            if sentence is None:
                problems.append(f"{item.id}: unknown sentence id {ref.sentence_id!r}; re-split the corpus and update it")
            elif sentence.text != ref.text:
                problems.append(f"{item.id}: text beside {ref.sentence_id!r} differs from the corpus sentence")
    return problems
