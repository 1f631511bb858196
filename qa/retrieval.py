"""The one retrieval path: dense vectors from Chroma plus BM25, ranked by a calibrated model.

`HybridRetriever.search` is what `Assistant.ask`, `Assistant.retrieve`, `as_retriever()` (a
llama-index `BaseRetriever`) and the evaluation all call, so they rank identically:

1. candidates: the vector search's (run once per language) and BM25's top sentences, their
   neighbours (an answer often sits next to the sentence worded like the question), and the
   header lines of the documents in play;
2. features of each candidate from stored vectors and token sets (no re-encoding), including its
   neighbours and its document, so document-level relevance is not lost by going to sentences;
3. the ranker's probability orders them; with the cross-encoder (`qa.reranker`), its top few are
   read together with the question and re-ordered by a second fitted model;
4. the gate decides whether the collection answers at all.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters, FilterOperator, VectorStoreQuery

from index.catalog import Catalog
from index.documents import Language, Sentence
from index.lexical import LexicalIndex
from index.splitting import detect_language
from index.store import ChromaIndex
from index.tokenize import tokenize
from qa.answer_type import NumericQuestion, has_numeral
from qa.intent import HEADER_ROLE, Intent, IntentDetector
from qa.relevance import (
    LANGUAGE_BEST,
    LANGUAGE_FEATURE,
    QUESTION_FEATURES,
    Logistic,
    RelevanceModel,
    Reranked,
    coverage,
    gate_features,
    logit,
    term_weights,
    with_documents,
)
from qa.reranker import Reranker, preceding
from qa.spelling import Speller

# Neighbours are added for this many of each channel's best hits.
_NEIGHBOURS_OF_TOP = 10
# An overview of a single document quotes its first sentences; of several, each one's first.
OPENING_SENTENCES = 2


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    relevance: float
    """The ranker's calibrated probability that this sentence holds the answer."""
    features: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def sentence_id(self) -> str:
        return self.sentence.id


@dataclass(frozen=True)
class Ranking:
    """Everything one search decided: the ranked sentences and whether the collection answers."""

    query: str
    """The question as searched: with misspelt words corrected (qa.spelling)."""
    language: Language
    hits: list[ScoredSentence]
    answerable: float
    """The gate's probability that the collection answers the question."""
    answer: bool
    """`answerable` at or above the fitted threshold."""
    question_features: dict[str, float]
    intent: Intent = "specific"
    """What the question is about (qa.intent): one thing in the documents; the documents as a whole
    (the hits are their openings); or their authors, affiliation or publication (the header line
    of that role leads the hits)."""
    reranked: bool = False
    """Whether the cross-encoder re-read the best candidates (it is skipped where the first stage is
    sure enough: `qa.relevance.Reranked.skip_above`)."""


def _header_first(hits: list[ScoredSentence], chance: float, role: str) -> list[ScoredSentence]:
    """The header line of that role (else the best-ranked header line) first, at the intent's
    probability; the rest in their order, none above it (list order stays relevance order)."""
    header = [h for h in hits if h.sentence.kind == "metadata"]
    first = next((h for h in header if h.sentence.section == role), header[0])
    rest = [ScoredSentence(h.sentence, min(h.relevance, chance), h.features) for h in hits if h is not first]
    return [ScoredSentence(first.sentence, chance, {**first.features, "intent": chance}), *rest]


# BM25 of the sentence, of its passage and of its document (each over the question's best).
_BM25_FEATURES = ("bm25", "bm25_passage", "bm25_document")


def _over_best(values: np.ndarray | None) -> np.ndarray | None:
    """Scores over the question's best score (0 to 1), so the ranker's weight fits any corpus; None when none is positive."""
    if values is None:
        return None
    best = float(values.max())
    return values / best if best > 0 else None


