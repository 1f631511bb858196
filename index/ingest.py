"""Streaming ingest: split, embed in batches, write to Chroma in batches, commit each document.

Re-ingesting an unchanged document is a no-op (content hash); a changed one has its
sentences rewritten and its stale sentences deleted before its manifest record is
updated. Sentence IDs are deterministic and writes are idempotent, so a run killed
at any point is finished by simply running it again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from llama_index.core.base.embeddings.base import BaseEmbedding
from tqdm import tqdm

from index.documents import Document, Sentence
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
    ) -> None:
        self.index = index
        self.embed_model = embed_model
        self.write_batch_size = write_batch_size
        self.show_progress = show_progress

    def ingest(self, documents: Iterable[Document], total: int | None = None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        known = self.index.document_hashes()
        pending: list[tuple[Sentence, Document, str]] = []
        # Documents whose sentences are (partly) in `pending`, in order, with their sentence lists.
        open_documents: list[tuple[Document, list[Sentence], bool]] = []
        progress = tqdm(total=total, unit="doc", desc="Indexing", disable=not self.show_progress, dynamic_ncols=True)
        try:
            for document in documents:
                if known.get(document.id) == document.content_hash:
                    report.unchanged.append(document.id)
                    progress.update(1)
                    continue
                sentences = split_document(document)
                pending.extend((s, document, window_text(sentences, i)) for i, s in enumerate(sentences))
                open_documents.append((document, sentences, document.id in known))
                if len(pending) >= self.write_batch_size:
                    report.sentences_written += self._flush(pending)
                    pending = []
                    self._commit(open_documents, report, progress)
                    open_documents = []
                    self._show_sentences(progress, report, started)
            report.sentences_written += self._flush(pending)
            self._commit(open_documents, report, progress)
            self._show_sentences(progress, report, started)
        finally:
            progress.close()
        report.seconds = time.perf_counter() - started
        return report

    @staticmethod
    def _show_sentences(progress: tqdm, report: IngestReport, started: float) -> None:
        """Sentences written and their rate beside tqdm's documents, rate and time left."""
        elapsed = time.perf_counter() - started
        rate = report.sentences_written / elapsed if elapsed else 0.0
        progress.set_postfix_str(f"{report.sentences_written} sentences, {rate:.0f} sentences/s", refresh=False)

    def _flush(self, pending: list[tuple[Sentence, Document, str]]) -> int:
        if not pending:
            return 0
        # Embed in length order: each model batch then pads to similar lengths (as a bare encode does).
        order = sorted(range(len(pending)), key=lambda i: len(pending[i][0].text))
        vectors = self.embed_model.get_text_embedding_batch([pending[i][0].text for i in order])
        embeddings: list[list[float]] = [[] for _ in pending]
        for i, vector in zip(order, vectors, strict=True):
            embeddings[i] = vector
        nodes = [sentence_node(s, d, w, e) for (s, d, w), e in zip(pending, embeddings, strict=True)]
        for start in range(0, len(nodes), self.write_batch_size):
            self.index.write_nodes(nodes[start : start + self.write_batch_size])
        return len(nodes)

    def _commit(self, documents: list[tuple[Document, list[Sentence], bool]], report: IngestReport, progress: tqdm) -> None:
        for document, sentences, existed in documents:
            if existed:
                fresh = {s.id for s in sentences}
                self.index.delete_sentences([i for i in self.index.sentence_ids(document.id) if i not in fresh])
            self.index.commit_document(document)
            (report.replaced if existed else report.added).append(document.id)
            report.committed.append((document, sentences))
            progress.update(1)
