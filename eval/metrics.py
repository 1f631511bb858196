"""The evaluation metrics, as pure functions.

Each function's docstring opens with the metric's definition; the report prints
that paragraph verbatim (see `definition`), so what is measured and what is
documented cannot drift apart. A function returns None when its metric is
undefined for an item (no gold, no citations, no answer), and aggregation skips it.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from eval.judge.base import SupportJudge, SupportVerdict

GoldGroups = Sequence[frozenset[str]]


def normalize(text: str) -> str:
    """Compare text as a reader would: full-width forms folded (NFKC), case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_SPACE_BY_CJK = re.compile(
    r" (?=[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef])"
    r"|(?<=[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]) "
)


def normalize_for_match(text: str) -> str:
    """Text as answer matching compares it: `normalize`d, and spaces beside Chinese characters dropped
    (Chinese is written without spaces, so "1870 年" and "1870年" are the same text).
    """
    return _SPACE_BY_CJK.sub("", normalize(text))


def _word_char(char: str) -> bool:
    return char.isalnum() and not _CJK.match(char)


def answer_in_text(answer: str, text: str, normalized: bool = False) -> bool:
    """Answer containment: the accepted answer text occurs in the text after whitespace normalisation,
    case-insensitively, ignoring spaces beside Chinese characters; a Latin or digit edge of the answer
    must not continue a longer word ("one" is not found in "someone", "187" not in "1870").

    `normalized=True` says `text` already went through `normalize_for_match` (to scan a corpus once).
    """
    needle = normalize_for_match(answer)
    haystack = text if normalized else normalize_for_match(text)
    if not needle:
        return False
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        clean_left = start == 0 or not (_word_char(needle[0]) and _word_char(haystack[start - 1]))
        clean_right = end == len(haystack) or not (_word_char(needle[-1]) and _word_char(haystack[end]))
        if clean_left and clean_right:
            return True
        start = haystack.find(needle, start + 1)
    return False


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """Whether any of the accepted answers occurs in the text (see `answer_in_text`)."""
    haystack = normalize_for_match(text)
    return any(answer_in_text(answer, haystack, normalized=True) for answer in answers)


def hit_at_k(
    ranked: Sequence[tuple[str, str]], documents: frozenset[str], answers: Sequence[str], k: int
) -> float | None:
    """Hit@k: 1 when one of the top k ranked units (sentences; chunks for a chunk-level system) comes
    from the question's own article (either language) and contains an accepted answer text (either
    language), else 0. Defined on answerable questions of SQuAD-format sets.

    `ranked` holds (document ID, text) pairs, best first.
    """
    if not answers:
        return None
    return float(any(doc_id in documents and contains_answer(text, answers) for doc_id, text in ranked[:k]))


def cited_hit(
    first_citation: tuple[str, str] | None, documents: frozenset[str], answers: Sequence[str]
) -> float | None:
    """Cited hit@1: 1 when the answer's first citation comes from the question's own article and
    contains an accepted answer text, else 0; an abstention counts as a miss.
    """
    return hit_at_k([first_citation] if first_citation else [], documents, answers, 1)


def quoted_hit(
    lead_passage: tuple[str, str] | None, documents: frozenset[str], answers: Sequence[str]
) -> float | None:
    """Quoted hit@1: 1 when the passage the answer leads with (a quote: the part of its first cited
    sentence shown, after trimming to the clauses that answer) comes from the question's own article
    and contains an accepted answer text, else 0; an abstention counts as a miss. Below cited hit@1
    exactly when the trimming cut the answer out of a sentence that held it.
    """
    return hit_at_k([lead_passage] if lead_passage else [], documents, answers, 1)


def answers_within_one_unit(units: Sequence[str], answers: Sequence[str]) -> bool:
    """Hit@1 ceiling: whether some single sentence of the article (as citeqa splits it) contains an
    accepted answer; a question where none does has its answer across a sentence boundary, and no
    sentence-level system can reach a hit on it.
    """
    return any(contains_answer(text, answers) for text in units)


def recall_at_k(ranked: Sequence[str], gold: GoldGroups, k: int) -> float | None:
    """Recall@k: share of gold evidence groups with at least one member among the top k retrieved IDs.

    An English sentence and its Chinese translation form one group, so finding either counts.
    For PubMedQA the IDs are documents and the one group is the question's own abstract.
    """
    if not gold:
        return None
    top = set(ranked[:k])
    return sum(bool(group & top) for group in gold) / len(gold)


def reciprocal_rank(ranked: Sequence[str], gold: GoldGroups) -> float | None:
    """MRR: mean over questions of 1/rank of the first retrieved ID that belongs to any gold group (0
    when none is retrieved).
    """
    if not gold:
        return None
    wanted = frozenset().union(*gold)
    for rank, item in enumerate(ranked, start=1):
        if item in wanted:
            return 1.0 / rank
    return 0.0


def citation_precision(cited: Sequence[str], acceptable: frozenset[str]) -> float | None:
    """Citation precision: share of cited sentences that are gold evidence (or listed as also relevant).

    For the baseline, which cites whole chunks, the cited sentences are every sentence of its cited chunks.
    """
    if not cited:
        return None
    return sum(item in acceptable for item in cited) / len(cited)


def citation_recall(cited: Sequence[str], gold: GoldGroups) -> float | None:
    """Citation recall: share of gold evidence groups of which the answer cites at least one sentence."""
    if not gold:
        return None
    present = set(cited)
    return sum(bool(group & present) for group in gold) / len(gold)


