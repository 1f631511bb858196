"""Cold start: time from a new process to its first answer, with the index already built.

    HF_HUB_OFFLINE=1 nice -n 19 .venv/bin/python bench/cold_start.py [--sizes 10000 100000] [--runs 3]
        [--embedding e5] [--vectors synthetic] [--before DIR [--before-runtime onnx]]

Each run starts `python -c ...` (a new interpreter), which imports citeqa, opens the
Assistant on an existing index (model load, Chroma open, catalog + BM25) and asks one
question. The parent measures wall time to the printed answer; the child reports where the
time went ("catalog" is `open_catalog`, within "open"). For every size, two rows:

    snapshot      the catalog snapshot is in the data directory (index/snapshot.py), as every
                  open after the first finds it
    no snapshot   it was deleted first: the catalog is built from Chroma (and written again)

Baselines in the same run: `python -c "import numpy"`, and a bare model load (import
sentence-transformers, load the same embedder, encode one query). `--before DIR` adds rows
for another checkout's code on the same indexes (e.g. `git archive main | tar -x -C DIR`).
`--runtime onnx` (or `both`) opens the Assistant with `Settings(runtime=...)`, as `qa ask` does
in a new process; the rows then name the runtime.

Vectors: the indexes are written through the product's store (common.ensure_index). With
`--vectors synthetic` (the default) they hold deterministic per-sentence vectors, no model:
embedding 100,000 sentences with e5 would take hours on this machine, and a cold start's cost
is the catalog, BM25 and model load, not the vectors' meaning. The child still loads the real
embedder and runs the real HNSW query; only the dense ranking is meaningless.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
import qa.assistant as assistant_module
from qa.assistant import Assistant
from qa.settings import Settings
t1 = time.perf_counter()
spent = {{}}
if hasattr(assistant_module, "open_catalog"):
    real = assistant_module.open_catalog
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent["catalog"] = time.perf_counter() - started
    assistant_module.open_catalog = timed
else:  # code from before the snapshot
    from index.catalog import Catalog
    real_load = Catalog.load.__func__
    def timed_load(cls, index):
        started = time.perf_counter()
        try:
            return real_load(cls, index)
        finally:
            spent["catalog"] = time.perf_counter() - started
    Catalog.load = classmethod(timed_load)
a = Assistant(data_dir={data_dir!r}, settings=Settings(show_progress=False, embedding={embedding!r}{runtime}), include_bundled=False)
t2 = time.perf_counter()
answer = a.ask({question!r})
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "open": t2 - t1, "catalog": spent.get("catalog", float("nan")), "first_ask": t3 - t2, "sentences": len(a.catalog)}}), flush=True)
"""

NUMPY = """
import json, time
t0 = time.perf_counter()
import numpy
print(json.dumps({"import": time.perf_counter() - t0}), flush=True)
"""

BARE_MODEL = """
import json, time, sys
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
from sentence_transformers import SentenceTransformer
t1 = time.perf_counter()
if {embedding!r} == "e5":
    from index.e5_convert import ensure_model
    path, prompt = str(ensure_model()), "query: "
else:
    from index.embedding import minilm_path
    path, prompt = minilm_path(), ""
import torch
torch.set_num_threads(1)  # as citeqa's model load does (CITEQA_TORCH_THREADS)
model = SentenceTransformer(path, device="cpu")
model.encode([prompt + {question!r}])
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "load+encode": t2 - t1}}), flush=True)
"""


def run(code: str) -> tuple[float, dict]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"child failed: {out.stderr[-3000:]}")
    return wall, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--embedding", choices=["e5", "minilm"], default="e5")
    parser.add_argument("--vectors", choices=["synthetic", "model"], default="synthetic")
    parser.add_argument("--before", type=Path, help="another checkout whose code is timed on the same indexes")
    parser.add_argument("--before-runtime", choices=["sentence-transformers", "onnx"],
                        help="Settings.runtime of the --before code's children (default: that code's own default)")
    parser.add_argument("--runtime", choices=["sentence-transformers", "onnx", "both"], default="sentence-transformers",
                        help="Settings.runtime of this checkout's children (both: a row for each)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    question = questions(1)[0]
    dirs = {size: ensure_index(size, args.work, args.embedding, args.vectors) for size in args.sizes}
    rows: list[tuple[str, float, dict]] = []

    def child(repo: Path, data_dir: Path, runtime: str | None = None) -> tuple[float, dict]:
        setting = "" if runtime is None else f", runtime={runtime!r}"  # the --before code has no such setting
        return run(CHILD.format(repo=str(repo), data_dir=str(data_dir), question=question, embedding=args.embedding, runtime=setting))

    def before_row(size: int) -> str:
        return f"{size} before" + (f" {args.before_runtime}" if args.before_runtime else "")

    runtimes = ["sentence-transformers", "onnx"] if args.runtime == "both" else [args.runtime]
    named = {runtime: "" if args.runtime == "sentence-transformers" else f" {runtime}" for runtime in runtimes}  # row labels

    for attempt in range(args.runs):  # interleaved: baselines, then each size and variant
        rows.append(("import numpy", *run(NUMPY)))
        rows.append(("bare model", *run(BARE_MODEL.format(repo=str(REPO), question=question, embedding=args.embedding))))
        for size, data_dir in dirs.items():
            if args.before:
                rows.append((before_row(size), *child(args.before, data_dir, args.before_runtime)))
            for runtime in runtimes:
                shutil.rmtree(data_dir / "catalog-cache", ignore_errors=True)
                # Builds the catalog, writes the snapshot.
                rows.append((f"{size} no snapshot{named[runtime]}", *child(REPO, data_dir, runtime)))
                assert any((data_dir / "catalog-cache").glob("*.npz")), "the open wrote no snapshot"
                rows.append((f"{size} snapshot{named[runtime]}", *child(REPO, data_dir, runtime)))
        print(f"run {attempt + 1}/{args.runs} done ({time.strftime('%H:%M:%S')}, load {os.getloadavg()[0]:.1f})", flush=True)
    print()
    median = {label: statistics.median(r[1] for r in rows if r[0] == label) for label in dict.fromkeys(r[0] for r in rows)}
    numpy_s, model_s = median["import numpy"], median["bare model"]
    width = max(map(len, median))
    print(f"{'':<{width}} {'median s':>9} {'min s':>6} {'/numpy':>7} {'/model':>7}  parts (medians, s)")
    for label, value in median.items():
        mine = [r for r in rows if r[0] == label]
        keys = [k for k in mine[0][2] if k != "sentences"]
        parts = ", ".join(f"{k} {statistics.median(r[2][k] for r in mine):.2f}" for k in keys)
        print(f"{label:<{width}} {value:9.2f} {min(r[1] for r in mine):6.2f} {value / numpy_s:7.1f} {value / model_s:7.2f}  [{parts}]")
    for size in dirs:
        for runtime in runtimes:
            snapshot = median[f"{size} snapshot{named[runtime]}"]
            line = (f"{size}{named[runtime]}: snapshot / no snapshot {snapshot / median[f'{size} no snapshot{named[runtime]}']:.2f}; "
                    f"snapshot / bare model {snapshot / model_s:.2f}")
            if args.before:
                line += f"; before / snapshot {median[before_row(size)] / snapshot:.2f}"
            if size == 100_000:
                line += f"; target first answer <= 10 s: {'met' if snapshot <= 10 else 'NOT met'} ({snapshot:.1f} s)"
            print(line)


if __name__ == "__main__":
    main()
