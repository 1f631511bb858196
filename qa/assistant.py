"""`Assistant`: the public entry point — index documents, ask questions, get cited answers."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from llama_index.core import Settings as LlamaSettings  # noqa: E402
from llama_index.core.base.embeddings.base import BaseEmbedding  # noqa: E402
from llama_index.core.llms import MockLLM  # noqa: E402

from index.catalog import Catalog  # noqa: E402
from index.corpus import bundled_document  # noqa: E402
from index.documents import Document  # noqa: E402
from index.embedding import load_embed_model, model_label  # noqa: E402
from index.ingest import IngestReport, Ingestor  # noqa: E402
from index.loaders import DocumentError, check_document, load_path  # noqa: E402
from index.locking import ViewLock  # noqa: E402
from index.listing import unknown_documents  # noqa: E402
from index.snapshot import open_catalog, snapshot_path, write_snapshot  # noqa: E402
from index.store import ChromaIndex, make_client  # noqa: E402
from prompts import prompts  # noqa: E402
from index.splitting import detect_language  # noqa: E402
from qa.answerers import Evidence, Retrieval  # noqa: E402
from qa.answering import ExtractiveAnswerer  # noqa: E402
from qa.conversation import Found, fold_follow_up, previous_question  # noqa: E402
from qa.inputs import check_history, check_question  # noqa: E402
from qa.intent import load_intent_detector  # noqa: E402
from qa.question import question_parts  # noqa: E402
from qa.relevance import load_relevance_model  # noqa: E402
from qa.reranker import Reranker, load_reranker  # noqa: E402
from qa.retrieval import HybridRetriever, Ranking, ScoredSentence  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.types import Answer, ChatTurn, QuestionError  # noqa: E402

if TYPE_CHECKING:
    from qa.generative import GenerativeAnswerer


def _reads(method: Callable) -> Callable:
    """Run a reading method on an up-to-date view: first catch up with writes committed
    elsewhere (`refresh`), then read while no view swap can happen."""

    @functools.wraps(method)
    def reading(self: Assistant, *args, **kwargs):
        if not self._view.held_by_me():
            self.refresh()
        with self._view.reading():
            return method(self, *args, **kwargs)

    return reading


class Assistant:
    """Answers questions from its indexed documents, citing the exact sentences used.

    `Assistant()` opens the bundled corpus (indexing it on first use) in the default
    data directory; `Assistant(data_dir=...)` opens or creates your own index there.

    Safe to share between threads and to run beside other processes on the same index:
    questions run concurrently; writes (here or in another process) take the index's
    writer lock; a write committed elsewhere is picked up before the next question.
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        chroma_host: str | None = None,
        chroma_port: int | None = None,
        *,
        settings: Settings | None = None,
        embed_model: BaseEmbedding | None = None,
        include_bundled: bool | None = None,
    ) -> None:
        overrides: dict = {}
        if data_dir is not None:
            overrides["data_dir"] = Path(data_dir)
        if chroma_host is not None:
            overrides["chroma_host"] = chroma_host
        if chroma_port is not None:
            overrides["chroma_port"] = chroma_port
        base = settings or Settings()
        self.settings = base.model_copy(update=overrides) if overrides else base
        self.prompts = prompts()
        self.embed_model = embed_model or load_embed_model(self.settings.embedding, self.settings.embed_batch_size, self.settings.runtime)
        self._own_embedder = embed_model is None
        # llama-index defaults to OpenAI for both; this product never calls a hosted model.
        LlamaSettings.embed_model = self.embed_model
        LlamaSettings.llm = MockLLM()
        client = make_client(self.settings.data_dir, self.settings.chroma_host, self.settings.chroma_port)
        label = model_label(self.settings.embedding) if embed_model is None else type(embed_model).__name__
        self.index = ChromaIndex(
            client,
            self.settings.collection,
            label,
            writer_wait_seconds=self.settings.writer_wait_seconds,
            lease_seconds=self.settings.writer_lease_seconds,
        )
        self._view = ViewLock()
        self._reloading = threading.Lock()
        self._revision = self.index.revision()  # read first: a write committed during the load is caught up later
        # The catalog as this or another process last stored it, if still current (index/snapshot.py).
        self._snapshot = snapshot_path(self.settings.data_dir, self.settings.collection)
        self.catalog = open_catalog(self.index, self._snapshot, self._revision)
        relevance = load_relevance_model()
        self.retriever = HybridRetriever(
            self.index,
            self.catalog,
            self.embed_model,
            relevance,
            dense_top_k=self.settings.dense_top_k,
            lexical_top_k=self.settings.lexical_top_k,
            reranker=self._reranker(),
            rerank_top=self.settings.rerank_top,
            rerank_always=self.settings.rerank_always,
            intents=load_intent_detector(label) if self.settings.intents and self._own_embedder else None,
            numeric=relevance.numeric_for(self.settings.embedding) if self._own_embedder else None,
            spelling=self.settings.spelling,
        )
        self.answerer = ExtractiveAnswerer(self.catalog, self.prompts, self.settings)
        # The generative answerer (Settings.answerer) writes; the extractive one stays its fallback.
        self.generative: GenerativeAnswerer | None = None
        if self.settings.answerer == "generative":
            self.generative = self._generative_answerer()
        if include_bundled if include_bundled is not None else self.settings.holds_bundled:
            self.add_documents([bundled_document()], show_progress=False)

    def _reranker(self) -> Reranker | None:
        """The cross-encoder, loaded here once (the warm-up), when it applies: it is built on the
        e5 weights and fitted with the e5 first stage, so another embedder (or a caller's own,
        as in tests) ranks with the first stage alone."""
        if not (self.settings.rerank and self.settings.rerank_top > 0 and self._own_embedder and self.settings.embedding == "e5"):
            return None
        return load_reranker(self.settings.runtime)

    def _generative_answerer(self) -> GenerativeAnswerer:
        import numpy as np

        # The support judge lives with the evaluation (eval.judge), which uses it too.
        from eval.judge.offline import OfflineJudge
        from qa.generative import GenerativeAnswerer
        from qa.verify import Verifier

        # The judge's features were trained on all-MiniLM-L6-v2: when that is the embedder, share it.
        reuse = self._own_embedder and self.settings.embedding == "minilm"
        embed = (lambda texts: np.asarray(self.embed_model.get_text_embedding_batch(texts))) if reuse else None
        return GenerativeAnswerer(self.prompts, self.settings, Verifier(OfflineJudge(embed=embed)), fallback=self.answerer)

    def using(self, answerer: str) -> Assistant:
        """This assistant with another answerer ("extractive" or "generative"), sharing index and models."""
        other = copy.copy(self)
        other.settings = self.settings.model_copy(update={"answerer": answerer})
        other.generative = None if answerer == "extractive" else self.generative or other._generative_answerer()
        return other

    # --- documents ------------------------------------------------------------------------

    def add_documents(self, sources: Iterable[str | Path | Document], show_progress: bool | None = None) -> IngestReport:
        """Index files (.txt, .md, .pdf, .jsonl) or `Document`s.

        Every file is read and checked first; one bad file raises `DocumentError`
        and nothing is written, so what is already indexed stays as it was.
        """
        documents: list[Document] = []
        origin: dict[str, str] = {}
        for source in sources:
            loaded = [check_document(source)] if isinstance(source, Document) else load_path(source, self.settings.max_file_bytes)
            for document in loaded:
                if document.id in origin:
                    raise DocumentError(
                        f"{document.source or document.id}: document ID '{document.id}' is also used by "
                        f"{origin[document.id]}; rename one of them."
                    )
                origin[document.id] = document.source or document.id
                documents.append(document)
        return self.ingest(documents, total=len(documents), show_progress=show_progress)

    def ingest(self, documents: Iterable[Document], total: int | None = None, show_progress: bool | None = None) -> IngestReport:
        """Stream already-validated documents into the index (for large corpora)."""
        if isinstance(documents, list) and all(self.catalog.hashes.get(d.id) == d.content_hash for d in documents):
            # All already indexed (the bundled corpus at every start): no need to wait for a writer.
            return IngestReport(unchanged=[d.id for d in documents])
        ingestor = Ingestor(
            self.index,
            self.embed_model,
            write_batch_size=self.settings.write_batch_size,
            show_progress=self.settings.show_progress if show_progress is None else show_progress,
            max_sentence_chars=self.settings.max_sentence_chars,
            threads=self.settings.ingest_threads,
        )
        with self._writing() as commit:
            report = ingestor.ingest(documents, total=total)
            if report.committed:
                commit(self.catalog.changed(updated=report.committed))
        return report

    def remove_documents(self, doc_ids: Sequence[str]) -> list[str]:
        with self._writing() as commit:
            unknown = [doc_id for doc_id in doc_ids if doc_id not in self.catalog.documents]
            if unknown:
                raise DocumentError(f"No indexed document with ID {', '.join(repr(u) for u in unknown)}; see `qa list`.")
            self.index.remove_documents(list(doc_ids))
            commit(self.catalog.changed(removed=doc_ids))
        return list(doc_ids)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Callable[[Catalog], None]]:
        """Hold the index's writer lock around a write, on a caught-up view; yields `commit(view)`,
        which swaps in this process's new view and announces the write to other processes.

        A write that fails part-way may still have committed documents: the revision is
        bumped all the same, and this process rereads them like any other's."""
        committed: list[Catalog] = []
        with self.index.writer:
            # A write killed part-way may have committed documents that no revision counts: catch up by
            # content hash whatever the revision says, and bump it even if this write changes nothing.
            interrupted = self.index.settled_revision() is None
            self.refresh(wait=True, force=interrupted)  # the write starts from everything committed before it
            self.index.tidy()  # leftovers of writes killed part-way; invisible, but they take space
            try:
                yield committed.append
            except DocumentError:
                raise  # refused before writing anything
            except BaseException:
                self.index.bump_revision()
                raise
            if committed or interrupted:
                revision = self.index.bump_revision()
                view = committed[-1] if committed else self.catalog
                self._adopt(view, revision)
                write_snapshot(self._snapshot, view, revision, self.index)  # still under the writer lock

    def _adopt(self, view: Catalog, revision: int) -> None:
        with self._view.swapping():
            self.catalog.adopt(view)
            self._revision = revision

    def refresh(self, wait: bool = False, force: bool = False) -> bool:
        """Catch up with writes committed by other processes; True if the view changed.

        One lookup by ID when nothing changed. Otherwise the changed documents are read
        (while no write is in progress, for an embedded index whose files a writer rewrites),
        the new view is built beside the current one, which keeps answering, then swapped in.
        Without `wait`, a reader leaves the catching up to a thread already doing it, and to
        later, if a write is in progress. `force` compares content hashes even at the same revision.
        """
        if (self.index.revision() == self._revision and not force) or not self._reloading.acquire(blocking=wait):
            return False  # unchanged, or another thread is already catching up
        try:
            guard = self.index.writer if self.index.writer.guards_reads else None
            if guard is not None and not guard.acquire(wait=False):
                return False  # a write is in progress: keep the current view until it ends
            try:
                revision = self.index.revision()
                if revision == self._revision and not force:
                    return False  # another thread caught up meanwhile
                self.index.reopen()
                updated, removed = self.catalog.refreshed(self.index)
            finally:
                if guard is not None:
                    guard.release()
            self._adopt(self.catalog.changed(updated, removed), revision)
            return True
        finally:
            self._reloading.release()

    @_reads
    def documents(self) -> list[Document]:
        return sorted(self.catalog.documents.values(), key=lambda d: d.id)

    @_reads
    def document(self, doc_id: str) -> Document:
        try:
            return self.catalog.documents[doc_id]
        except KeyError:
            raise DocumentError(f"No indexed document with ID '{doc_id}'.") from None

    def as_retriever(self) -> HybridRetriever:
        """The hybrid retriever as a llama-index `BaseRetriever`, for llama-index query engines."""
        return self.retriever

    # --- questions ------------------------------------------------------------------------

    def _check(self, question: str) -> str:
        return check_question(question, self.settings.max_question_chars)

    @_reads
    def retrieve(self, question: str, top_k: int = 10, doc_ids: Sequence[str] | None = None) -> list[ScoredSentence]:
        """The ranked sentences for a question (the same ranking `ask` answers from); `doc_ids`
        limits the search to those documents (all by default)."""
        return self.retriever.search(self._check(question), top_k=top_k, doc_ids=self._scope(doc_ids)).hits

    def _scope(self, doc_ids: Sequence[str] | None) -> frozenset[str] | None:
        """The documents a question searches: None (all) for no choice or an empty one; unknown IDs are an error."""
        if not doc_ids:
            return None
        unknown_documents(doc_ids, self.catalog.documents)
        return frozenset(doc_ids)

    @_reads
    def retrieval(
        self, question: str, history: Sequence[ChatTurn | dict] | None = None, doc_ids: Sequence[str] | None = None
    ) -> Retrieval:
        """Everything an answerer needs: the standalone question, ranked evidence, and the decision."""
        question = self._check(question)
        scope = self._scope(doc_ids)
        turns = check_history(history, self.settings.max_history_turns, self.settings.max_history_chars)
        searched: dict[str, Ranking] = {}

        def search(text: str) -> Ranking:
            # A question that stands alone is searched once, for the follow-up decision and for its answer.
            if text not in searched:
                searched[text] = self.retriever.search(text, doc_ids=scope)
            return searched[text]

        def found(text: str) -> Found:
            ranking = search(text)
            return Found(ranking.answerable, ranking.answer, ranking.hits[0].sentence.id if ranking.hits else None)

        standalone = fold_follow_up(question, previous_question(turns), found)
        ranking = search(standalone)
        standalone = ranking.query  # as searched: misspelt words corrected
        evidence = self._evidence(ranking)
        if ranking.intent == "overview":  # the documents' openings: quote them all, there are no parts to search
            evidence = [dataclasses.replace(e, required=True) for e in evidence]
            return Retrieval(question, standalone, detect_language(question), evidence, ranking.answer, ranking.answerable)
        known = {s.id for e in evidence for s in (e.sentence, e.parallel) if s is not None}
        for part in question_parts(standalone):
            # Each part of a multi-part question brings its own best evidence.
            part_ranking = self.retriever.search(part, doc_ids=scope)
            best = self._evidence(part_ranking)[:1]
            if part_ranking.answer and best and best[0].sentence.id not in known:
                evidence.insert(1, Evidence(best[0].sentence, best[0].parallel, best[0].relevance, required=True))
                known.update(s.id for s in (best[0].sentence, best[0].parallel) if s is not None)
        return Retrieval(question, standalone, detect_language(question), evidence, ranking.answer, ranking.answerable)

    def _with_pages(self, answer: Answer) -> Answer:
        """The answer with the PDF page of each citation, where its document kept page boundaries."""
        paged = []
        for citation in answer.citations:
            document = self.catalog.documents.get(citation.doc_id)
            paged.append(citation.model_copy(update={"page": document.page_at(citation.start) if document else None}))
        return answer.model_copy(update={"citations": paged})

    def ask(
        self, question: str, history: Sequence[ChatTurn | dict] | None = None, doc_ids: Sequence[str] | None = None
    ) -> Answer:
        """Answer from the indexed documents (only from `doc_ids`, when given), citing the sentences used."""
        answer: Answer | None = None
        for item in self.ask_stream(question, history, doc_ids):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None  # ask_stream always ends with the answer
        return answer

    @_reads
    def _extractive(self, question: str, history: Sequence[ChatTurn | dict] | None, doc_ids: Sequence[str] | None) -> Answer:
        # One read of the view from retrieval to the composed answer, so no swap falls between them.
        return self.answerer.answer(self.retrieval(question, history, doc_ids))

    def ask_stream(
        self, question: str, history: Sequence[ChatTurn | dict] | None = None, doc_ids: Sequence[str] | None = None
    ) -> Iterator[str | Answer]:
        """Draft text as a generative answer is written (nothing for the extractive one), then the final `Answer`.

        A generator holds no read of the view across its yields: a writer swapping in a new view
        would otherwise wait for (and make every other question wait behind) a whole streamed answer."""
        started = time.perf_counter()
        if self.generative is None:
            answer = self._extractive(question, history, doc_ids)
        else:
            for item in self.generative.stream(self.retrieval(question, history, doc_ids)):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield item
        answer = self._with_pages(answer)
        yield answer.model_copy(update={"latency_ms": round((time.perf_counter() - started) * 1000, 2)})

    def _evidence(self, ranking: Ranking) -> list[Evidence]:
        """Ranked sentences as evidence units: a sentence and its linked translation count once."""
        units: list[Evidence] = []
        seen: set[str] = set()
        for hit in ranking.hits:
            sentence = hit.sentence
            if sentence.id in seen:
                continue
            parallel = self.catalog.get(sentence.parallel_id) if sentence.parallel_id else None
            seen.update({sentence.id, sentence.parallel_id or ""})
            units.append(Evidence(sentence, parallel, hit.relevance))
        return units
