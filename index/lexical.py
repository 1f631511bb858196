"""BM25 over sentences (bm25s), with the bilingual tokenizer."""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np

from index.tokenize import tokenize


class LexicalIndex:
    """BM25 scores of sentences for a query; sentence positions are those of `texts`."""

    def __init__(self, corpus_tokens: Sequence[Sequence[str]]) -> None:
        """`corpus_tokens`: `tokenize(text)` of each sentence, in position order."""
        self._size = len(corpus_tokens)
        self._bm25 = bm25s.BM25()
        if self._size:
            self._bm25.index([list(tokens) or ["\u2205"] for tokens in corpus_tokens], show_progress=False)
            self._vocabulary = set(self._bm25.vocab_dict)

    def scores(self, query: str) -> np.ndarray | None:
        """BM25 score of every sentence for the query; None when no query term is indexed."""
        if not self._size:
            return None
        tokens = [t for t in tokenize(query) if t in self._vocabulary]
        return self._bm25.get_scores(tokens) if tokens else None

    @staticmethod
    def top(scores: np.ndarray | None, top_k: int) -> list[tuple[int, float]]:
        """(position, BM25 score) of the best `top_k` sentences with a positive score."""
        if scores is None:
            return []
        # Select among the positive scores only: most sentences score 0, and np.argpartition
        # (bm25s's own top-k) degrades badly on such ties (~20 ms at 100,000 sentences, vs <1 ms).
        positive = np.flatnonzero(scores > 0)
        if len(positive) > top_k:
            positive = positive[np.argpartition(scores[positive], -top_k)[-top_k:]]
        best = positive[np.lexsort((positive, -scores[positive]))]  # by score, ties by position
        return [(int(p), float(scores[p])) for p in best]

    def search(self, query: str, top_k: int) -> list[tuple[int, float]]:
        return self.top(self.scores(query), top_k)

    def __len__(self) -> int:
        return self._size


def idf_weights(token_sets: Sequence[frozenset[str]]) -> dict[str, float]:
    """Inverse document frequency of every token over sentences, for weighting question terms."""
    counts: dict[str, int] = {}
    for tokens in token_sets:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    total = max(len(token_sets), 1)
    return {token: float(np.log(1 + total / count)) for token, count in counts.items()}
