"""Calibrated relevance: which retrieved sentence answers a question, and whether any does.

Two logistic models per question language, fitted by `python -m eval.fit_relevance` on the
fit halves of public dev sets (XQuAD English and Chinese, CMRC 2018, PubMedQA) and read from
`qa/relevance.json`, which that script writes:

- the *ranker*: P(this sentence holds the answer | its features) orders the evidence;
- the *document stage*: P(this document holds the answer | its best sentence and its own
  evidence) multiplies the ranker's probability of each of its sentences (passage first);
- the *gate*: P(the collection answers the question | features of the best candidate and of
  the question) decides between answering and abstaining.

The features are measurements any corpus has (cosines from the embedder, IDF-weighted term
coverage, BM25, ranks), never word lists: nothing here knows what a document is about.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.documents import Language
from qa.answer_type import NumericQuestion

MODEL_PATH = Path(__file__).with_name("relevance.json")

SENTENCE_FEATURES = (
    "cos",  # cosine of question and sentence
    "cos_context",  # best cosine of the sentence's neighbours: the question may be worded after them
    "cos_document",  # best cosine among the candidates of the same document: document-level relevance
    "cover",  # IDF-weighted share of the question's terms in the sentence
    "cover_context",  # ... in the sentence with its neighbours
    "cover_document",  # ... anywhere in its document
    "bm25",  # BM25 of the sentence over the best BM25 score of the corpus for this question
    "bm25_passage",  # ... of its passage (paragraph, list or table) over the best passage's: passage first
    "bm25_document",  # ... of its whole document over the best document's
    "dense_rank",  # 1 / (1 + rank) in the vector search, 0 when not found
    "lexical_rank",  # 1 / (1 + rank) in BM25, 0 when not found
)
# Recorded for every candidate, read by the gate only: 1 when the sentence is in another language
# than the question. Across languages cosines run lower and no term is shared, so the same evidence
# reads weaker. Not a ranker input: fitted there, it learnt to prefer translations over the
# question's own language (jdm recall@3 0.885 -> 0.795).
LANGUAGE_FEATURE = "other_language"
# Recorded (1.0) for a candidate the cross-encoder read as the best of a language the first stage's
# top lacked (qa.retrieval). Not a feature: it names the rows `eval.fit_relevance` leaves out of the
# second stage's fit (there, why).
LANGUAGE_BEST = "language_best"
# The second stage (`qa.reranker`), over the first stage's top few candidates (and each language's
# best, marked LANGUAGE_BEST).
RERANK_FEATURES = (
    "first_stage",  # the first-stage ranker's logit
    "cross",  # the cross-encoder's logit: question and sentence read together
)
QUESTION_FEATURES = (
    "top_logit",  # the ranker's logit for the best candidate
    "top_cos",
    "top_cover_context",
    "best_cos",  # best cosine over all candidates
    # No "share of the question's terms found nowhere in the collection" (read until 2026-11-27): it
    # measures the collection as much as the question. In one short report most words of any
    # question are unseen, and every term of a Chinese question is unseen in an English-only
    # collection; the gate, fitted on large bilingual collections, abstained on all of these.
    # Without it, held out: Chinese questions about one English abstract answered 0.19 -> 0.71
    # (README, "The gate and the size of the collection").
    "top_other_language",  # the best candidate is in another language than the question
    # P(the answer is a number) when the best candidate holds no numeral (qa.answer_type): "What is
    # the recommended dose?" is not answered by the sentence that names the drug without one.
    "numeral_missing",
)
# The gate after reranking also reads the best candidate's cross-encoder logit.
RERANKED_QUESTION_FEATURES = (*QUESTION_FEATURES, "top_cross")


# Passage first, then the sentence: the document stage gives P(this document holds the answer |
# the evidence of the whole document), which multiplies the ranker's probability of each of its
# sentences. The sentence ranker is fitted on XQuAD's and CMRC's sentence labels, where the right
# article is seldom in doubt; among 500 short PubMedQA abstracts it often is (first citation from
# the right abstract: 0.94, where document BM25 alone gets 0.96). Fitted on document labels of all
# dev sets by `eval.fit_relevance`.
DOCUMENT_FEATURES = (
    "best_logit",  # the ranker's logit for the document's best candidate
    "cover_document",
    "bm25_document",
    # Not cos_document (the best candidate's cosine, already in best_logit): with both, the English
    # fit weighed it -24 against best_logit's +24, and held out it changed nothing.
)


def logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def gate_features(top_relevance: float, top: Mapping[str, float], best_cos: float, numeric: float, top_numeral: bool) -> dict[str, float]:
    """The gate's features: from the best candidate (its ranker probability and sentence features,
    whether it holds a numeral), the best cosine over all candidates and P(the answer is a number).
    Used by retrieval and by the fitting script alike."""
    return {
        "numeral_missing": 0.0 if top_numeral else numeric,
        "top_logit": logit(top_relevance),
        "top_cos": top["cos"],
        "top_cover_context": top["cover_context"],
        "best_cos": best_cos,
        "top_cross": top.get("cross", 0.0),
        "top_other_language": top[LANGUAGE_FEATURE],
    }


def document_features(best_relevance: float, features: Mapping[str, float]) -> dict[str, float]:
    """The document stage's features, from the ranker's best candidate of the document."""
    return {"best_logit": logit(best_relevance), **{name: features[name] for name in DOCUMENT_FEATURES[1:]}}


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


@dataclass(frozen=True)
class Logistic:
    weights: Mapping[str, float]
    bias: float

    def probability(self, features: Mapping[str, float]) -> float:
        return _sigmoid(self.bias + sum(w * features[name] for name, w in self.weights.items()))


def with_documents(relevance: Sequence[float], documents: Sequence[object], features: Sequence[Mapping[str, float]], stage: Logistic | None) -> list[float]:
    """Each candidate's ranker probability times its document's probability (`stage`; unchanged
    without one). Used by retrieval and by the fitting script alike."""
    if stage is None:
        return list(relevance)
    best: dict[object, int] = {}
    for i, document in enumerate(documents):
        if document not in best or relevance[i] > relevance[best[document]]:
            best[document] = i
    chance = {document: stage.probability(document_features(relevance[i], features[i])) for document, i in best.items()}
    return [r * chance[document] for r, document in zip(relevance, documents)]


@dataclass(frozen=True)
class Reranked:
    """The models used when the cross-encoder reranks the first stage's top candidates."""

    ranker: Logistic
    """P(holds the answer | first-stage logit, cross-encoder logit)."""
    gate: Logistic
    threshold: float
    skip_above: float | None = None
    """First-stage probability of the best candidate at or above which the cross-encoder is not
    consulted and the first stage's ranking and gate decide: fitted by `eval.fit_relevance` as the
    lowest value at which this cascade decides no dev set's fit questions worse than reranking every
    one. The cross-encoder is most of a question's cost; where the first stage is already sure it
    rarely changes the answer. None: always rerank."""


