"""Evaluation sets built from SQuAD-format reading-comprehension data nobody tuned citeqa for.

`build_squad_set("xquad" | "cmrc", subset)` turns a SQuAD file into a corpus and a
question list with three categories, each question tagged with a `split`:

- **answerable**: the question's paragraph is indexed; any accepted answer text must
  appear in what the system ranks or cites.
- **on_topic_unanswerable**: the question is about its article, but the part of the
  article holding the answer was dropped from the index, and none of its accepted
  answer texts occurs anywhere in the indexed text (questions whose answer still
  occurs somewhere are left out: the corpus might answer them after all).
- **off_topic**: the question is about an article left out of the index entirely.

XQuAD (24 Wikipedia articles of 5 paragraphs, each in English and Chinese, sharing
question IDs): every article becomes one Document per language; the indexed text is
the article without its last paragraph; 4 articles are left out entirely. A question
is asked in both languages, and either language's answer text counts as its answer.

CMRC 2018 (848 single-passage Chinese Wikipedia articles): a passage is one
paragraph, so "drop the last paragraph" cannot apply. The closest honest analogue
is used instead: each indexed passage loses its last sentence (split at 。！？!?,
only when the passage has at least two), and questions whose answer lies in that
dropped sentence become on-topic unanswerable under the same "answer text nowhere in
the index" rule. One sixth of the articles (as in XQuAD's 4 of 24) are left out.

`split`: half of the indexed articles, and half of the left-out ones, chosen by a
stable hash of the article's key (XQuAD title, CMRC article ID: two CMRC titles are
empty), are "fit"; the rest are "test". Answer/abstain models are fitted on "fit"
questions only; reports default to "test". The corpus always holds every indexed
article of the subset, whatever split is scored.

`subset="ci"`: a few test-split articles only (XQuAD 5 indexed + 2 left out, CMRC
40 indexed + 8 left out), so the CI gate runs in minutes with a neural embedder.

Building is pure: it reads the bundled JSON files and returns typed records; it
loads no model and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eval.dataset import DATA_DIR, DatasetError
from eval.metrics import answer_in_text, normalize_for_match
from index.documents import Document, Language

SquadSetName = Literal["xquad", "cmrc"]
Subset = Literal["full", "ci"]
Split = Literal["fit", "test"]
SquadCategory = Literal["answerable", "on_topic_unanswerable", "off_topic"]

SQUAD_SET_NAMES: tuple[SquadSetName, ...] = ("xquad", "cmrc")
SUBSETS: tuple[Subset, ...] = ("full", "ci")
SPLITS: tuple[Split, ...] = ("fit", "test")

XQUAD_FILES: dict[Language, str] = {"en": "xquad.en.json", "zh": "xquad.zh.json"}
CMRC_FILE = "cmrc2018_dev.json"

XQUAD_LEFT_OUT = 4
CMRC_LEFT_OUT_SHARE = 1 / 6
# CI subsets: enough questions of each category to gate on, few enough sentences to embed in minutes.
CI_INDEXED = {"xquad": 5, "cmrc": 40}
CI_LEFT_OUT = {"xquad": 2, "cmrc": 8}

# Sentence ends for cutting CMRC passages: CJK and Latin terminators, with any closing quotes or brackets.
_SENTENCE_END = re.compile(r"[。！？!?]+[”’」』）)\"']*")


# --- the SQuAD file format -----------------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    text: str
    answer_start: int


class _QA(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answers: list[_Answer] = Field(min_length=1)


class _Paragraph(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    context: str = Field(min_length=1)
    qas: list[_QA]


class _Article(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    title: str = ""
    id: str | None = None
    paragraphs: list[_Paragraph] = Field(min_length=1)


class _SquadFile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    data: list[_Article] = Field(min_length=1)


def load_squad_file(path: Path) -> list[_Article]:
    """Read and validate a SQuAD-format JSON file; raise `DatasetError` naming the file and the problem."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DatasetError(
            f"{path}: cannot read the evaluation data ({error.strerror}); restore it with `git checkout -- {path}`."
        ) from error
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}).") from error
    try:
        return _SquadFile.model_validate(raw).data
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise DatasetError(f"{path}: not in SQuAD format at {where}: {problem['msg']}.") from error


# --- the typed set -------------------------------------------------------------------------


