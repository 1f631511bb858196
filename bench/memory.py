"""Peak memory (RSS) of ingest and of a serving process, and the index size on disk.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/memory.py [--sizes 10000 100000]

Each measurement is its own new process, so its peak RSS is its own:
  baseline   import citeqa + load the model + encode one query (the floor of any serving process)
  serve      open the Assistant on the built index and ask 20 questions
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
BASELINE = PRELUDE + """
from index.embedding import load_embed_model
load_embed_model("minilm").get_query_embedding("warm up")
print(json.dumps({{"peak_mb": peak_rss_mb()}}))
"""
SERVE = PRELUDE + """
from qa.assistant import Assistant
from qa.settings import Settings
a = Assistant(data_dir={data_dir!r}, settings=Settings(show_progress=False), include_bundled=False)
for q in questions(20):
    a.ask(q)
print(json.dumps({{"peak_mb": peak_rss_mb(), "now_mb": current_rss_mb(), "sentences": len(a.catalog)}}))
"""
BUILD = PRELUDE + """
from pathlib import Path
d = ensure_index({size}, Path({work!r}))
print(json.dumps({{"peak_mb": peak_rss_mb(), "dir": str(d)}}))
"""


def child(code: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args()
    fmt = {"repo": str(REPO), "bench": str(Path(__file__).parent)}
    print(f"machine: {machine()}")
    ensure_index(min(args.sizes), args.work)  # caches the reused vectors outside the measured build
    baseline = child(BASELINE.format(**fmt))
    print(f"baseline (model + one query): peak RSS {baseline['peak_mb']:.0f} MB")
    for size in args.sizes:
        scratch = args.work / "memory-build"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(args.work, scratch, ignore=shutil.ignore_patterns("index-*", "memory-build", "ingest*", "*.prof"))
        built = child(BUILD.format(size=size, work=str(scratch), **fmt))
        data_dir = ensure_index(size, args.work)
        served = child(SERVE.format(data_dir=str(data_dir), **fmt))
        print(
            f"{size:>7} sentences: build peak RSS {built['peak_mb']:.0f} MB; "
            f"serve peak RSS {served['peak_mb']:.0f} MB (now {served['now_mb']:.0f} MB, "
            f"+{served['peak_mb'] - baseline['peak_mb']:.0f} MB over the baseline); "
            f"index on disk {directory_mb(data_dir):.0f} MB"
        )
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