@dataclass(frozen=True)
class LanguageModel:
    ranker: Logistic
    gate: Logistic
    threshold: float
    """Gate probability at or above which the question is answered."""
    reranked: Reranked | None = None
    document: Logistic | None = None
    """The document stage (`DOCUMENT_FEATURES`); None: the ranker alone orders the candidates."""


@dataclass(frozen=True)
class RelevanceModel:
    version: str
    languages: Mapping[str, LanguageModel]
    numeric: NumericQuestion
    """P(the answer is a number), shared by both languages (the embedder is multilingual)."""
    embedding: str
    """The `Settings.embedding` the models were fitted with: `numeric` reads its query vectors."""

    def numeric_for(self, embedding: str) -> NumericQuestion | None:
        """`numeric` if fitted on this embedder's vectors; else None (another embedder's vectors
        mean something else) and the gate reads `numeral_missing` as 0, as for a question asking
        for no number."""
        return self.numeric if embedding == self.embedding else None

    def for_language(self, language: Language) -> LanguageModel:
        # A language without data of its own uses the English fit (the features are language-neutral).
        return self.languages.get(language) or self.languages["en"]

    @classmethod
    def from_json(cls, data: Mapping) -> RelevanceModel:
        languages = {}
        for language, entry in data["languages"].items():
            ranker, gate = entry["ranker"], entry["gate"]
            missing = (set(SENTENCE_FEATURES) - set(ranker["weights"])) | (set(QUESTION_FEATURES) - set(gate["weights"]))
            if missing:
                raise ValueError(f"{MODEL_PATH}: the {language} model lacks features {sorted(missing)}; re-run python -m eval.fit_relevance")
            reranked = None
            if "reranked" in entry:
                second = entry["reranked"]
                missing = (set(RERANK_FEATURES) - set(second["ranker"]["weights"])) | (set(RERANKED_QUESTION_FEATURES) - set(second["gate"]["weights"]))
                if missing:
                    raise ValueError(f"{MODEL_PATH}: the {language} reranked model lacks features {sorted(missing)}; re-run python -m eval.fit_relevance")
                reranked = Reranked(
                    Logistic(second["ranker"]["weights"], second["ranker"]["bias"]),
                    Logistic(second["gate"]["weights"], second["gate"]["bias"]),
                    second["threshold"],
                    second.get("skip_above"),
                )
            document = None
            if "document" in entry:
                missing = set(DOCUMENT_FEATURES) - set(entry["document"]["weights"])
                if missing:
                    raise ValueError(f"{MODEL_PATH}: the {language} document stage lacks features {sorted(missing)}; re-run python -m eval.fit_relevance")
                document = Logistic(entry["document"]["weights"], entry["document"]["bias"])
            languages[language] = LanguageModel(
                ranker=Logistic(ranker["weights"], ranker["bias"]),
                gate=Logistic(gate["weights"], gate["bias"]),
                threshold=entry["threshold"],
                reranked=reranked,
                document=document,
            )
        if "en" not in languages:
            raise ValueError(f"{MODEL_PATH}: no English model; re-run python -m eval.fit_relevance")
        if "numeric_question" not in data:
            raise ValueError(f"{MODEL_PATH}: no numeric_question model; re-run python -m eval.fit_relevance")
        numeric = data["numeric_question"]
        return cls(version=data["version"], languages=languages, numeric=NumericQuestion(np.asarray(numeric["weights"]), numeric["bias"]), embedding=data["embedding"])


@lru_cache(maxsize=1)
def load_relevance_model(path: Path = MODEL_PATH) -> RelevanceModel:
    try:
        return RelevanceModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise RuntimeError(f"{path} is missing; create it with `python -m eval.fit_relevance`.") from None


def term_weights(terms: Sequence[str], idf: Mapping[str, float]) -> dict[str, float]:
    """IDF weight of each question term; a term no sentence holds weighs as much as the rarest one."""
    unseen = max(idf.values(), default=1.0)
    return {term: idf.get(term, unseen) for term in dict.fromkeys(terms)}


def coverage(weights: Mapping[str, float], tokens: frozenset[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in tokens) / total if total else 0.0
