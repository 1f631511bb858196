"""Runs an evaluation set through each system and scores every item.

The runner owns the loop and the per-item scoring; the metric definitions live
in `eval.metrics`, the systems in `eval.systems` / `eval.baseline`, and the
rendering in `eval.report`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from tqdm import tqdm

from eval import metrics
from eval.dataset import JDM_GOLD_PATH, DatasetError, EvalQuestion, corpus_mismatches, load_gold_set
from eval.judge.base import SupportJudge
from eval.metrics import StatementJudgement
from eval.pubmedqa import PUBMEDQA_PATH, load_pubmedqa
from eval.squad import SQUAD_SET_NAMES, SquadQuestion, Subset, build_squad_set
from eval.systems import CitedSource, Passage, System, SystemResponse
from index.corpus import bundled_document
from index.documents import Document
from index.splitting import split_document
from qa.types import AnswerSentence, ChatTurn

SetName = Literal["jdm", "pubmedqa", "xquad", "cmrc"]
SET_NAMES: tuple[SetName, ...] = ("jdm", "pubmedqa", *SQUAD_SET_NAMES)
SplitChoice = Literal["fit", "test", "all"]
# Sentence-level cut-offs suit one short abstract; document-level ones a 500-abstract corpus.
SENTENCE_KS = (1, 3, 5)
DOCUMENT_KS = (1, 5, 10)
# Answer-containment cut-offs for the SQuAD-format sets: the first citation, and what a reader scans.
HIT_KS = (1, 3)


class EvalSet(BaseModel):
    """Questions, the corpus they are asked over, and at which level gold evidence is known."""

    name: SetName
    source: str
    source_sha256: str
    level: Literal["sentence", "document"]
    questions: list[EvalQuestion]
    documents: list[Document]
    variant: str = Field("", description="Which part of the set is asked (subset, split, sample), for the report.")
    answer_spans: bool = Field(False, description="Gold is accepted answer text (SQuAD-format sets), not sentence IDs.")

    @property
    def ks(self) -> tuple[int, ...]:
        return SENTENCE_KS if self.level == "sentence" else DOCUMENT_KS

    @property
    def languages(self) -> list[str]:
        return sorted({question.language for question in self.questions})


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def squad_question(question: SquadQuestion) -> EvalQuestion:
    return EvalQuestion(
        id=question.id,
        category=question.category,
        language=question.language,
        question=question.question,
        answerable=question.answerable,
        gold_documents=[frozenset(question.doc_ids)] if question.answerable else [],
        answers=list(question.answers),
        split=question.split,
    )


def _sample(questions: list[EvalQuestion], limit: int | None) -> list[EvalQuestion]:
    """A fixed sample of `limit` questions spread over the articles (stable hash of the ID), in set order."""
    if limit is None or limit >= len(questions):
        return questions
    keep = set(sorted((q.id for q in questions), key=lambda i: hashlib.sha256(i.encode()).hexdigest())[:limit])
    return [q for q in questions if q.id in keep]


def _load_squad(name: SetName, limit: int | None, subset: Subset, split: SplitChoice) -> EvalSet:
    squad = build_squad_set(name, subset)  # type: ignore[arg-type]  # name is one of SQUAD_SET_NAMES here
    questions = [squad_question(q) for q in squad.select(split)]
    if not questions:
        raise ValueError(f"{name} subset {subset} has no {split}-split questions (the ci subset holds test articles only)")
    sampled = _sample(questions, limit)
    indexed = sum(a.indexed for a in squad.articles)
    variant = (
        f"subset {subset} · split {split} · {indexed} indexed + {len(squad.articles) - indexed} left-out articles · "
        f"{squad.excluded} ambiguous questions excluded"
        + (f" · fixed sample of {len(sampled)} of {len(questions)} questions" if len(sampled) < len(questions) else "")
    )
    digest = hashlib.sha256("\n".join(f"{path} {sha}" for path, sha in squad.sources.items()).encode()).hexdigest()
    return EvalSet(
        name=name,
        source=", ".join(squad.sources),
        source_sha256=digest,
        level="sentence",
        questions=sampled,
        documents=squad.documents,
        variant=variant,
        answer_spans=True,
    )


def load_set(name: SetName, limit: int | None = None, subset: Subset = "full", split: SplitChoice = "test") -> EvalSet:
    """Load a named set; `limit` keeps N questions (the first N; a fixed spread sample for xquad/cmrc)
    but always the whole corpus. `subset` and `split` apply to the SQuAD-format sets only.
    """
    if name in SQUAD_SET_NAMES:
        return _load_squad(name, limit, subset, split)
    if subset != "full":
        raise ValueError(f"--subset {subset} applies to {', '.join(SQUAD_SET_NAMES)} only, not to {name}")
    if name == "jdm":
        gold = load_gold_set(JDM_GOLD_PATH)
        document = bundled_document()
        problems = corpus_mismatches(gold.items, split_document(document))
        if problems:
            raise DatasetError(
                f"{JDM_GOLD_PATH} no longer matches the bundled corpus ({len(problems)} problems; first: "
                f"{problems[0]}). Update the sentence IDs and texts in the gold file."
            )
        questions = [EvalQuestion.from_gold(item, document.id) for item in gold.items]
        return EvalSet(
            name=name,
            source=str(JDM_GOLD_PATH),
            source_sha256=_sha256(JDM_GOLD_PATH),
            level="sentence",
            questions=questions[:limit],
            documents=[document],
        )
    if name == "pubmedqa":
        records = load_pubmedqa(PUBMEDQA_PATH)
        return EvalSet(
            name=name,
            source=str(PUBMEDQA_PATH),
            source_sha256=_sha256(PUBMEDQA_PATH),
            level="document",
            questions=[record.eval_question() for record in records][:limit],
            documents=[record.document() for record in records],
        )
    raise ValueError(f"unknown evaluation set {name!r}; choose one of {', '.join(SET_NAMES)}")


class ItemMetrics(BaseModel):
    """Every per-item metric; None where it is undefined for this item."""

    recall_at: dict[int, float | None] = Field(description="Recall@k at the set's level (sentence or document).")
    mrr: float | None
    citation_precision: float | None
    citation_recall: float | None
    alce_citation_recall: float | None
    alce_citation_precision: float | None
    faithfulness: float | None
    answer_correctness: float | None
    hit_at: dict[int, float | None] = Field(
        default_factory=dict, description="Answer-containment hit@k on the ranking (SQuAD-format sets)."
    )
    cited_hit: float | None = Field(None, description="The first citation contains an answer (SQuAD-format sets).")
    quoted_hit: float | None = Field(None, description="The answer's lead passage, as shown, contains an answer (SQuAD-format sets).")


class ItemResult(BaseModel):
    id: str
    category: str
    language: str
    question: str
    history: list[ChatTurn]
    answerable: bool
    searched_as: str
    answer: str
    abstained: bool
    passages: list[Passage]
    citations: list[CitedSource]
    retrieved: list[str] = Field(description="The top of the system's ranking, at the set's level.")
    judgements: list[StatementJudgement]
    metrics: ItemMetrics
    latency_ms: float
    unbacked_sentences: int = 0
    fallback: str = ""
    written: list[AnswerSentence] = Field(default_factory=list, description="A generative answer's sentences, shown or dropped and why.")


class SystemRun(BaseModel):
    system: str
    items: list[ItemResult]


def score_item(
    question: EvalQuestion,
    response: SystemResponse,
    evalset: EvalSet,
    judge: SupportJudge,
    document_texts: dict[str, str],
) -> ItemResult:
    """Score one response against its question's gold; the judge decides support."""
    if evalset.level == "sentence":
        ranked, gold, cited = response.ranked_sentences, question.gold_sentences, response.cited_sentences
        acceptable = question.acceptable_sentences
    else:
        ranked, gold, cited = response.ranked_documents, question.gold_documents, response.cited_documents
        acceptable = frozenset().union(*gold) if gold else frozenset()
    # Hits are defined on answerable questions only; the article is the question's own documents.
    answers = question.answers if question.answerable else []
    article = frozenset().union(*question.gold_documents) if question.gold_documents else frozenset()
    ranked_units = [(unit.doc_id, unit.text) for unit in response.ranked_units]
    first = response.citations[0] if response.citations and not response.abstained else None
    context = [document_texts[doc_id] for doc_id in dict.fromkeys(response.cited_documents)]
    judgements = [metrics.judge_statement(s, context, judge) for s in response.statements()]
    item_metrics = ItemMetrics(
        recall_at={k: metrics.recall_at_k(ranked, gold, k) for k in evalset.ks},
        mrr=metrics.reciprocal_rank(ranked, gold),
        # Answer-span sets have no sentence-ID gold: precision against an empty set would read as 0.
        citation_precision=None if evalset.answer_spans else metrics.citation_precision(cited, acceptable),
        citation_recall=metrics.citation_recall(cited, gold),
        alce_citation_recall=metrics.alce_citation_recall(judgements),
        alce_citation_precision=metrics.alce_citation_precision(judgements),
        faithfulness=metrics.faithfulness(judgements),
        answer_correctness=metrics.answer_correctness(response.text, question.key_facts),
        hit_at={k: metrics.hit_at_k(ranked_units, article, answers, k) for k in HIT_KS} if evalset.answer_spans else {},
        cited_hit=metrics.cited_hit((first.doc_id, first.text) if first else None, article, answers)
        if evalset.answer_spans
        else None,
        quoted_hit=metrics.quoted_hit((first.doc_id, response.passages[0].text) if first and response.passages else None, article, answers)
        if evalset.answer_spans
        else None,
    )
    return ItemResult(
        id=question.id,
        category=question.category,
        language=question.language,
        question=question.question,
        history=question.history,
        answerable=question.answerable,
        searched_as=response.searched_as,
        answer=response.text,
        abstained=response.abstained,
        passages=response.passages,
        citations=response.citations,
        retrieved=ranked[: max(evalset.ks)],
        judgements=judgements,
        metrics=item_metrics,
        latency_ms=round(response.latency_ms, 1),
        unbacked_sentences=response.unbacked_sentences,
        fallback=response.fallback,
        written=response.written,
    )