class SquadQuestion(BaseModel):
    """One question as asked, with what counts as its answer and where it comes from."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Unique in the set: the source question ID, plus the language for XQuAD.")
    source_id: str = Field(description="The question ID in the source file (shared by XQuAD's languages).")
    question: str
    language: Language
    category: SquadCategory
    answers: tuple[str, ...] = Field(description="Accepted answer texts, any language; one contained is a hit.")
    article: str = Field(description="Title of the question's article.")
    doc_ids: tuple[str, ...] = Field(description="The article's document IDs (one per language), indexed or not.")
    split: Split

    @property
    def answerable(self) -> bool:
        return self.category == "answerable"


class SquadArticleInfo(BaseModel):
    """How one article was used: indexed (minus its held-back part) or left out, and its split."""

    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    indexed: bool
    split: Split


class SquadSet(BaseModel):
    """A SQuAD-derived evaluation set: the documents to index and the questions to ask over them."""

    model_config = ConfigDict(frozen=True)

    name: SquadSetName
    subset: Subset
    sources: dict[str, str] = Field(description="Source file path -> its SHA-256.")
    documents: list[Document]
    questions: list[SquadQuestion]
    articles: list[SquadArticleInfo]
    excluded: int = Field(
        description="Questions on the held-back part whose answer text still occurs in the index, or whose "
        "answer crosses the cut; left out of every category."
    )

    def select(self, split: Split | Literal["all"]) -> list[SquadQuestion]:
        """The questions of one split, or all of them."""
        return [q for q in self.questions if split == "all" or q.split == split]


# --- construction --------------------------------------------------------------------------


def stable_hash(salt: str, key: str) -> str:
    """A hex digest that orders or buckets keys the same way on every machine and run."""
    return hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()


def _halves(keys: Sequence[str]) -> dict[str, Split]:
    """First half of the keys by stable hash is "fit", the rest "test" (an odd one out goes to "test")."""
    ordered = sorted(keys, key=lambda key: stable_hash("split", key))
    return {key: "fit" if rank < len(ordered) // 2 else "test" for rank, key in enumerate(ordered)}


def _choose(keys: Sequence[str], left_out: int, subset: Subset, name: SquadSetName) -> dict[str, tuple[bool, Split]]:
    """Each chosen article's key -> (indexed, split); the left-out ones picked by a stable hash."""
    ordered = sorted(keys, key=lambda key: stable_hash(f"{name}:left-out", key))
    out, kept = ordered[:left_out], ordered[left_out:]
    split = _halves(kept) | _halves(out)
    chosen = [(key, True) for key in kept] + [(key, False) for key in out]
    if subset == "ci":
        # The CI subset: the first test-split articles in stable order, so it never overlaps "fit".
        kept_ci = [key for key in sorted(kept, key=lambda k: stable_hash("ci", k)) if split[key] == "test"]
        out_ci = [key for key in sorted(out, key=lambda k: stable_hash("ci", k)) if split[key] == "test"]
        chosen = [(key, True) for key in kept_ci[: CI_INDEXED[name]]] + [(key, False) for key in out_ci[: CI_LEFT_OUT[name]]]
    return {key: (indexed, split[key]) for key, indexed in chosen}


def slug(title: str) -> str:
    """A document-ID-safe form of an article title."""
    return re.sub(r"[^0-9a-z]+", "-", title.casefold()).strip("-") or "untitled"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Candidate(BaseModel):
    """A question before the "answer nowhere in the index" rule is applied to the held-back ones."""

    question: SquadQuestion
    held_back: bool


def _classify(candidates: list[_Candidate], documents: list[Document]) -> tuple[list[SquadQuestion], int]:
    corpus = "\n".join(normalize_for_match(document.text) for document in documents)
    questions, excluded = [], 0
    for candidate in candidates:
        if candidate.held_back and any(answer_in_text(answer, corpus, normalized=True) for answer in candidate.question.answers):
            excluded += 1
            continue
        questions.append(candidate.question)
    return questions, excluded


def _xquad(subset: Subset, data_dir: Path) -> SquadSet:
    paths = {language: data_dir / name for language, name in XQUAD_FILES.items()}
    files = {language: load_squad_file(path) for language, path in paths.items()}
    en, zh = files["en"], files["zh"]
    if [a.title for a in en] != [a.title for a in zh] or any(
        len(a.paragraphs) != len(b.paragraphs) for a, b in zip(en, zh, strict=True)
    ):
        raise DatasetError(f"{paths['en']} and {paths['zh']} do not hold the same articles and paragraphs.")
    chosen = _choose([a.title for a in en], XQUAD_LEFT_OUT, subset, "xquad")
    documents: list[Document] = []
    candidates: list[_Candidate] = []
    articles: list[SquadArticleInfo] = []
    for index, title in enumerate(a.title for a in en):
        if title not in chosen:
            continue
        indexed, split = chosen[title]
        articles.append(SquadArticleInfo(key=title, title=title, indexed=indexed, split=split))
        doc_ids = tuple(f"xquad-{language}-{slug(title)}" for language in files)
        # Either language's answer text counts: a Chinese question answered by the English sentence is a hit.
        answers_of: dict[str, list[str]] = {}
        for language in files:
            for paragraph in files[language][index].paragraphs:
                for qa in paragraph.qas:
                    answers_of.setdefault(qa.id, []).extend(a.text for a in qa.answers)
        for language, doc_id in zip(files, doc_ids, strict=True):
            paragraphs = files[language][index].paragraphs
            if indexed:
                documents.append(
                    Document(
                        id=doc_id,
                        text="\n\n".join(p.context.strip() for p in paragraphs[:-1]),
                        title=title.replace("_", " "),
                        source=f"XQuAD {language} · {title}",
                        extra={"dataset": "XQuAD"},
                    )
                )
            for number, paragraph in enumerate(paragraphs):
                last = number == len(paragraphs) - 1
                category: SquadCategory = "off_topic" if not indexed else ("on_topic_unanswerable" if last else "answerable")
                for qa in paragraph.qas:
                    question = SquadQuestion(
                        id=f"{qa.id}-{language}",
                        source_id=qa.id,
                        question=qa.question,
                        language=language,
                        category=category,
                        answers=tuple(dict.fromkeys(text.strip() for text in answers_of[qa.id] if text.strip())),
                        article=title,
                        doc_ids=doc_ids,
                        split=split,
                    )
                    candidates.append(_Candidate(question=question, held_back=category == "on_topic_unanswerable"))
    questions, excluded = _classify(candidates, documents)
    return SquadSet(
        name="xquad",
        subset=subset,
        sources={str(path): _sha256(path) for path in paths.values()},
        documents=documents,
        questions=questions,
        articles=articles,
        excluded=excluded,
    )


