"""BM25 over sentences, with the bilingual tokenizer.

The sentences' tokens are kept as ids into one sorted vocabulary (`Terms`): compact, cheap
to reuse when documents change (only new sentences are tokenized), and what the catalog
snapshot stores (index/snapshot.py). BM25 is bm25s's default (Lucene's variant, k1 1.5,
b 0.75, float32), computed here with numpy from the token ids in a fraction of a second
instead of bm25s's per-sentence Python loop; tests/index/test_lexical.py checks the scores
against bm25s itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from index.tokenize import tokenize

_K1, _B = 1.5, 0.75


class Terms:
    """The search tokens of every sentence in catalog order: ids into a sorted vocabulary.

    Sentence `p`'s tokens (in text order, repeats kept) are `ids[starts[p]:starts[p + 1]]`.
    """

    def __init__(self, vocabulary: list[str], ids: np.ndarray, starts: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.ids = np.asarray(ids, dtype=np.int32)
        self.starts = np.asarray(starts, dtype=np.int64)
        n = len(self.starts) - 1
        if n < 0 or self.starts[0] != 0 or self.starts[-1] != len(self.ids) or np.any(np.diff(self.starts) < 0):
            raise ValueError("token offsets do not match the token ids")
        if len(self.ids) and (int(self.ids.min()) < 0 or int(self.ids.max()) >= len(vocabulary)):
            raise ValueError("token id outside the vocabulary")
        self.lookup = {token: i for i, token in enumerate(vocabulary)}

    def __len__(self) -> int:
        return len(self.starts) - 1

    def grouped(self, firsts: np.ndarray) -> Terms:
        """Runs of consecutive sentences as units: unit `u` holds the tokens of sentences
        `firsts[u]` up to the next unit's first (`firsts` increasing, from 0). No copy of the ids."""
        return Terms(self.vocabulary, self.ids, np.append(self.starts[np.asarray(firsts, dtype=np.int64)], self.starts[-1]))

    def ids_at(self, position: int) -> np.ndarray:
        return self.ids[self.starts[position] : self.starts[position + 1]]

    def token_set(self, position: int) -> frozenset[str]:
        vocabulary = self.vocabulary
        return frozenset(vocabulary[i] for i in self.ids_at(position).tolist())

    @classmethod
    def gather(cls, source: Terms | None, reused: Sequence[int | None], fresh: dict[int, list[str]]) -> Terms:
        """Terms whose position `i` holds `source`'s tokens at `reused[i]`, or, where that is None, `fresh[i]`.

        The vocabulary keeps only tokens in use, sorted, so the same sentences always give the same Terms.
        """
        words = set(source.vocabulary) if source is not None else set()
        for tokens in fresh.values():
            words.update(tokens)
        vocabulary = sorted(words)
        lookup = {token: i for i, token in enumerate(vocabulary)}
        n = len(reused)
        old = np.array([-1 if r is None else r for r in reused], dtype=np.int64)
        lengths = np.zeros(n, dtype=np.int64)
        kept = np.flatnonzero(old >= 0)
        if source is not None:
            lengths[kept] = source.starts[old[kept] + 1] - source.starts[old[kept]]
        new = np.array(sorted(fresh), dtype=np.int64)
        lengths[new] = [len(fresh[i]) for i in new.tolist()]
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        ids = np.empty(int(starts[-1]), dtype=np.int32)
        if source is not None and len(kept):  # copy each kept run, renumbered, in one vectorized step
            remap = np.array([lookup[t] for t in source.vocabulary], dtype=np.int32)
            runs = lengths[kept]
            ids[_spread(starts[kept], runs)] = remap[source.ids[_spread(source.starts[old[kept]], runs)]]
        if len(new):
            ids[_spread(starts[new], lengths[new])] = [lookup[t] for i in new.tolist() for t in fresh[i]]
        used = np.flatnonzero(np.bincount(ids, minlength=len(vocabulary)))
        if len(used) < len(vocabulary):  # tokens only removed documents had
            vocabulary = [vocabulary[i] for i in used.tolist()]
            ids = np.searchsorted(used, ids).astype(np.int32)
        return cls(vocabulary, ids, starts)


def _spread(starts: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """The indices of runs of `runs[i]` items from `starts[i]`, one run after another."""
    within = np.arange(int(runs.sum())) - np.repeat(np.cumsum(runs) - runs, runs)
    return np.repeat(starts, runs) + within


class LexicalIndex:
    """BM25 scores of sentences (or of the units of `Terms.grouped`) for a query; positions are those of `terms`."""

    def __init__(self, terms: Terms) -> None:
        self._terms = terms
        self._size = n = len(terms)
        # How many sentences hold each vocabulary token.
        self.frequencies = np.zeros(len(terms.vocabulary), dtype=np.int64)
        if not n:
            return
        lengths = np.diff(terms.starts)
        docs = np.repeat(np.arange(n, dtype=np.int64), lengths)
        tokens = terms.ids.astype(np.int64)
        columns = len(terms.vocabulary)
        empty = np.flatnonzero(lengths == 0)
        if len(empty):  # a sentence without tokens counts as one placeholder token (as bm25s indexed it)
            docs, tokens = np.concatenate([docs, empty]), np.concatenate([tokens, np.full(len(empty), columns)])
            lengths = np.maximum(lengths, 1)
            columns += 1
        # (token, sentence) pairs sorted by token then sentence: the CSC layout, with term frequencies.
        pairs, tf = np.unique(tokens * n + docs, return_counts=True)
        column, row = pairs // n, pairs % n
        df = np.bincount(column, minlength=columns)
        self.frequencies = df[: len(terms.vocabulary)]
        idf = np.array([math.log(1 + (n - d + 0.5) / (d + 0.5)) if d else 0.0 for d in df.tolist()], dtype=np.float32)
        # In float64, then stored as float32: the same arithmetic as bm25s's, so the same scores to the bit.
        norm = _K1 * ((1 - _B) + _B * lengths / lengths.mean())
        self._data = (idf[column].astype(np.float64) * (tf / (norm[row] + tf))).astype(np.float32)
        self._rows = row.astype(np.int32)
        self._indptr = np.zeros(columns + 1, dtype=np.int64)
        np.cumsum(df, out=self._indptr[1:])

    def scores(self, query: str) -> np.ndarray | None:
        """BM25 score of every sentence for the query; None when no query term is indexed."""
        if not self._size:
            return None
        lookup = self._terms.lookup
        ids = [lookup[t] for t in tokenize(query) if t in lookup]
        if not ids:
            return None
        scores = np.zeros(self._size, dtype=np.float32)
        for i in ids:  # repeats count again, as in bm25s
            start, end = self._indptr[i], self._indptr[i + 1]
            scores[self._rows[start:end]] += self._data[start:end]  # a sentence appears once per token
        return scores

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

    @property
    def vocabulary(self) -> list[str]:
        return self._terms.vocabulary

    def __len__(self) -> int:
        return self._size


def idf_weights(lexical: LexicalIndex) -> dict[str, float]:
    """Inverse document frequency of every indexed token over sentences, for weighting question terms."""
    counts, total = lexical.frequencies, max(len(lexical), 1)
    held = np.flatnonzero(counts)
    weights = np.log(1 + total / counts[held]).tolist()
    vocabulary = lexical.vocabulary
    return {vocabulary[i]: weight for i, weight in zip(held.tolist(), weights, strict=True)}