def run_system(system: System, evalset: EvalSet, judge: SupportJudge, progress: bool = True) -> SystemRun:
    """Ask every question of the set, with a progress bar, and score each answer."""
    texts = {document.id: document.text for document in evalset.documents}
    # Deep enough that document-level recall@k sees k distinct abstracts.
    depth = max(evalset.ks) * (10 if evalset.level == "document" else 1)
    items = []
    for question in tqdm(evalset.questions, desc=f"{system.name} · {evalset.name}", unit="q", disable=not progress):
        response = system.respond(question, depth)
        items.append(score_item(question, response, evalset, judge, texts))
    return SystemRun(system=system.name, items=items)


class MetricValue(BaseModel):
    value: float | None
    n: int = Field(description="Items the metric is defined on.")


def summarize(run: SystemRun, evalset: EvalSet) -> dict[str, MetricValue]:
    """Set-level figures: item metrics averaged where defined; abstention and latency over all items."""
    items = run.items
    prefix = evalset.level
    summary: dict[str, MetricValue] = {}

    def add(name: str, values: Sequence[float | None]) -> None:
        value, n = metrics.mean_defined(values)
        if n:
            summary[name] = MetricValue(value=value, n=n)

    for k in evalset.ks:
        add(f"{prefix}_recall@{k}", [item.metrics.recall_at[k] for item in items])
    add(f"{prefix}_mrr", [item.metrics.mrr for item in items])
    add(f"{prefix}_citation_precision", [item.metrics.citation_precision for item in items])
    add(f"{prefix}_citation_recall", [item.metrics.citation_recall for item in items])
    add("alce_citation_recall", [item.metrics.alce_citation_recall for item in items])
    add("alce_citation_precision", [item.metrics.alce_citation_precision for item in items])
    add("faithfulness", [item.metrics.faithfulness for item in items])
    add("answer_correctness", [item.metrics.answer_correctness for item in items])
    abstention = metrics.abstention_scores([i.abstained for i in items], [i.answerable for i in items])
    for name, value in (("precision", abstention.precision), ("recall", abstention.recall), ("f1", abstention.f1)):
        if value is not None:
            summary[f"abstention_{name}"] = MetricValue(value=value, n=len(items))
    if evalset.answer_spans:
        summary.update(answer_span_figures(items, evalset.languages))
    summary["unbacked_sentences"] = MetricValue(value=float(sum(item.unbacked_sentences for item in items)), n=len(items))
    written = sum(len(item.written) for item in items)
    fallbacks = sum(bool(item.fallback) for item in items)
    if written:
        dropped = metrics.verification_dropped(written, sum(s.verdict == "dropped" for item in items for s in item.written))
        summary["dropped_by_verification"] = MetricValue(value=dropped, n=written)
    if written or fallbacks:
        summary["generation_fallback_rate"] = MetricValue(value=fallbacks / len(items), n=len(items))
    p50, p95 = metrics.latency_percentiles([item.latency_ms for item in items])
    summary["latency_p50_ms"] = MetricValue(value=p50, n=len(items))
    summary["latency_p95_ms"] = MetricValue(value=p95, n=len(items))
    return summary