def cut_last_sentence(context: str) -> int | None:
    """Where a passage's last sentence starts, or None when it has fewer than two sentences."""
    ends = [match.end() for match in _SENTENCE_END.finditer(context) if context[match.end() :].strip()]
    return ends[-1] if ends else None


def _answer_span(context: str, answer: _Answer) -> tuple[int, int] | None:
    """The answer's offsets, trusting `answer_start` only when it points at the text."""
    start = answer.answer_start
    if not (0 <= start and context[start : start + len(answer.text)] == answer.text):
        start = context.find(answer.text)
    return (start, start + len(answer.text)) if start >= 0 else None


def _cmrc(subset: Subset, data_dir: Path) -> SquadSet:
    path = data_dir / CMRC_FILE
    raw = load_squad_file(path)
    by_key: dict[str, _Article] = {}
    for number, article in enumerate(raw):
        key = article.id or f"article-{number}"
        if key in by_key:
            raise DatasetError(f"{path}: duplicate article id {key!r}.")
        by_key[key] = article
    chosen = _choose(list(by_key), round(len(by_key) * CMRC_LEFT_OUT_SHARE), subset, "cmrc")
    documents: list[Document] = []
    candidates: list[_Candidate] = []
    articles: list[SquadArticleInfo] = []
    excluded = 0
    for key, article in by_key.items():
        if key not in chosen:
            continue
        indexed, split = chosen[key]
        title = article.title or key
        articles.append(SquadArticleInfo(key=key, title=title, indexed=indexed, split=split))
        doc_id = f"cmrc-{slug(key)}"
        paragraphs = article.paragraphs
        cuts = [cut_last_sentence(p.context) if indexed else None for p in paragraphs]
        if indexed:
            kept = [p.context[:cut] if cut is not None else p.context for p, cut in zip(paragraphs, cuts, strict=True)]
            documents.append(
                Document(
                    id=doc_id,
                    text="\n\n".join(text.strip() for text in kept),
                    title=title,
                    source=f"CMRC 2018 {key}",
                    extra={"dataset": "CMRC 2018"},
                )
            )
        for paragraph, cut in zip(paragraphs, cuts, strict=True):
            for qa in paragraph.qas:
                answers = tuple(dict.fromkeys(a.text.strip() for a in qa.answers if a.text.strip()))
                span = _answer_span(paragraph.context, qa.answers[0])
                if not indexed:
                    category: SquadCategory = "off_topic"
                elif cut is None or (span is not None and span[1] <= cut):
                    category = "answerable"
                elif span is not None and span[0] >= cut:
                    category = "on_topic_unanswerable"
                else:
                    excluded += 1  # the answer crosses the cut, or cannot be located: neither category is honest
                    continue
                question = SquadQuestion(
                    id=qa.id,
                    source_id=qa.id,
                    question=qa.question,
                    language="zh",
                    category=category,
                    answers=answers,
                    article=title,
                    doc_ids=(doc_id,),
                    split=split,
                )
                candidates.append(_Candidate(question=question, held_back=category == "on_topic_unanswerable"))
    questions, held_back_excluded = _classify(candidates, documents)
    return SquadSet(
        name="cmrc",
        subset=subset,
        sources={str(path): _sha256(path)},
        documents=documents,
        questions=questions,
        articles=articles,
        excluded=excluded + held_back_excluded,
    )


def build_squad_set(name: SquadSetName, subset: Subset = "full", data_dir: Path = DATA_DIR) -> SquadSet:
    """The named set's documents and questions (see the module docstring for the construction).

    `data_dir` holds the source files under their published names (the bundled `eval/data` by default).
    """
    if name == "xquad":
        return _xquad(subset, data_dir)
    if name == "cmrc":
        return _cmrc(subset, data_dir)
    raise ValueError(f"unknown SQuAD-format set {name!r}; choose one of {', '.join(SQUAD_SET_NAMES)}")
