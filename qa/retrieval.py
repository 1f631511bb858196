"""Hybrid retrieval: dense vectors from Chroma plus BM25, fused by reciprocal rank.

Exposed as a llama-index `BaseRetriever`, so llama-index apps can plug it in; the
assistant itself uses `search`, which keeps each channel's raw score for the
relevance calibration.
"""

from __future__ import annotations

import math
from collections.abc import Set
from dataclasses import dataclass

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters, VectorStoreQuery

from index.catalog import Catalog
from index.documents import Sentence
from index.store import ChromaIndex


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    fused: float
    dense: float | None = None
    """Cosine similarity of query and sentence, when the vector search found it."""
    lexical: float | None = None
    """BM25 score, when the lexical search found it."""

    @property
    def sentence_id(self) -> str:
        return self.sentence.id


def reciprocal_rank_fusion(rankings: list[list[str]], k: int) -> dict[str, float]:
    """Sum of 1/(k + rank) over the rankings an ID appears in (Cormack et al., 2009)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


class HybridRetriever(BaseRetriever):
    def __init__(
        self,
        index: ChromaIndex,
        catalog: Catalog,
        embed_model: BaseEmbedding,
        dense_top_k: int = 20,
        lexical_top_k: int = 20,
        rrf_k: int = 60,
        top_k: int = 10,
    ) -> None:
        super().__init__()
        self._index = index
        self._catalog = catalog
        self._embed_model = embed_model
        self._dense_top_k = dense_top_k
        self._lexical_top_k = lexical_top_k
        self._rrf_k = rrf_k
        self._top_k = top_k

    def dense(
        self, query: str, query_embedding: list[float] | None = None, doc_ids: Set[str] | None = None
    ) -> dict[str, float]:
        """Cosine similarity of the nearest sentences, by sentence ID (of `doc_ids` only, when given)."""
        if not len(self._catalog):
            return {}
        embedding = query_embedding or self._embed_model.get_query_embedding(query)
        # Chroma filters before its nearest-neighbour search, so a chosen document still gets its top_k.
        filters = (
            MetadataFilters(filters=[MetadataFilter(key="doc_id", value=sorted(doc_ids), operator=FilterOperator.IN)])
            if doc_ids
            else None
        )
        result = self._index.vector_store.query(
            VectorStoreQuery(query_embedding=embedding, similarity_top_k=self._dense_top_k, filters=filters)
        )
        # ChromaVectorStore reports exp(-distance); with cosine distance that inverts to the cosine.
        return {
            node_id: 1.0 + math.log(max(similarity, 1e-12))
            for node_id, similarity in zip(result.ids or [], result.similarities or [])
            if (sentence := self._catalog.get(node_id)) is not None and (not doc_ids or sentence.doc_id in doc_ids)
        }

    def lexical(self, query: str, doc_ids: Set[str] | None = None) -> dict[str, float]:
        """BM25 scores of the best sentences, by sentence ID (of `doc_ids` only, when given)."""
        if not doc_ids:
            return {self._catalog.at(p).id: score for p, score in self._catalog.lexical.search(query, self._lexical_top_k)}
        # BM25 scores every sentence anyway; ranking all positive ones before filtering keeps the chosen documents' top_k.
        kept: dict[str, float] = {}
        for position, score in self._catalog.lexical.search(query, len(self._catalog)):
            sentence = self._catalog.at(position)
            if sentence.doc_id in doc_ids:
                kept[sentence.id] = score
                if len(kept) == self._lexical_top_k:
                    break
        return kept

    def search(self, query: str, top_k: int | None = None, doc_ids: Set[str] | None = None) -> list[ScoredSentence]:
        return self.fuse(self.dense(query, doc_ids=doc_ids), self.lexical(query, doc_ids), top_k)

    def fuse(self, dense: dict[str, float], lexical: dict[str, float], top_k: int | None = None) -> list[ScoredSentence]:
        rankings = [sorted(dense, key=dense.__getitem__, reverse=True), sorted(lexical, key=lexical.__getitem__, reverse=True)]
        fused = reciprocal_rank_fusion(rankings, self._rrf_k)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[: top_k or self._top_k]
        return [
            ScoredSentence(self._catalog.get(i), fused[i], dense.get(i), lexical.get(i))  # type: ignore[arg-type]
            for i in best
        ]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(
                node=TextNode(
                    id_=hit.sentence.id,
                    text=hit.sentence.text,
                    metadata={"doc_id": hit.sentence.doc_id, "start": hit.sentence.start, "end": hit.sentence.end, "language": hit.sentence.language},
                ),
                score=hit.fused,
            )
            for hit in self.search(query_bundle.query_str)
        ]