def _rate(flags: Sequence[bool]) -> MetricValue | None:
    return MetricValue(value=sum(flags) / len(flags), n=len(flags)) if flags else None


def answer_span_figures(items: Sequence[ItemResult], languages: Sequence[str]) -> dict[str, MetricValue]:
    """Hit@k, cited and quoted hit@1, answered and abstention rates, overall and (with several languages) per
    language as `name[en]`: the SQuAD-format sets' figures.
    """
    groups = {"": list(items)}
    if len(languages) > 1:
        groups |= {f"[{language}]": [item for item in items if item.language == language] for language in languages}
    figures: dict[str, MetricValue] = {}
    for suffix, group in groups.items():
        answerable = [item for item in group if item.category == "answerable"]
        candidates: dict[str, MetricValue | None] = {}
        for k in HIT_KS:
            value, n = metrics.mean_defined(item.metrics.hit_at.get(k) for item in answerable)
            candidates[f"hit@{k}"] = MetricValue(value=value, n=n) if n else None
        value, n = metrics.mean_defined(item.metrics.cited_hit for item in answerable)
        candidates["cited_hit@1"] = MetricValue(value=value, n=n) if n else None
        value, n = metrics.mean_defined(item.metrics.quoted_hit for item in answerable)
        candidates["quoted_hit@1"] = MetricValue(value=value, n=n) if n else None
        candidates["answered_rate"] = _rate([not item.abstained for item in answerable])
        for category, name in (("on_topic_unanswerable", "abstention_on_topic"), ("off_topic", "abstention_off_topic")):
            candidates[name] = _rate([item.abstained for item in group if item.category == category])
        figures |= {f"{name}{suffix}": value for name, value in candidates.items() if value is not None}
    return figures