@dataclass(frozen=True)
class Statement:
    """One answer sentence with the evidence it cites, grouped in citation units.

    A unit is one cited source sentence together with any translation cited beside
    it: "[1][2]" where [2] translates [1] is one piece of evidence, not two.
    """

    text: str
    units: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class StatementJudgement:
    statement: str
    supported: bool
    verdict: SupportVerdict | None
    precise: tuple[bool, ...]
    """Per citation unit: needed for the support (ALCE citation precision)."""
    grounded: bool
    grounding_verdict: SupportVerdict | None


def judge_statement(statement: Statement, context: Sequence[str], judge: SupportJudge) -> StatementJudgement:
    """ALCE judging (Gao et al., 2023): an answer sentence is supported when the judge accepts it given
    all its cited units together; a unit (a cited sentence with any translation cited beside it) is
    needed when the sentence is supported and that unit alone supports it, or the other units
    without it do not.

    The same call also decides grounding for faithfulness: whether the judge accepts
    the sentence given `context`, the full text of the documents the answer cites.
    """
    evidence = [text for unit in statement.units for text in unit]
    verdict = judge.judge(statement.text, evidence) if evidence else None
    supported = bool(verdict and verdict.supported)
    precise: list[bool] = []
    for index, unit in enumerate(statement.units):
        if not supported:
            precise.append(False)
        elif len(statement.units) == 1 or judge.judge(statement.text, list(unit)).supported:
            precise.append(True)
        else:
            rest = [text for other, u in enumerate(statement.units) if other != index for text in u]
            precise.append(not judge.judge(statement.text, rest).supported)
    grounding = judge.judge(statement.text, list(context)) if context else None
    return StatementJudgement(
        statement=statement.text,
        supported=supported,
        verdict=verdict,
        precise=tuple(precise),
        grounded=bool(grounding and grounding.supported),
        grounding_verdict=grounding,
    )


def alce_citation_recall(judgements: Sequence[StatementJudgement]) -> float | None:
    """ALCE citation recall: share of answer sentences that their own cited sentences, taken together,
    support (per the judge).
    """
    if not judgements:
        return None
    return sum(j.supported for j in judgements) / len(judgements)


def alce_citation_precision(judgements: Sequence[StatementJudgement]) -> float | None:
    """ALCE citation precision: share of citations that are needed: the sentence is supported and the
    citation either supports it alone or cannot be dropped without losing the support.
    """
    flags = [flag for j in judgements for flag in j.precise]
    if not flags:
        return None
    return sum(flags) / len(flags)


def faithfulness(judgements: Sequence[StatementJudgement]) -> float | None:
    """Faithfulness: share of answer sentences the judge finds supported by the source, i.e. the full
    text of the documents the answer cites (uncited sentences count as unsupported).
    """
    if not judgements:
        return None
    return sum(j.grounded for j in judgements) / len(judgements)


def answer_correctness(answer: str, key_facts: Sequence[Sequence[str]]) -> float | None:
    """Answer correctness: share of the gold key facts that the answer text states, in any accepted
    wording or language (case- and width-insensitive).
    """
    if not key_facts:
        return None
    text = normalize(answer)
    return sum(any(normalize(alias) in text for alias in fact) for fact in key_facts) / len(key_facts)


def unbacked_sentences(sentences: Sequence[Sequence[tuple[Sequence[str], str]]]) -> int:
    """Unbacked sentences: answer sentences shown without a citation, or citing a source sentence that
    none of their quotes occurs in verbatim (case, width and spacing ignored; "…" joins pieces). Must be 0.
    """

    def found(quote: str, text: str) -> bool:
        pieces = [normalize(piece).strip(" .,;:!?。，；：！？\"'“”‘’()（）") for piece in re.split(r"…|\.{3}", quote)]
        pieces = [piece for piece in pieces if piece]
        return bool(pieces) and all(piece in normalize(text) for piece in pieces)

    return sum(not cited or not all(any(found(q, text) for q in quotes) for quotes, text in cited) for cited in sentences)


def verification_dropped(written: int, dropped: int) -> float | None:
    """Dropped by verification: share of the sentences a generative answerer's model wrote that
    verification removed before showing the answer.
    """
    return dropped / written if written else None


@dataclass(frozen=True)
class AbstentionScores:
    precision: float | None
    recall: float | None
    f1: float | None


def abstention_scores(abstained: Sequence[bool], answerable: Sequence[bool]) -> AbstentionScores:
    """Abstention, with "the source does not say" as the positive class: precision is the share of
    abstentions that fall on questions the source cannot answer, recall the share of unanswerable
    questions on which the system abstained, F1 their harmonic mean.
    """
    true_positive = sum(a and not g for a, g in zip(abstained, answerable, strict=True))
    predicted = sum(abstained)
    actual = sum(not g for g in answerable)
    precision = true_positive / predicted if predicted else None
    recall = true_positive / actual if actual else None
    if precision is None or recall is None:
        f1 = None
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return AbstentionScores(precision, recall, f1)


def latency_percentiles(latencies_ms: Sequence[float]) -> tuple[float, float]:
    """Latency p50 / p95: median and 95th percentile of wall-clock milliseconds per question, retrieval
    and answer included.
    """
    if not latencies_ms:
        raise ValueError("no latencies to summarise; run at least one question")
    p50, p95 = np.percentile(np.asarray(latencies_ms, dtype=float), [50, 95])
    return float(p50), float(p95)


def mean_defined(values: Iterable[float | None]) -> tuple[float | None, int]:
    """Mean over the items where a metric is defined, and how many those are."""
    defined = [value for value in values if value is not None]
    return (float(np.mean(defined)) if defined else None), len(defined)


def definition(metric: Callable[..., object]) -> str:
    """A metric function's definition: the first paragraph of its docstring, on one line."""
    doc = inspect.getdoc(metric) or ""
    return re.sub(r"\s+", " ", doc.split("\n\n")[0]).strip()
