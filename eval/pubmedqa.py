"""The PubMedQA set: 500 expert-labelled abstracts as a corpus, their questions as queries.

Each question's gold document is its own abstract, so the set measures retrieval
and citation at a realistic corpus size. Only the `contexts` (the abstract without
its conclusion) are indexed: the conclusion paraphrases the answer, and PubMedQA's
own reasoning-required setting leaves it out too. See data/ATTRIBUTION-pubmedqa.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eval.dataset import DATA_DIR, DatasetError, EvalQuestion, read_records, validation_problems
from index.documents import Document
from index.splitting import detect_language

PUBMEDQA_PATH = DATA_DIR / "pubmedqa_labeled_500.jsonl"
PAPER_QUESTIONS_PATH = DATA_DIR / "paper_questions.tsv"
# Written the same way about other abstracts, to train the cross-encoder (eval.fit_relevance.corpora).
WRITTEN_PAPER_QUESTIONS_PATH = DATA_DIR / "paper_questions_written.tsv"


class PubMedQARecord(BaseModel):
    """One line of pubmedqa_labeled_500.jsonl; unknown fields are kept out of the corpus."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    pmid: str = Field(pattern=r"^\d+$")
    question: str = Field(min_length=1)
    contexts: list[str] = Field(min_length=1)
    labels: list[str] = Field(default_factory=list)
    final_decision: Literal["yes", "no", "maybe"]
    year: str | None = None

    def document(self) -> Document:
        # Sections become paragraphs, so the splitter never joins two sections into one sentence.
        return Document(
            id=self.pmid,
            text="\n\n".join(section.strip() for section in self.contexts),
            title=f"PMID {self.pmid}",
            source=f"PubMedQA PMID {self.pmid}",
            year=int(self.year) if self.year and self.year.isdigit() else None,
            extra={"dataset": "PubMedQA", "final_decision": self.final_decision},
        )

    def eval_question(self) -> EvalQuestion:
        return EvalQuestion(
            id=f"pubmedqa-{self.pmid}",
            category="pubmedqa",
            language=detect_language(self.question),
            question=self.question,
            answerable=True,
            gold_documents=[frozenset({self.pmid})],
        )


def load_pubmedqa(path: Path = PUBMEDQA_PATH) -> list[PubMedQARecord]:
    """Read and validate the PubMedQA file; raise `DatasetError` naming the first bad line."""
    unreadable = f"the PubMedQA set ({{reason}}); restore it with `git checkout -- {path.name}`."
    records = [record for _, record in read_records(path, PubMedQARecord, "PubMedQA record", unreadable, key="pmid")]
    if not records:
        raise DatasetError(f"{path}: the PubMedQA set is empty.")
    return records


class PaperQuestion(BaseModel):
    """A question written about one abstract as a reader asks about the paper in front of them
    (eval/data/paper_questions.tsv): asked within that abstract only. `answer` is an exact piece of
    the abstract that answers it; empty when the abstract does not answer it."""

    model_config = ConfigDict(frozen=True)

    pmid: str = Field(pattern=r"^\d+$")
    language: Literal["en", "zh"]
    question: str = Field(min_length=1)
    answer: str


def load_paper_questions(records: list[PubMedQARecord], path: Path = PAPER_QUESTIONS_PATH) -> list[PaperQuestion]:
    """Read the written questions; raise `DatasetError` naming a line whose abstract is not in
    `records` or does not contain its answer."""
    abstracts = {r.pmid: r.document().text for r in records}
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise DatasetError(f"{path}:{number}: expected 4 tab-separated fields (pmid, language, question, answer), got {len(fields)}.")
        try:
            question = PaperQuestion(**dict(zip(("pmid", "language", "question", "answer"), fields)))
        except ValidationError as error:
            raise DatasetError(f"{path}:{number}: invalid question ({validation_problems(error)}).") from error
        if question.pmid not in abstracts:
            raise DatasetError(f"{path}:{number}: PMID {question.pmid} is not in the PubMedQA set.")
        if question.answer not in abstracts[question.pmid]:
            raise DatasetError(f"{path}:{number}: the answer {question.answer!r} is not in abstract {question.pmid}.")
        questions.append(question)
    return questions
