"""llama.cpp CPU threads for the local GGUF model: 1 thread against N, in one run.

On a small shared machine more threads can be slower (they wait on each other while other
processes hold the cores), so `Settings.llm_threads` is set from this measurement, not assumed.
Each round sends the generative answerer's real prompt (system rules, worked examples, five
source sentences of the bundled corpus, a question) to one in-process llama.cpp server per
thread count, alternating the counts so machine load drifts over both alike, with the prompt
cache off so every round processes the whole prompt. llama.cpp's own timings are reported:
prompt tokens/s, generated tokens/s, and the wall time of the answer; ratios are against 1 thread.

    .venv/bin/python bench/llm_threads.py --gguf ~/.cache/citeqa/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from index.corpus import bundled_document  # noqa: E402
from index.splitting import split_document  # noqa: E402
from prompts import prompts  # noqa: E402
from qa.answerers import Evidence, Retrieval  # noqa: E402
from qa.generative import GenerativeAnswerer  # noqa: E402
from qa.llm import LocalServer, json_schema_format  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.verify import Verifier  # noqa: E402


def _request(settings: Settings) -> dict:
    sentences = [s for s in split_document(bundled_document()) if s.kind == "body" and s.language == "en"][:5]
    question = "What is the usual first-line treatment?"
    retrieval = Retrieval(question, question, "en", [Evidence(s, None, 0.9) for s in sentences], answerable=True)
    answerer = GenerativeAnswerer(prompts(), settings, Verifier(judge=None))  # type: ignore[arg-type]  # never judges here
    shown = {n: s for n, s in enumerate(sentences, 1)}
    messages = [{"role": m.role.value, "content": m.content} for m in answerer.messages(retrieval, shown)]
    return {
        "messages": messages,
        "max_tokens": settings.llm_max_tokens,
        "temperature": 0.0,
        "cache_prompt": False,
        "response_format": json_schema_format(answerer.schema(sorted(shown))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", type=Path, required=True)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = Settings(llm_max_tokens=160)
    request = _request(settings)
    servers = {n: LocalServer(args.gguf.resolve(), n, settings.llm_context) for n in args.threads}
    results: dict[int, list[tuple[float, float, float, int, int]]] = {n: [] for n in args.threads}
    for round_ in range(args.rounds):
        for n in args.threads if round_ % 2 == 0 else reversed(args.threads):
            server = servers[n]
            started = time.perf_counter()
            reply = httpx.post(
                f"{server.url}/chat/completions", json=request, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=1800
            ).json()
            wall = time.perf_counter() - started
            t = reply["timings"]
            results[n].append((t["prompt_per_second"], t["predicted_per_second"], wall, t["prompt_n"], t["predicted_n"]))
            print(f"round {round_ + 1}, {n} thread(s): prompt {t['prompt_n']} tok at {t['prompt_per_second']:.1f} tok/s, "
                  f"generated {t['predicted_n']} tok at {t['predicted_per_second']:.1f} tok/s, {wall:.1f} s", flush=True)
    base = results[args.threads[0]]
    print(f"\n{'threads':>7} {'prompt tok/s':>13} {'gen tok/s':>10} {'answer s':>9}   ratio vs {args.threads[0]} thread (answer time)")
    for n in args.threads:
        prompt_rate = statistics.median(r[0] for r in results[n])
        gen_rate = statistics.median(r[1] for r in results[n])
        wall = statistics.median(r[2] for r in results[n])
        ratio = wall / statistics.median(r[2] for r in base)
        print(f"{n:>7} {prompt_rate:>13.1f} {gen_rate:>10.1f} {wall:>9.1f}   {ratio:.2f}")


if __name__ == "__main__":
    main()
