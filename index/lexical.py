"""BM25 over sentences (bm25s), with the bilingual tokenizer."""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np

from index.tokenize import tokenize


class LexicalIndex:
    """BM25 scores of sentences for a query; sentence positions are those of `texts`."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._size = len(texts)
        self._bm25 = bm25s.BM25()
        if self._size:
            corpus_tokens = [tokenize(text) or ["\u2205"] for text in texts]
            self._bm25.index(corpus_tokens, show_progress=False)
            self._vocabulary = set(self._bm25.vocab_dict)

    def search(self, query: str, top_k: int) -> list[tuple[int, float]]:
        """(position, BM25 score) of the best `top_k` sentences with a positive score."""
        if not self._size:
            return []
        tokens = [t for t in tokenize(query) if t in self._vocabulary]
        if not tokens:
            return []
        k = min(top_k, self._size)
        positions, scores = self._bm25.retrieve([tokens], k=k, show_progress=False)
        return [(int(p), float(s)) for p, s in zip(positions[0], scores[0]) if s > 0]

    def __len__(self) -> int:
        return self._size


def idf_weights(texts: Sequence[str]) -> dict[str, float]:
    """Inverse document frequency of every token over sentences, for weighting question terms."""
    counts: dict[str, int] = {}
    for text in texts:
        for token in set(tokenize(text)):
            counts[token] = counts.get(token, 0) + 1
    total = max(len(texts), 1)
    return {token: float(np.log(1 + total / count)) for token, count in counts.items()}
