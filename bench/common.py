"""Shared pieces of the benchmarks: the PubMedQA corpus at a given size, timing, memory, machine.

Every benchmark compares against a baseline measured in the same process run and
prints ratios, so that a busy machine shifts both sides alike.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from index.documents import Document, Sentence  # noqa: E402
from index.splitting import split_document  # noqa: E402

PUBMEDQA = REPO / "eval" / "data" / "pubmedqa_labeled_500.jsonl"
DEFAULT_WORK = Path(os.environ.get("CITEQA_BENCH_DIR", "/tmp/citeqa-bench"))


def pubmedqa_records() -> list[dict]:
    if not PUBMEDQA.exists():
        sys.exit(f"{PUBMEDQA} is missing: the benchmarks read the repository's copy of PubMedQA.")
    lines = PUBMEDQA.read_text(encoding="utf-8").split("\n")  # abstracts contain U+2028: not splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def base_documents() -> list[Document]:
    from eval.pubmedqa import load_pubmedqa

    return [record.document() for record in load_pubmedqa(PUBMEDQA)]


def questions(limit: int | None = None) -> list[str]:
    return [record["question"] for record in pubmedqa_records()][:limit]


def copy_document(document: Document, copy: int) -> Document:
    """The same abstract under a new ID (copy 0 is the original)."""
    if copy == 0:
        return document
    return document.model_copy(update={"id": f"{document.id}-c{copy}", "source": f"{document.source} (copy {copy})"})


def copy_sentences(sentences: list[Sentence], document: Document) -> list[Sentence]:
    """A copy's sentences: same texts and offsets, IDs derived from the copy's ID (as split_document would)."""
    return [
        s.model_copy(
            update={
                "id": Sentence.make_id(document.id, s.ordinal, s.text, document.content_hash),
                "doc_id": document.id,
                "parallel_id": None,
            }
        )
        for s in sentences
    ]


def corpus(target_sentences: int) -> list[tuple[Document, list[Sentence]]]:
    """PubMedQA abstracts, repeated under new IDs, until `target_sentences` sentences are reached.

    Returns each document with its split; the split of a copy is the original's with new IDs.
    """
    originals = [(d, split_document(d)) for d in base_documents()]
    chosen: list[tuple[Document, list[Sentence]]] = []
    total, copy = 0, 0
    while total < target_sentences:
        for document, sentences in originals:
            if total >= target_sentences:
                break
            clone = copy_document(document, copy)
            chosen.append((clone, sentences if copy == 0 else copy_sentences(sentences, clone)))
            total += len(sentences)
        copy += 1
    return chosen


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {"p50": percentile(ms, 0.5), "p95": percentile(ms, 0.95), "mean": statistics.fmean(ms)}


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    ended: list[float] = []
    yield lambda: (ended[0] if ended else time.perf_counter()) - started
    ended.append(time.perf_counter())


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def directory_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


def machine() -> str:
    import torch

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GB RAM; Python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads by default; citeqa's model load sets "
        f"CITEQA_TORCH_THREADS={os.environ.get('CITEQA_TORCH_THREADS', '1')}); load average {load}"
    )


def set_threads(threads: int | None) -> None:
    if threads:
        # citeqa's model load sets torch's threads from this variable: without it a later load undoes ours.
        os.environ["CITEQA_TORCH_THREADS"] = str(threads)
        import torch

        torch.set_num_threads(threads)


def verdict(value: float, target: float, higher_is_better: bool) -> str:
    ok = value >= target if higher_is_better else value <= target
    return f"{'MET' if ok else 'NOT MET'} (target {'>=' if higher_is_better else '<='} {target})"


# --- indexes for the query benchmarks ------------------------------------------------------


def unique_vectors(embedding: str, work: Path = DEFAULT_WORK) -> dict[str, list[float]]:
    """`embedding`'s vectors of every distinct PubMedQA sentence, computed once and cached in `work`.

    The large indexes repeat the abstracts under new IDs, so their vectors are reused
    instead of re-encoding 100,000 sentences (about 12 minutes with MiniLM, hours with e5
    here) for every run. Keyed by `Sentence.embedding_text`, what the `Ingestor` embeds.
    """
    import numpy as np

    from index.embedding import load_embed_model

    work.mkdir(parents=True, exist_ok=True)
    # Shortest first, as the Ingestor embeds: batches pad to their longest text.
    texts = sorted({s.embedding_text for d in base_documents() for s in split_document(d)}, key=lambda t: (len(t), t))
    cache_texts, cache_vectors = work / f"unique-texts-{embedding}.json", work / f"unique-vectors-{embedding}.npy"
    if cache_texts.exists() and cache_vectors.exists() and json.loads(cache_texts.read_text()) == texts:
        vectors = np.load(cache_vectors)
    else:
        model = load_embed_model(embedding)
        started, chunks = time.perf_counter(), []
        for first in range(0, len(texts), 512):  # chunks only to report progress: this takes minutes
            chunks.append(np.asarray(model.get_text_embedding_batch(texts[first : first + 512]), dtype=np.float32))
            done = first + len(chunks[-1])
            print(f"\rembedding {len(texts)} distinct sentences once with {embedding} (cached in {work}): "
                  f"{done}/{len(texts)}, {done / (time.perf_counter() - started):.1f}/s", end="", flush=True)
        print()
        vectors = np.concatenate(chunks)
        np.save(cache_vectors, vectors)
        cache_texts.write_text(json.dumps(texts))
    return {text: vector.tolist() for text, vector in zip(texts, vectors, strict=True)}


def synthetic_vectors(texts: set[str], dimension: int = 384) -> dict[str, list[float]]:
    """Deterministic unit vectors, one per distinct text, seeded by the text: no model.

    For benchmarks that time everything but the vectors' meaning (cold start: opening the
    index, the catalog and BM25, one HNSW query), so a 100,000-sentence index is built in
    minutes instead of the hours the real embedder would take here. Dense results over such
    an index are meaningless; BM25 and everything lexical are the real thing.
    """
    import hashlib

    import numpy as np

    vectors: dict[str, list[float]] = {}
    for text in texts:
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
        vector = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
        vectors[text] = (vector / np.linalg.norm(vector)).tolist()
    return vectors


def ensure_index(size: int, work: Path, embedding: str, vectors: str = "model") -> Path:
    """A data directory holding an index of `size` PubMedQA sentences, labelled with `embedding`'s model.

    Written through the product's own store (`ChromaIndex.write_nodes`, `commit_documents`,
    same nodes as `Ingestor`), built once and kept in `work`. `vectors`: "model" reuses
    `embedding`'s vectors of the distinct sentences (`unique_vectors`); "synthetic" writes
    `synthetic_vectors` (same dimension as e5 and MiniLM).
    """
    from index.embedding import model_label
    from index.ingest import window_text
    from index.store import ChromaIndex, make_client, sentence_node
    from qa.settings import Settings

    data_dir = work / (f"index-{size}-{embedding}" if vectors == "model" else f"index-{size}-{embedding}-{vectors}")
    marker = data_dir / "complete.json"
    chosen = corpus(size)
    total = sum(len(s) for _, s in chosen)
    if marker.exists() and json.loads(marker.read_text()).get("sentences") == total:
        return data_dir
    import shutil

    shutil.rmtree(data_dir, ignore_errors=True)
    if vectors == "model":
        by_text = unique_vectors(embedding, work)
    else:
        by_text = synthetic_vectors({s.embedding_text for _, sentences in chosen for s in sentences})
    settings = Settings()
    index = ChromaIndex(make_client(data_dir), settings.collection, model_label(embedding))
    started = time.perf_counter()
    batch: list = []
    open_documents: list[Document] = []
    written = 0
    for document, sentences in chosen:
        batch.extend(
            sentence_node(s, document, window_text(sentences, i), by_text[s.embedding_text])
            for i, s in enumerate(sentences)
        )
        open_documents.append(document)
        if len(batch) >= 2048 or document is chosen[-1][0]:
            index.write_nodes(batch)
            index.commit_documents(open_documents)
            written += len(batch)
            batch, open_documents = [], []
            print(f"\rbuilding index-{size}: {written}/{total} sentences", end="", flush=True)
    print(f" ({time.perf_counter() - started:.0f} s)")
    assert index.count() == total
    marker.write_text(json.dumps({"sentences": total, "documents": len(chosen)}))
    return data_dir
