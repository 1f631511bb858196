"""Cold start: time from a new process to its first answer, with the index already built.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/cold_start.py [--sizes 10000 100000] [--runs 3]

Each run starts `python -c ...` (a new interpreter), which imports citeqa, opens the
Assistant on an existing index (model load, Chroma open, catalog + BM25 load) and
asks one question. The parent measures wall time to the printed answer; the child
reports where the time went. Baseline in the same run: a new process that only
imports sentence-transformers, loads the model and encodes one query.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import DEFAULT_WORK, REPO, ensure_index, machine, questions

CHILD = """
import json, time, sys
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
from qa.assistant import Assistant
from qa.settings import Settings
t1 = time.perf_counter()
a = Assistant(data_dir={data_dir!r}, settings=Settings(show_progress=False), include_bundled=False)
t2 = time.perf_counter()
answer = a.ask({question!r})
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "open": t2 - t1, "first_ask": t3 - t2, "sentences": len(a.catalog)}}), flush=True)
"""

BASELINE = """
import json, time, sys
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
from index.embedding import minilm_path
from sentence_transformers import SentenceTransformer
t1 = time.perf_counter()
model = SentenceTransformer(minilm_path(), device="cpu")
model.encode([{question!r}])
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "load+encode": t2 - t1}}), flush=True)
"""


def run(code: str) -> tuple[float, dict]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=REPO)
    wall = time.perf_counter() - started
    return wall, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    question = questions(1)[0]
    dirs = {size: ensure_index(size, args.work) for size in args.sizes}
    rows = []
    for attempt in range(args.runs):  # interleaved: baseline, then each size
        wall, parts = run(BASELINE.format(repo=str(REPO), question=question))
        rows.append(("bare model", wall, parts))
        for size, data_dir in dirs.items():
            wall, parts = run(CHILD.format(repo=str(REPO), data_dir=str(data_dir), question=question))
            rows.append((f"{size} sentences", wall, parts))
        print(f"run {attempt + 1}/{args.runs} done", flush=True)
    print()
    for label in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == label]
        walls = [r[1] for r in mine]
        keys = mine[0][2].keys()
        parts = ", ".join(f"{k} {statistics.median(r[2][k] for r in mine):.1f}" for k in keys if k != "sentences")
        print(f"{label:<18} new process -> first answer: median {statistics.median(walls):5.1f} s (min {min(walls):.1f})  [{parts}]")
    base = statistics.median(r[1] for r in rows if r[0] == "bare model")
    for size in dirs:
        walls = [r[1] for r in rows if r[0] == f"{size} sentences"]
        print(f"ratio cold start / bare model start at {size}: {statistics.median(walls) / base:.2f}")


if __name__ == "__main__":
    main()