class HybridRetriever(BaseRetriever):
    def __init__(
        self,
        index: ChromaIndex,
        catalog: Catalog,
        embed_model: BaseEmbedding,
        model: RelevanceModel,
        dense_top_k: int = 30,
        lexical_top_k: int = 30,
        top_k: int = 10,
        reranker: Reranker | None = None,
        rerank_top: int = 3,
        rerank_always: bool = False,
        intents: IntentDetector | None = None,
        numeric: NumericQuestion | None = None,
        spelling: bool = True,
    ) -> None:
        super().__init__()
        self._index = index
        self._catalog = catalog
        self._embed_model = embed_model
        self._model = model
        self._dense_top_k = dense_top_k
        self._lexical_top_k = lexical_top_k
        self._top_k = top_k
        self._reranker = reranker
        self._rerank_top = rerank_top
        self._rerank_always = rerank_always
        self._intents = intents
        self._numeric = numeric
        self._speller = Speller() if spelling else None

    # --- channels ------------------------------------------------------------------------

    def _dense(self, vector: list[float], doc_ids: Collection[str] | None) -> list[str]:
        """Sentence IDs of the nearest vectors, nearest first: each language's nearest
        `dense_top_k`, merged by similarity (so its first `dense_top_k` are a mixed search's).

        Why per language: a question's nearest sentences are in its own language, and the answer
        in a document of the other language (a Chinese question over an English report) ranks
        below all of them in a mixed search (on the written documents, the mixed top 30 held it
        for 12% of Chinese questions; the English-only top 10, for all)."""
        base = [MetadataFilter(key="doc_id", value=list(doc_ids), operator=FilterOperator.IN)] if doc_ids else []
        languages = self._catalog.languages
        per_language = [[MetadataFilter(key="language", value=language)] for language in languages] if len(languages) > 1 else [[]]
        similarity: dict[str, float] = {}
        for only in per_language:
            filters = MetadataFilters(filters=base + only) if base + only else None
            result = self._index.vector_store.query(
                VectorStoreQuery(query_embedding=vector, similarity_top_k=self._dense_top_k, filters=filters)
            )
            similarity |= {i: s for i, s in zip(result.ids or [], result.similarities or []) if self._catalog.get(i) is not None}
        return sorted(similarity, key=lambda i: -similarity[i])

    def _candidates(self, dense: list[str], lexical: list[int], doc_ids: Collection[str] | None) -> list[Sentence]:
        catalog = self._catalog
        found = [catalog.get(i) for i in dense] + [catalog.at(p) for p in lexical]
        pool: dict[str, Sentence] = {s.id: s for s in found if s is not None}
        for ranking in (dense[:_NEIGHBOURS_OF_TOP], [catalog.at(p).id for p in lexical[:_NEIGHBOURS_OF_TOP]]):
            for sentence_id in ranking:
                for neighbour in catalog.neighbours(catalog.get(sentence_id)):  # type: ignore[arg-type]
                    if neighbour is not None:
                        pool.setdefault(neighbour.id, neighbour)
        # Header lines (authors, affiliation, journal) of the documents in play answer
        # bibliographic questions that share no words with them.
        for doc_id in list(dict.fromkeys(s.doc_id for s in found if s is not None))[:3]:
            for sentence in catalog.of_document(doc_id):
                if sentence.kind == "metadata":
                    pool.setdefault(sentence.id, sentence)
        if doc_ids:
            pool = {i: s for i, s in pool.items() if s.doc_id in doc_ids}
        return list(pool.values())

    # --- the search ----------------------------------------------------------------------

    def search(self, query: str, top_k: int | None = None, doc_ids: Collection[str] | None = None) -> Ranking:
        catalog = self._catalog
        language = detect_language(query)
        model = self._model.for_language(language)
        if not len(catalog):
            return Ranking(query, language, [], 0.0, False, dict.fromkeys(QUESTION_FEATURES, 0.0))
        if self._speller is not None:
            # Misspelt words corrected toward the collection's own (qa.spelling); Ranking.query says
            # what was searched.
            query = self._speller.correct(query, catalog)
        vector = self.query_vector(query)
        intent, chance = self._intents.intent(vector) if self._intents is not None else ("specific", 0.0)
        if intent == "overview":
            opening = self._opening(query, language, chance, doc_ids, top_k or self._top_k)
            if opening.hits:
                return opening
        allowed = np.array([d in doc_ids for d in catalog.unit_documents])[catalog.document_of] if doc_ids else None

        def per_sentence(index: LexicalIndex, unit_of: np.ndarray | None = None) -> np.ndarray | None:
            """BM25 of each sentence, or of the passage or document it is in, within `doc_ids`."""
            unit_scores = index.scores(query)
            if unit_scores is None:
                return None
            values = unit_scores[unit_of] if unit_of is not None else unit_scores
            return values * allowed if allowed is not None else values

        scores = per_sentence(catalog.lexical)
        passage_scores = per_sentence(catalog.passages, catalog.passage_of)
        document_scores = per_sentence(catalog.whole_documents, catalog.document_of)
        lexical = [p for p, _ in catalog.lexical.top(scores, self._lexical_top_k)]
        dense = self._dense(vector, doc_ids)
        pool = self._candidates(dense, lexical, doc_ids)

        neighbours = {s.id: catalog.neighbours(s) for s in pool}
        wanted = {s.id for s in pool} | {n.id for pair in neighbours.values() for n in pair if n is not None}
        stored = self._index.vectors(sorted(wanted))
        query_vector = np.asarray(vector, dtype=np.float32)
        query_vector /= np.linalg.norm(query_vector) or 1.0
        cosines = {i: float(np.dot(query_vector, v) / (np.linalg.norm(v) or 1.0)) for i, v in ((i, np.asarray(v, dtype=np.float32)) for i, v in stored.items())}

        weights = term_weights(tokenize(query, expand=False), catalog.idf)
        shares = {name: _over_best(values) for name, values in zip(_BM25_FEATURES, (scores, passage_scores, document_scores))}

        dense_rank = {i: r for r, i in enumerate(dense)}
        lexical_rank = {catalog.at(p).id: r for r, p in enumerate(lexical)}
        document_cos: dict[str, float] = {}
        for sentence in pool:
            document_cos[sentence.doc_id] = max(document_cos.get(sentence.doc_id, -1.0), cosines.get(sentence.id, 0.0))

        hits = []
        for sentence in pool:
            around = [n for n in neighbours[sentence.id] if n is not None]
            tokens = catalog.tokens(sentence)
            position = catalog.position(sentence.id)
            features = {
                "cos": cosines.get(sentence.id, 0.0),
                "cos_context": max((cosines.get(n.id, 0.0) for n in around), default=0.0),
                "cos_document": document_cos[sentence.doc_id],
                "cover": coverage(weights, tokens),
                "cover_context": coverage(weights, tokens.union(*(catalog.tokens(n) for n in around))),
                "cover_document": coverage(weights, catalog.document_tokens(sentence.doc_id)),
                **{name: float(values[position]) if values is not None and position is not None else 0.0 for name, values in shares.items()},
                "dense_rank": 1.0 / (1 + dense_rank[sentence.id]) if sentence.id in dense_rank else 0.0,
                "lexical_rank": 1.0 / (1 + lexical_rank[sentence.id]) if sentence.id in lexical_rank else 0.0,
                LANGUAGE_FEATURE: float(sentence.language != language),
            }
            hits.append(ScoredSentence(sentence, model.ranker.probability(features), features))
        relevance = with_documents([h.relevance for h in hits], [h.sentence.doc_id for h in hits], [h.features for h in hits], model.document)
        hits = [ScoredSentence(h.sentence, r, h.features) for h, r in zip(hits, relevance)]
        hits.sort(key=lambda h: (-h.relevance, h.sentence.doc_id, h.sentence.ordinal))
        gate, threshold = model.gate, model.threshold
        reranked = self._reranker is not None and not self._first_stage_sure(model.reranked, hits[0])
        if reranked:
            hits = self._rerank(query, hits, model.reranked.ranker if model.reranked else None)
            if model.reranked is not None:
                gate, threshold = model.reranked.gate, model.reranked.threshold
        top = hits[0]
        question_features = gate_features(
            top.relevance, top.features, max(h.features["cos"] for h in hits), self._numeric.probability(vector) if self._numeric is not None else 0.0, has_numeral(top.sentence.text)
        )
        answerable = gate.probability(question_features)
        if intent in HEADER_ROLE and any(h.sentence.kind == "metadata" for h in hits):
            # The gate was fitted on questions about content; a header line answers this one.
            ranked = _header_first(hits, chance, HEADER_ROLE[intent])
            return Ranking(query, language, ranked[: top_k or self._top_k], chance, True, question_features, intent=intent, reranked=reranked)
        return Ranking(query, language, hits[: top_k or self._top_k], answerable, answerable >= threshold, question_features, reranked=reranked)

    def warm_up(self) -> None:
        """What the first question would otherwise wait for: the spelling correction's count of the
        collection's words."""
        if self._speller is not None:
            self._speller.prepare(self._catalog)

    def query_vector(self, query: str) -> list[float]:
        """The question's embedding as the dense search computes it (also what `eval.fit_relevance`
        records to fit the models that read it)."""
        return self._embed_model.get_query_embedding(query)

    def _first_stage_sure(self, second: Reranked | None, top: ScoredSentence) -> bool:
        """Whether the first stage's best candidate is probable enough that the cross-encoder is
        skipped (the cascade of `Reranked.skip_above`); never with `rerank_always`, which
        `eval.fit_relevance` sets to record the cross-encoder's reading of every question."""
        if self._rerank_always or second is None or second.skip_above is None:
            return False
        return top.relevance >= second.skip_above

    def _opening(self, query: str, language: Language, chance: float, doc_ids: Collection[str] | None, top_k: int) -> Ranking:
        """What answers a question about the documents as a whole: how each one opens (its first body
        sentences, in the question's language where it has them), documents in the order they are listed."""
        catalog = self._catalog
        documents = [doc_id for doc_id in catalog.documents if not doc_ids or doc_id in doc_ids]
        per_document = OPENING_SENTENCES if len(documents) == 1 else 1
        hits: list[ScoredSentence] = []
        for doc_id in documents:
            body = [s for s in catalog.of_document(doc_id) if s.kind == "body"]
            own = [s for s in body if s.language == language] or body
            hits += [ScoredSentence(s, chance, {"overview": chance}) for s in own[:per_document]]
            if len(hits) >= top_k:
                break
        return Ranking(query, language, hits[:top_k], chance, True, {"overview": chance}, intent="overview")

    def _rerank(self, query: str, hits: list[ScoredSentence], second: Logistic | None) -> list[ScoredSentence]:
        """The first stage's top candidates (and each language's best) re-scored with the
        cross-encoder's reading of each.
        Without a fitted second stage (while `eval.fit_relevance` collects the data to fit it) the
        cross-encoder's logits are recorded and the first-stage order kept."""
        head, tail = hits[: self._rerank_top], hits[self._rerank_top :]
        # And the best candidate of each language the top lacks: the first stage's evidence (shared
        # terms, BM25, cosines) runs lower across languages, so the sentence answering a Chinese
        # question in an English report often ranks below same-language look-alikes; the
        # cross-encoder reads a question and a sentence of different languages as one input.
        for language in sorted(set(self._catalog.languages) - {h.sentence.language for h in head}):
            at = next((i for i, h in enumerate(tail) if h.sentence.language == language), None)
            if at is not None:
                best = tail.pop(at)
                head.append(ScoredSentence(best.sentence, best.relevance, {**best.features, LANGUAGE_BEST: 1.0}))
        reranker = self._reranker
        assert reranker is not None
        # An adapter fitted with each candidate's preceding sentence reads it too (qa.reranker.passage).
        candidates = [
            (h.sentence.text, h.sentence.section, preceding(self._catalog, h.sentence)) if reranker.context else (h.sentence.text, h.sentence.section)
            for h in head
        ]
        cross = reranker.scores(query, candidates)
        rescored = []
        for hit, value in zip(head, cross):
            features = {**hit.features, "first_stage": logit(hit.relevance), "cross": value}
            rescored.append(ScoredSentence(hit.sentence, second.probability(features) if second else hit.relevance, features))
        rescored.sort(key=lambda h: (-h.relevance, h.sentence.doc_id, h.sentence.ordinal))
        # The tail was not read by the cross-encoder: it stays below the reread candidates, so the
        # relevance order (which the answerer compares across hits) is the list order.
        floor = rescored[-1].relevance
        return rescored + [ScoredSentence(h.sentence, min(h.relevance, floor), h.features) for h in tail]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(
                node=TextNode(
                    id_=hit.sentence.id,
                    text=hit.sentence.text,
                    metadata={"doc_id": hit.sentence.doc_id, "start": hit.sentence.start, "end": hit.sentence.end, "language": hit.sentence.language},
                ),
                score=hit.relevance,
            )
            for hit in self.search(query_bundle.query_str).hits
        ]

