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
        scores = self._bm25.get_scores(tokens)
        # Select among the positive scores only: most sentences score 0, and np.argpartition
        # (bm25s's own top-k) degrades badly on such ties (~20 ms at 100,000 sentences, vs <1 ms).
        positive = np.flatnonzero(scores > 0)
        if len(positive) > top_k:
            positive = positive[np.argpartition(scores[positive], -top_k)[-top_k:]]
        best = positive[np.lexsort((positive, -scores[positive]))]  # by score, ties by position
        return [(int(p), float(scores[p])) for p in best]

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
