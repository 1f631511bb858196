"""Start-up: how long each `qa` command and the app take from a new process, beside bare baselines.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/startup.py [--runs 3]

Every measurement is a new process, timed by this parent from spawn to exit (or, for the
app, to its page answering HTTP). Interleaved in each run, on the bundled corpus indexed in
the work directory:

    baseline  python -c "import numpy"                    the floor of any Python tool here
    baseline  import sentence-transformers, load MiniLM, encode one query (what any in-process answer pays)
    baseline  python -c "import gradio"                    the floor of any Gradio app
    baseline  python -c "import llama_index.core, chromadb" the floor of an in-process answer: the
                                                            libraries retrieval runs through
    qa list / qa remove <unknown id> / qa ask "" (argument error) / qa ingest missing.pdf
    qa ask Q                 with no app running: answers in-process (the ONNX runtime, no torch)
    qa ask Q (torch)         the same with --runtime sentence-transformers (what `qa ask` ran before)
    qa ask Q (app running)   `qa serve` on the same index is up: the CLI asks it over HTTP
    qa serve: page           spawn → GET / answers 200 (the model still loading in the background)
    qa serve: warm           spawn → first answer through the API

Targets (issue 10): list/remove/argument errors ≤ 1 s; `qa ask` ≤ 3 s; app ready ≤ 8 s. On a
shared machine the absolute times move with the load; the ratios to the baselines do not.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import DEFAULT_WORK, REPO, machine

QUESTION = "What is the usual first-line treatment?"
QA = [sys.executable, "-m", "qa.cli"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}
TARGETS_S = {"qa list": 1.0, "qa remove <unknown id>": 1.0, 'qa ask ""': 1.0, "qa ingest missing.pdf": 1.0,
             "qa ask Q (app running)": 3.0, "qa ask Q": 3.0, "qa ask Q (torch)": 3.0, "qa serve: page": 8.0}

BARE_MODEL = """
from index.embedding import minilm_path
from sentence_transformers import SentenceTransformer
SentenceTransformer(minilm_path(), device="cpu").encode(["{question}"])
"""


def timed(command: list[str], expect_ok: bool = True) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if expect_ok and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    return elapsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError("the app did not come up")


def start_app(data_dir: Path) -> tuple[subprocess.Popen, float, float]:
    """Spawn `qa serve`; seconds until its page answers, and until its first answer."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([*QA, "serve", "--port", str(port), "--data-dir", str(data_dir)], cwd=REPO, env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).status == 200)
    page = time.perf_counter() - started
    sys.path.insert(0, str(REPO))
    from qa.serving import find_server, remote_ask
    from qa.settings import Settings

    wait_for(lambda: find_server(Settings(data_dir=data_dir)) is not None)
    remote_ask(find_server(Settings(data_dir=data_dir)), QUESTION)
    return server, page, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    data_dir = args.work / "startup-bundled"
    # The bundled corpus, indexed once (the default data dir would be the user's own ~/.cache).
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r}); from qa import Assistant, Settings; "
                    f"Assistant(settings=Settings(data_dir={str(data_dir)!r}, show_progress=False), include_bundled=True)"],
                   cwd=REPO, env=ENV, check=True)
    index = ["--data-dir", str(data_dir)]
    rows: dict[str, list[float]] = {}
    for attempt in range(args.runs):
        measured = {
            "python -c 'import numpy'": lambda: timed([sys.executable, "-c", "import numpy"]),
            "bare model load + encode": lambda: timed([sys.executable, "-c", BARE_MODEL.format(question=QUESTION)]),
            "python -c 'import gradio'": lambda: timed([sys.executable, "-c", "import gradio"]),
            "import llama_index, chromadb": lambda: timed([sys.executable, "-c", "import llama_index.core, chromadb"]),
            "qa list": lambda: timed([*QA, "list", *index]),
            "qa remove <unknown id>": lambda: timed([*QA, "remove", "no-such-document", *index], expect_ok=False),
            'qa ask ""': lambda: timed([*QA, "ask", "", *index], expect_ok=False),
            "qa ingest missing.pdf": lambda: timed([*QA, "ingest", "/nonexistent/missing.pdf", *index], expect_ok=False),
            "qa ask Q": lambda: timed([*QA, "ask", QUESTION, *index]),
            "qa ask Q (torch)": lambda: timed([*QA, "ask", QUESTION, "--runtime", "sentence-transformers", *index]),
        }
        for label, measure in measured.items():
            rows.setdefault(label, []).append(measure())
        server, page, warm = start_app(data_dir)
        try:
            rows.setdefault("qa serve: page", []).append(page)
            rows.setdefault("qa serve: warm", []).append(warm)
            rows.setdefault("qa ask Q (app running)", []).append(timed([*QA, "ask", QUESTION, *index]))
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(f"run {attempt + 1}/{args.runs} done", flush=True)

    numpy_s = statistics.median(rows["python -c 'import numpy'"])
    model_s = statistics.median(rows["bare model load + encode"])
    gradio_s = statistics.median(rows["python -c 'import gradio'"])
    print(f"\n{'what':<28} {'median s':>9} {'min s':>7}  {'÷ numpy':>8} {'÷ model':>8} {'÷ gradio':>9}  target")
    for label, values in rows.items():
        median = statistics.median(values)
        target = TARGETS_S.get(label)
        verdict = "" if target is None else f"≤ {target:.0f} s: {'met' if median <= target else 'NOT met'}"
        print(f"{label:<28} {median:9.2f} {min(values):7.2f}  {median / numpy_s:8.2f} {median / model_s:8.2f} "
              f"{median / gradio_s:9.2f}  {verdict}")
    print(json.dumps({label: [round(v, 3) for v in values] for label, values in rows.items()}))


if __name__ == "__main__":
    main()
