"""Query latency of `Assistant.ask` at 10,000 and 100,000 sentences, against the bare cost.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/query_latency.py [--sizes 10000 100000] [--questions 100]
        [--rerank all|on|always|off] [--embedding e5] [--threads N]

After a warm-up pass of every question through every path, for every PubMedQA question in turn
(interleaved and rotated, so load drift and cache effects hit all paths alike):
  ask           Assistant.ask with the product's default settings (extractive answerer, hybrid
                retrieval, cross-encoder reranker where the first stage is unsure: what a user gets;
                it prints how many questions the cross-encoder read)
  ask-always    Assistant.ask with Settings(rerank_always=True): the cross-encoder on every question
                (the product before the cascade)
  ask-norerank  Assistant.ask with Settings(rerank=False): first-stage ranking alone
  bare          embed the query + one Chroma query (top dense_top_k) — the floor
  li-retr       llama-index VectorStoreIndex(ChromaVectorStore).as_retriever().retrieve, same embedder and store
  li-query      llama-index as_query_engine(llm=MockLLM).query — the standard query path
`--rerank on`, `always` or `off` keeps only that one of the three ask rows. The reranker runs on e5 only,
so with `--embedding minilm` both ask rows rank with the first stage.
Prints p50/p95 and ratios to bare. Targets: ask p50 < 100 ms at 100,000 sentences, ask/bare ratio < 2.
The indexes are built once with the embedder's vectors of the distinct sentences reused (see
common.ensure_index) and kept in --work.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import DEFAULT_WORK, ensure_index, machine, peak_rss_mb, current_rss_mb, questions, set_threads, summary_ms, verdict


# The ask rows: their names and the settings that differ from the product's defaults.
ASKS = {"ask": {}, "ask-always": {"rerank_always": True}, "ask-norerank": {"rerank": False}}
CHOSEN_ASKS = {"all": list(ASKS), "on": ["ask"], "always": ["ask-always"], "off": ["ask-norerank"]}


def measure(
    data_dir: Path, embedding: str, asks: list[str], asked: list[str], warmup: int, profile: str | None
) -> dict[str, dict[str, float]]:
    from llama_index.core import VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from qa.assistant import Assistant
    from qa.settings import Settings

    assistants = {}
    for name in asks:
        opened = time.perf_counter()
        # Each row is an ordinary Assistant; the embedder and the reranker are loaded once per process and shared.
        settings = Settings(show_progress=False, embedding=embedding, **ASKS[name])
        assistants[name] = Assistant(data_dir=data_dir, settings=settings, include_bundled=False)
        print(
            f"  {name}: opened {len(assistants[name].catalog)} sentences in {time.perf_counter() - opened:.1f} s "
            f"(rerank={settings.rerank}, rerank_always={settings.rerank_always}); RSS {current_rss_mb():.0f} MB"
        )
    assistant = next(iter(assistants.values()))
    embed_model, collection, k = assistant.embed_model, assistant.index.sentences, assistant.settings.dense_top_k
    li_index = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=collection), embed_model=embed_model)
    li_retriever = li_index.as_retriever(similarity_top_k=k)
    li_engine = li_index.as_query_engine(similarity_top_k=k, llm=MockLLM(max_tokens=16))

    def bare(question: str) -> None:
        vector = embed_model.get_query_embedding(question)
        collection.query(query_embeddings=[vector], n_results=k)

    paths = {
        **{name: a.ask for name, a in assistants.items()},
        "bare": bare,
        "li-retr": li_retriever.retrieve,
        "li-query": li_engine.query,
    }
    # Warm-up: every question once through every path, so that no path pays for pages of the
    # Chroma index that another path then finds cached (a serving process is in steady state).
    for question in asked:
        for run in paths.values():
            run(question)
    times: dict[str, list[float]] = {name: [] for name in paths}
    abstained = dict.fromkeys(assistants, 0)
    names = list(paths)
    for number, question in enumerate(asked[warmup:]):
        for name in names[number % len(names) :] + names[: number % len(names)]:  # rotate who goes first
            run = paths[name]
            started = time.perf_counter()
            result = run(question)
            times[name].append(time.perf_counter() - started)
            if name in abstained:
                abstained[name] += result.abstained
    if profile:
        import cProfile

        cProfile.runctx("for q in qs: ask(q)", {}, {"qs": asked[warmup : warmup + 20], "ask": assistant.ask}, profile)
        print(f"  cProfile of 20 asks ({asks[0]}) written to {profile}")
    for name, count in abstained.items():
        # The cascade skips the cross-encoder where the first stage is sure (qa.relevance.Reranked.skip_above):
        # how often it ran decides the p50. Searched again, untimed: ask searches the question as asked.
        read = sum(assistants[name].retriever.search(q).reranked for q in asked[warmup:])
        print(f"  {name}: answered {len(times[name]) - count}, abstained {count}; cross-encoder read {read} of {len(asked[warmup:])}")
    print(f"  RSS {current_rss_mb():.0f} MB")
    import torch

    started = time.perf_counter()
    assistant.catalog.replace()  # what every add_documents/remove_documents pays after its Chroma writes
    print(f"  catalog rebuild (BM25 + IDF over all sentences): {time.perf_counter() - started:.2f} s; torch threads {torch.get_num_threads()}")
    return {name: summary_ms(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rerank", choices=list(CHOSEN_ASKS), default="all", help="ask rows: the default settings (cross-encoder where the first stage is unsure), always reranked, first stage only, or all side by side")
    parser.add_argument("--embedding", choices=["e5", "minilm"], default="e5", help="the index's and the Assistant's embedder (e5: the product's default)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: CITEQA_TORCH_THREADS, else 1)")
    parser.add_argument("--profile", action="store_true", help="also write a cProfile of 20 asks per size to --work")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args()
    set_threads(args.threads)
    print(f"machine: {machine()}")
    asked = questions(args.questions + args.warmup)
    asks = CHOSEN_ASKS[args.rerank]
    results = {}
    for size in args.sizes:
        data_dir = ensure_index(size, args.work, args.embedding)
        print(f"{size} sentences ({data_dir}):")
        profile = str(args.work / f"ask-{size}.prof") if args.profile else None
        results[size] = measure(data_dir, args.embedding, asks, asked, args.warmup, profile)

    print()
    print(f"{'sentences':>9} {'path':<12} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'p50/bare':>9} {'p95/bare':>9}")
    for size, by_path in results.items():
        base = by_path["bare"]
        for name, s in by_path.items():
            print(
                f"{size:>9} {name:<12} {s['p50']:8.1f} {s['p95']:8.1f} {s['mean']:8.1f} "
                f"{s['p50'] / base['p50']:9.2f} {s['p95'] / base['p95']:9.2f}"
            )
    largest = max(results)
    print()
    for name in asks:
        p50 = results[largest][name]["p50"]
        print(f"{name} p50 at {largest}: {p50:.1f} ms -> {verdict(p50, 100, False)}")
        for size in results:
            ratio = results[size][name]["p50"] / results[size]["bare"]["p50"]
            print(f"{name}/bare p50 ratio at {size}: {ratio:.2f} -> {verdict(ratio, 2.0, False)}")
    for size in results:
        # The before/after of the cascade, and what the cross-encoder still costs, in the same run.
        for name in ("ask", "ask-always"):
            if name in asks and "ask-norerank" in asks:
                on, off = results[size][name]["p50"], results[size]["ask-norerank"]["p50"]
                print(f"{name} at {size}: +{on - off:.1f} ms p50 over ask-norerank ({name} / ask-norerank = {on / off:.2f})")
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
