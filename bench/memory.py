"""Peak memory (RSS) of ingest and of a serving process, and the index size on disk.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/memory.py [--sizes 10000 100000] [--embedding e5]

Each measurement is its own new process, so its peak RSS is its own:
  embedder   import citeqa + load the embedder + encode one query (the floor of any serving process)
  models     the same + load the cross-encoder reranker and score one pair (e5 only: the models a
             serving process with the default settings holds)
  serve      open an Assistant with the default settings on the built index and ask 20 questions
  build      write the index through the product's store with reused vectors (common.ensure_index)
The real-model ingest's peak RSS at 10,000 sentences is printed by ingest_throughput.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from common import DEFAULT_WORK, REPO, directory_mb, ensure_index, machine

PRELUDE = "import json, sys; sys.path.insert(0, {repo!r}); sys.path.insert(0, {bench!r}); from common import *\n"
MODELS = PRELUDE + """
from index.embedding import load_embed_model
load_embed_model({embedding!r}).get_query_embedding("warm up")
if {reranker}:
    from qa.reranker import load_reranker
    load_reranker().scores("warm up", [("One sentence.", "")])
print(json.dumps({{"peak_mb": peak_rss_mb()}}))
"""
SERVE = PRELUDE + """
from qa.assistant import Assistant
from qa.reranker import load_reranker
from qa.settings import Settings
a = Assistant(data_dir={data_dir!r}, settings=Settings(show_progress=False, embedding={embedding!r}), include_bundled=False)
for q in questions(20):
    a.ask(q)
print(json.dumps({{"peak_mb": peak_rss_mb(), "now_mb": current_rss_mb(), "sentences": len(a.catalog),
                   "reranker": load_reranker.cache_info().currsize > 0}}))
"""
BUILD = PRELUDE + """
from pathlib import Path
d = ensure_index({size}, Path({work!r}), {embedding!r})
print(json.dumps({{"peak_mb": peak_rss_mb(), "dir": str(d)}}))
"""


def child(code: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--embedding", choices=["e5", "minilm"], default="e5", help="the index's and the Assistant's embedder (e5: the product's default)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args()
    fmt = {"repo": str(REPO), "bench": str(Path(__file__).parent), "embedding": args.embedding}
    print(f"machine: {machine()}")
    ensure_index(min(args.sizes), args.work, args.embedding)  # caches the reused vectors outside the measured build
    floors = {"embedder": child(MODELS.format(reranker=False, **fmt))["peak_mb"]}
    if args.embedding == "e5":  # the reranker is built on the e5 weights and runs with them only
        floors["embedder + reranker"] = child(MODELS.format(reranker=True, **fmt))["peak_mb"]
    for name, peak in floors.items():
        print(f"{name} (load + one query): peak RSS {peak:.0f} MB")
    for size in args.sizes:
        scratch = args.work / "memory-build"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(args.work, scratch, ignore=shutil.ignore_patterns("index-*", "memory-build", "ingest*", "*.prof"))
        built = child(BUILD.format(size=size, work=str(scratch), **fmt))
        data_dir = ensure_index(size, args.work, args.embedding)
        served = child(SERVE.format(data_dir=str(data_dir), **fmt))
        floor = "embedder + reranker" if served["reranker"] else "embedder"
        print(
            f"{size:>7} sentences: build peak RSS {built['peak_mb']:.0f} MB; "
            f"serve peak RSS {served['peak_mb']:.0f} MB (now {served['now_mb']:.0f} MB, "
            f"+{served['peak_mb'] - floors[floor]:.0f} MB over the {floor} floor); "
            f"index on disk {directory_mb(data_dir):.0f} MB"
        )
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
