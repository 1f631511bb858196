"""Load: many `gradio_client` clients asking at once against a local `qa serve`.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/load.py [--clients 50] [--questions 20] [--embedding minilm]

Starts `qa serve` on a free loopback port with a fresh index of the bundled corpus,
then, in the same run:
- baseline: one client asks `--questions` questions one after another;
- load: `--clients` clients (one thread and one `gradio_client.Client` each) ask
  `--questions` questions each, all at once.
Prints p50/p95 latency of each, the load p50 as a multiple of the single client's
p50 (target ≤ 5×), throughput, and every error (target 0).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, machine

QUESTIONS = [
    "What is the usual first-line treatment?",
    "What emerging treatment options are worth further study?",
    "What is known about the pathogenesis of juvenile dermatomyositis?",
    "What is the recommended dose of rituximab?",
    "幼年皮肌炎的初始治疗通常包括哪些药物？",
    "Which drugs are used for refractory disease?",
    "How common is calcinosis?",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def ask_many(url: str, count: int, offset: int, latencies: list[float], errors: list[str]) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    for i in range(count):
        question = QUESTIONS[(offset + i) % len(QUESTIONS)]
        started = time.perf_counter()
        try:
            result = client.predict(question=question, history=[], api_name="/ask")
            assert result["text"], "empty answer"
        except Exception as error:  # noqa: BLE001 - every failure is counted and printed
            errors.append(f"{type(error).__name__}: {error}")
            continue
        latencies.append(time.perf_counter() - started)


def summary(name: str, latencies: list[float], seconds: float) -> str:
    return (
        f"{name:<28} n={len(latencies):>5}  p50 {percentile(latencies, 0.5) * 1000:7.0f} ms  "
        f"p95 {percentile(latencies, 0.95) * 1000:7.0f} ms  {len(latencies) / seconds:6.1f} answers/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--embedding", default="minilm", choices=["minilm", "e5", "hash"])
    args = parser.parse_args()
    print(f"machine: {machine()}")

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory(prefix="citeqa-load-") as data_dir:
        env = {**os.environ, "CITEQA_EMBEDDING": args.embedding, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
        server = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "serve", "--port", str(port), "--data-dir", data_dir],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            import httpx

            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"`qa serve` did not start:\n{server.stderr.read() if server.stderr else ''}")
                time.sleep(0.5)
            # The data dir is fresh: `qa serve --data-dir` starts empty, so index the bundled corpus through the CLI.
            from index.corpus import bundled_document

            corpus = Path(data_dir) / "bundled.txt"
            corpus.write_text(bundled_document().text, encoding="utf-8")
            subprocess.run([sys.executable, "-m", "qa.cli", "ingest", str(corpus), "--data-dir", data_dir], cwd=REPO, env=env, check=True, capture_output=True)

            warm: list[float] = []
            errors: list[str] = []
            ask_many(url, len(QUESTIONS), 0, warm, errors)  # warm-up: the server sees the ingest, loads its caches

            single: list[float] = []
            started = time.perf_counter()
            ask_many(url, args.questions, 0, single, errors)
            single_seconds = time.perf_counter() - started

            loaded: list[float] = []
            threads = [
                threading.Thread(target=ask_many, args=(url, args.questions, c, loaded, errors)) for c in range(args.clients)
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            load_seconds = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(summary("1 client", single, single_seconds))
    print(summary(f"{args.clients} clients at once", loaded, load_seconds))
    ratio = percentile(loaded, 0.5) / percentile(single, 0.5)
    print(f"load p50 / single p50: {ratio:.1f}x (target <= 5x); errors: {len(errors)} (target 0)")
    for error in sorted(set(errors))[:10]:
        print(f"  {errors.count(error)} × {error}")
    print(f"single-client p50 spread: {statistics.pstdev(single) * 1000:.0f} ms stdev")


if __name__ == "__main__":
    main()
