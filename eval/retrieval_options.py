"""Compare retrieval options on the bundled-corpus gold set: `python -m eval.retrieval_options`.

This is how the default retrieval was chosen: BM25 alone, each embedder alone, and
each embedder fused with BM25, scored per question language by recall@k and MRR of
the gold evidence groups (a group is a sentence and its translation, which the
answerer cites together through the EN↔ZH links).
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from eval.dataset import load_gold_set
from index.corpus import bundled_document
from index.embedding import load_embed_model
from index.lexical import LexicalIndex
from index.splitting import split_document
from qa.conversation import standalone_question
from qa.retrieval import reciprocal_rank_fusion

K = 3


def _dense_ranking(model, texts: list[str], ids: list[str]):
    matrix = np.asarray(model.get_text_embedding_batch(texts))
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)

    def rank(query: str) -> list[str]:
        vector = np.asarray(model.get_query_embedding(query))
        order = np.argsort(-(matrix @ (vector / np.linalg.norm(vector))))
        return [ids[i] for i in order]

    return rank


def main() -> None:
    sentences = split_document(bundled_document())
    ids, texts = [s.id for s in sentences], [s.text for s in sentences]
    lexical = LexicalIndex(texts)

    def bm25(query: str) -> list[str]:
        return [ids[p] for p, _ in lexical.search(query, len(ids))]

    rankers = {"bm25": bm25}
    for name in ("minilm", "e5"):
        started = time.perf_counter()
        dense = _dense_ranking(load_embed_model(name), texts, ids)
        print(f"{name}: embedded {len(texts)} sentences in {time.perf_counter() - started:.1f} s")
        rankers[name] = dense
        rankers[f"{name}+bm25"] = lambda q, dense=dense: sorted_fusion([dense(q), bm25(q)])

    items = [item for item in load_gold_set().items if item.answerable and item.gold]
    table: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        query, _ = standalone_question(item.question, item.history)
        groups = [{ref.sentence_id for ref in group} for group in item.gold]
        for name, ranker in rankers.items():
            ranking = ranker(query)
            found = [min((ranking.index(i) for i in group if i in ranking), default=None) for group in groups]
            recall = sum(1 for f in found if f is not None and f < K) / len(groups)
            first = min((f for f in found if f is not None), default=None)
            reciprocal = 1.0 / (first + 1) if first is not None else 0.0
            language_bucket = "cross_lingual" if item.category == "cross_lingual" else f"{item.language} question"
            for bucket in (language_bucket, "all"):
                table[name][bucket].append((recall, reciprocal))
    buckets = ["en question", "zh question", "cross_lingual", "all"]
    print(f"\n{len(items)} answerable questions; recall@{K} / MRR of gold evidence groups")
    print(f"{'option':<12}" + "".join(f"{b:>24}" for b in buckets))
    for name, by_bucket in table.items():
        cells = []
        for bucket in buckets:
            rows = by_bucket.get(bucket, [])
            cells.append(f"{np.mean([r for r, _ in rows]):.3f} / {np.mean([m for _, m in rows]):.3f} (n={len(rows)})" if rows else "-")
        print(f"{name:<12}" + "".join(f"{c:>24}" for c in cells))


def sorted_fusion(rankings: list[list[str]]) -> list[str]:
    fused = reciprocal_rank_fusion(rankings, k=60)
    return sorted(fused, key=fused.__getitem__, reverse=True)


if __name__ == "__main__":
    main()