def answer_ceiling(evalset: EvalSet) -> dict[str, MetricValue]:
    """How many answerable questions have their answer inside one sentence of citeqa's split (the hit@1
    ceiling) and how many across a sentence boundary, overall and per language.
    """
    sentences = {document.id: [s.text for s in split_document(document)] for document in evalset.documents}
    within: dict[str, list[bool]] = {}
    for question in evalset.questions:
        if not question.answerable:
            continue
        units = [text for group in question.gold_documents for doc_id in group for text in sentences.get(doc_id, [])]
        within.setdefault(question.language, []).append(metrics.answers_within_one_unit(units, question.answers))
    groups = {"": [flag for flags in within.values() for flag in flags]}
    if len(within) > 1:
        groups |= {f"[{language}]": flags for language, flags in sorted(within.items())}
    figures: dict[str, MetricValue] = {}
    for suffix, flags in groups.items():
        if flags:
            figures[f"hit@1_ceiling{suffix}"] = MetricValue(value=sum(flags) / len(flags), n=len(flags))
            figures[f"answers_across_sentences{suffix}"] = MetricValue(value=sum(not f for f in flags), n=len(flags))
    return figures


class CategoryFigures(BaseModel):
    n: int
    behaved: float = Field(description="Share answered when answerable and abstained when not.")
    citation_recall: float | None
    answer_correctness: float | None


def by_category(run: SystemRun) -> dict[str, CategoryFigures]:
    """Per-category figures, to show which kinds of question a system gets wrong."""
    groups: dict[str, list[ItemResult]] = {}
    for item in run.items:
        groups.setdefault(item.category, []).append(item)
    return {
        category: CategoryFigures(
            n=len(items),
            behaved=sum(item.abstained != item.answerable for item in items) / len(items),
            citation_recall=metrics.mean_defined(item.metrics.citation_recall for item in items)[0],
            answer_correctness=metrics.mean_defined(item.metrics.answer_correctness for item in items)[0],
        )
        for category, items in groups.items()
    }
