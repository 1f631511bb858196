"""Streaming ingest: split, embed in batches, write to Chroma in batches, commit each document.

Re-ingesting an unchanged document is a no-op (content hash). A batch of documents is
committed in four steps (index/store.py): journal them, write their sentences (a changed
document's new version under new IDs, beside the old one), switch their manifest
records, delete their old versions' sentences. Readers see the old or the new complete
document at every step, and a run killed at any point is finished by running it again.
The caller holds the index's writer lock.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from llama_index.core.base.embeddings.base import BaseEmbedding
from tqdm import tqdm

from index.documents import Document, Sentence
from index.embedding import embedding_threads
from index.faults import crash_point
from index.splitting import split_document
from index.store import ChromaIndex, sentence_node


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    sentences_written: int = 0
    seconds: float = 0.0
    committed: list[tuple[Document, list[Sentence]]] = field(default_factory=list, repr=False)

    @property
    def sentences_per_second(self) -> float:
        return self.sentences_written / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.replaced)} replaced, {len(self.unchanged)} unchanged; "
            f"{self.sentences_written} sentences in {self.seconds:.1f} s"
        )


@dataclass
class _Batch:
    """Sentences being embedded, with the documents that are complete once they are written."""

    vectors: Future
    pending: list[tuple[Sentence, Document, str]]
    documents: list[tuple[Document, list[Sentence], bool]]


def window_text(sentences: list[Sentence], i: int) -> str:
    """The sentence with its same-language neighbours: context for display and for LLM answerers."""
    parts = [
        sentences[j].text
        for j in (i - 1, i, i + 1)
        if 0 <= j < len(sentences) and sentences[j].language == sentences[i].language
    ]
    return " ".join(parts)


class Ingestor:
    def __init__(
        self,
        index: ChromaIndex,
        embed_model: BaseEmbedding,
        write_batch_size: int = 512,
        show_progress: bool = True,
        max_sentence_chars: int = 3000,
        threads: int | None = None,
    ) -> None:
        """`threads`: torch threads for the embedding worker (None: all cores; `index.embedding.embedding_threads`)."""
        self.threads = threads
        self.index = index
        self.embed_model = embed_model
        self.write_batch_size = write_batch_size
        self.show_progress = show_progress
        self.max_sentence_chars = max_sentence_chars

    def ingest(self, documents: Iterable[Document], total: int | None = None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        known = self.index.document_hashes()
        pending: list[tuple[Sentence, Document, str]] = []
        # Documents whose sentences are (partly) in `pending`, in order, with their sentence lists.
        open_documents: list[tuple[Document, list[Sentence], bool]] = []
        progress = tqdm(total=total, unit="doc", desc="Indexing", disable=not self.show_progress, dynamic_ncols=True)
        # The model embeds batch k+1 in a worker thread (torch releases the GIL) while this thread
        # splits documents and writes and commits batch k: the model never waits for Chroma or pysbd.
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citeqa-embed", initializer=embedding_threads, initargs=(self.threads,))
        in_flight: _Batch | None = None
        # This thread's pure-Python work (pysbd) holds the GIL for the default 5 ms slices, which
        # halves the model's speed; 1 ms slices keep it within ~10% of a bare encode (bench/README.md).
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(switch_interval, 0.001))
        try:
            for document in documents:
                if known.get(document.id) == document.content_hash:
                    report.unchanged.append(document.id)
                    progress.update(1)
                    continue
                sentences = split_document(document, self.max_sentence_chars)
                pending.extend((s, document, window_text(sentences, i)) for i, s in enumerate(sentences))
                open_documents.append((document, sentences, document.id in known))
                if len(pending) >= self.write_batch_size:
                    submitted = _Batch(worker.submit(self._embed, pending), pending, open_documents)
                    self._store(in_flight, report, progress, started)
                    in_flight, pending, open_documents = submitted, [], []
            submitted = _Batch(worker.submit(self._embed, pending), pending, open_documents) if open_documents else None
            self._store(in_flight, report, progress, started)
            self._store(submitted, report, progress, started)
        finally:
            worker.shutdown(wait=True, cancel_futures=True)
            sys.setswitchinterval(switch_interval)
            progress.close()
        report.seconds = time.perf_counter() - started
        return report

    def _store(self, batch: _Batch | None, report: IngestReport, progress: tqdm, started: float) -> None:
        """Write an embedded batch's sentences, then commit its documents."""
        if batch is None:
            return
        embeddings = batch.vectors.result()
        nodes = [sentence_node(s, d, w, e) for (s, d, w), e in zip(batch.pending, embeddings, strict=True)]
        self.index.journal([document.id for document, _, _ in batch.documents])
        crash_point("journalled")
        for start in range(0, len(nodes), self.write_batch_size):
            self.index.write_nodes(nodes[start : start + self.write_batch_size])
        crash_point("sentences-written")
        report.sentences_written += len(nodes)
        self._commit(batch.documents, report, progress)
        self._show_sentences(progress, report, started)

    @staticmethod
    def _show_sentences(progress: tqdm, report: IngestReport, started: float) -> None:
        """Sentences written and their rate beside tqdm's documents, rate and time left."""
        elapsed = time.perf_counter() - started
        rate = report.sentences_written / elapsed if elapsed else 0.0
        progress.set_postfix_str(f"{report.sentences_written} sentences, {rate:.0f} sentences/s", refresh=False)

    def _embed(self, pending: list[tuple[Sentence, Document, str]]) -> list[list[float]]:
        if not pending:
            return []
        # Embed in length order: each model batch then pads to similar lengths (as a bare encode does).
        order = sorted(range(len(pending)), key=lambda i: len(pending[i][0].embedding_text))
        vectors = self.embed_model.get_text_embedding_batch([pending[i][0].embedding_text for i in order])
        embeddings: list[list[float]] = [[] for _ in pending]
        for i, vector in zip(order, vectors, strict=True):
            embeddings[i] = vector
        return embeddings

    def _commit(self, documents: list[tuple[Document, list[Sentence], bool]], report: IngestReport, progress: tqdm) -> None:
        # All their sentences are written: switch the batch's manifest records in one write, then
        # delete what the old versions (or an interrupted earlier run) left.
        self.index.commit_documents([document for document, _, _ in documents])
        crash_point("manifest-switched")
        self.index.tidy([document.id for document, _, _ in documents])
        for document, sentences, existed in documents:
            (report.replaced if existed else report.added).append(document.id)
            report.committed.append((document, sentences))
            progress.update(1)
