"""Peer rows: a bare embedder ranking every indexed sentence by cosine to the question.

No lexical channel, no relevance model, no answer logic: the top sentence is the
answer and its only citation, so these rows never abstain. They show what the
embedding model alone achieves on the same sentences citeqa indexes, which is the
floor the product's extra logic must beat.

Sentence vectors come from citeqa's own index when it stores exactly these vectors
(same model, plain sentence text: checked by re-embedding a few), else they are
embedded once; either way they are cached on disk per model and corpus (see
`eval.cache`), so a re-run embeds only the questions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from tqdm import tqdm

from eval.dataset import EvalQuestion
from eval.systems import CitedSource, Passage, RankedUnit, SystemResponse
from index.documents import Document, Sentence
from index.splitting import split_document

# Texts per embedding call while filling the cache: large enough to batch well, small enough to show progress.
_CHUNK = 256
# Stored vectors are reused only when re-embedding these many sentences reproduces them.
_SPOT_CHECKS = 3
_SAME_VECTOR = 0.999

StoredVectors = Callable[[Sequence[str]], dict[str, list[float]]]


class BareEmbedderSystem:
    """Top-k sentences by cosine similarity to the question under one embedding model."""

    def __init__(
        self,
        label: str,
        model_name: str,
        embed_model: BaseEmbedding,
        documents: Sequence[Document],
        cache: Path,
        stored: StoredVectors | None = None,
    ) -> None:
        self.name = f"bare {label}"
        self.model_name = model_name
        self.embed_model = embed_model
        self.sentences: list[Sentence] = [s for document in documents for s in split_document(document)]
        self.matrix = self._vectors(cache, stored)

    def _vectors(self, cache: Path, stored: StoredVectors | None) -> np.ndarray:
        """The unit-normalised sentence vectors: from `cache`, else from `stored` when they are these
        very vectors, else embedded; written to `cache` for the next run.
        """
        if cache.exists():
            matrix = np.load(cache)
            if matrix.shape[0] == len(self.sentences):
                return matrix
        matrix = self._reuse(stored) if stored is not None else None
        if matrix is None:
            texts = [s.text for s in self.sentences]
            vectors: list[list[float]] = []
            for start in tqdm(range(0, len(texts), _CHUNK), desc=f"{self.name}: embedding {len(texts)} sentences", unit="batch"):
                vectors.extend(self.embed_model.get_text_embedding_batch(texts[start : start + _CHUNK]))
            matrix = _unit(np.asarray(vectors, dtype=np.float32))
        cache.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed, so an interrupted run never leaves a short file behind.
        partial = cache.with_name(cache.name + ".partial.npy")
        np.save(partial, matrix)
        partial.replace(cache)
        return matrix

    def _reuse(self, stored: StoredVectors) -> np.ndarray | None:
        """citeqa's stored vectors for these sentences, if it has them all and they are plain sentence
        embeddings of this model (a context-enriched or other-model index is not this peer)."""
        found = stored([s.id for s in self.sentences])
        if len(found) != len(self.sentences):
            return None
        matrix = _unit(np.asarray([found[s.id] for s in self.sentences], dtype=np.float32))
        step = max(1, len(self.sentences) // _SPOT_CHECKS)
        picks = list(range(0, len(self.sentences), step))[:_SPOT_CHECKS]
        fresh = _unit(np.asarray(self.embed_model.get_text_embedding_batch([self.sentences[i].text for i in picks]), dtype=np.float32))
        if float(np.min(np.sum(fresh * matrix[picks], axis=1))) < _SAME_VECTOR:
            return None
        print(f"{self.name}: reusing citeqa's stored vectors for {len(self.sentences)} sentences")
        return matrix

    def describe(self) -> dict[str, str | int]:
        return {
            "model": self.model_name,
            "ranking": f"cosine of the question to each of {len(self.sentences)} sentences (citeqa's split)",
            "answer": "the top sentence, cited; never abstains",
        }

    def respond(self, question: EvalQuestion, depth: int) -> SystemResponse:
        started = time.perf_counter()
        query = np.asarray(self.embed_model.get_query_embedding(question.question), dtype=np.float32)
        scores = self.matrix @ (query / max(float(np.linalg.norm(query)), 1e-12))
        top = np.argsort(-scores)[:depth]
        latency_ms = (time.perf_counter() - started) * 1000
        ranked = [self.sentences[i] for i in top]
        best = ranked[0]
        return SystemResponse(
            text=f"{best.text} [1]",
            abstained=False,
            passages=[Passage(text=best.text, markers=[1])],
            citations=[CitedSource(marker=1, doc_id=best.doc_id, sentence_ids=[best.id], text=best.text)],
            searched_as=question.question,
            ranked_sentences=[s.id for s in ranked],
            ranked_documents=list(dict.fromkeys(s.doc_id for s in ranked)),
            ranked_units=[RankedUnit(doc_id=s.doc_id, text=s.text) for s in ranked],
            latency_ms=latency_ms,
        )


def _unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
