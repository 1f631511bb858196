"""Ingest throughput versus the bare embedding model, in one process run.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/ingest_throughput.py [--sentences 10000] [--threads N]

Ratio = sentences/s of the full ingest (split, embed, write to Chroma, commit, BM25
update) / sentences/s of `SentenceTransformer.encode` on the same sentences. The bare
encode is measured before and after the ingest and averaged, so drift in machine
load between the two is visible and cancelled. Target: ratio >= 0.85.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import time
from collections import defaultdict
from pathlib import Path

from common import DEFAULT_WORK, corpus, directory_mb, machine, peak_rss_mb, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=None, help="torch threads of the ingest and of the bare encode (default: Settings.ingest_threads, all cores)")
    parser.add_argument("--progress", action="store_true", help="show the ingest progress bar")
    parser.add_argument("--work", default=str(DEFAULT_WORK))
    args = parser.parse_args()

    from index import ingest as ingest_module
    from index.embedding import embedding_threads, load_embed_model
    from index.store import ChromaIndex
    from qa.assistant import Assistant
    from qa.settings import Settings

    settings = Settings(show_progress=args.progress, ingest_threads=args.threads)
    chosen = corpus(args.sentences)
    documents = [document for document, _ in chosen]
    texts = [s.text for _, sentences in chosen for s in sentences]
    print(f"machine: {machine()}")
    print(f"corpus: {len(documents)} PubMedQA abstracts (repeated with new IDs), {len(texts)} sentences")

    embed_model = load_embed_model(settings.embedding, settings.embed_batch_size)
    model = embed_model._model  # the SentenceTransformer behind llama-index's HuggingFaceEmbedding
    # The bare encode runs at the thread count the ingest's embedding worker gets (all cores unless set).
    embedding_threads(settings.ingest_threads)
    import torch

    print(f"torch threads, ingest and bare encode: {torch.get_num_threads()}")
    model.encode(texts[:128], batch_size=settings.embed_batch_size)  # warm-up, both sides benefit

    def bare() -> float:
        started = time.perf_counter()
        model.encode(texts, batch_size=settings.embed_batch_size)
        return len(texts) / (time.perf_counter() - started)

    # Where the ingest's time goes: wrap the stages without changing them.
    spent: dict[str, float] = defaultdict(float)

    def timed(name, function):
        @functools.wraps(function)
        def wrapper(*a, **k):
            started = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                spent[name] += time.perf_counter() - started

        return wrapper

    ingest_module.split_document = timed("split (pysbd)", ingest_module.split_document)
    embed_class = type(embed_model)
    embed_class.get_text_embedding_batch = timed("embed (model)", embed_class.get_text_embedding_batch)
    ingest_module.sentence_node = timed("build llama-index nodes", ingest_module.sentence_node)
    ChromaIndex.write_nodes = timed("Chroma sentence writes", ChromaIndex.write_nodes)
    ChromaIndex.commit_documents = timed("Chroma manifest commits", ChromaIndex.commit_documents)
    ChromaIndex.document_hashes = timed("read manifest", ChromaIndex.document_hashes)
    from index.catalog import Catalog

    Catalog.replace = timed("catalog + BM25 update", Catalog.replace)

    bare_before = bare()
    print(f"bare model.encode: {bare_before:.1f} sentences/s")

    data_dir = Path(args.work) / "ingest"
    shutil.rmtree(data_dir, ignore_errors=True)
    assistant = Assistant(data_dir=data_dir, settings=settings, embed_model=None, include_bundled=False)
    spent.clear()
    started = time.perf_counter()
    report = assistant.ingest(iter(documents), total=len(documents))
    seconds = time.perf_counter() - started
    assert report.sentences_written == len(texts), (report.sentences_written, len(texts))
    assert assistant.index.count() == len(texts)
    ingest_rate = len(texts) / seconds
    print(f"full ingest: {ingest_rate:.1f} sentences/s ({seconds:.1f} s, {len(documents)} documents)")

    bare_after = bare()
    print(f"bare model.encode again: {bare_after:.1f} sentences/s")
    bare_rate = (bare_before + bare_after) / 2
    ratio = ingest_rate / bare_rate
    print()
    print(f"RATIO ingest / bare = {ratio:.3f}  -> {verdict(ratio, 0.85, True)}")
    print(f"ingest peak RSS {peak_rss_mb():.0f} MB (this process, model included); index on disk {directory_mb(data_dir):.0f} MB")
    print("ingest time by stage (s; the model embeds in a worker thread, overlapping the others):")
    for name, value in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {name:<28} {value:7.1f}  {value / seconds:6.1%} of wall")
    main_thread = sum(v for k, v in spent.items() if k != "embed (model)")
    print(f"  {'wall':<28} {seconds:7.1f}; main thread busy {main_thread:.1f} s outside the model")
    print(f"  {'model time at bare speed':<28} {len(texts) / bare_rate:7.1f}  {len(texts) / bare_rate / seconds:6.1%} of wall")

if __name__ == "__main__":
    main()
