"""`Assistant`: the public entry point — index documents, ask questions, get cited answers."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from llama_index.core import Settings as LlamaSettings  # noqa: E402
from llama_index.core.base.embeddings.base import BaseEmbedding  # noqa: E402
from llama_index.core.llms import MockLLM  # noqa: E402

from index.catalog import Catalog  # noqa: E402
from index.corpus import bundled_document  # noqa: E402
from index.documents import Document  # noqa: E402
from index.embedding import embedder_languages, load_embed_model, model_label  # noqa: E402
from index.ingest import IngestReport, Ingestor  # noqa: E402
from index.splitting import detect_language  # noqa: E402
from index.listing import unknown_documents  # noqa: E402
from index.loaders import DocumentError, load_path  # noqa: E402
from index.store import ChromaIndex, make_client  # noqa: E402
from prompts import prompts  # noqa: E402
from qa.answering import ExtractiveAnswerer  # noqa: E402
from qa.conversation import fold_follow_up, previous_question  # noqa: E402
from qa.question import Question  # noqa: E402
from qa.retrieval import HybridRetriever, ScoredSentence  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.spelling import SpellingCorrector, vocabulary  # noqa: E402
from qa.types import Answer, ChatTurn, QuestionError  # noqa: E402


class Assistant:
    """Answers questions from its indexed documents, citing the exact sentences used.

    `Assistant()` opens the bundled corpus (indexing it on first use) in the default
    data directory; `Assistant(data_dir=...)` opens or creates your own index there.
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
        self.embed_model = embed_model or load_embed_model(self.settings.embedding, self.settings.embed_batch_size)
        self.embed_model_languages = embedder_languages(self.settings.embedding) if embed_model is None else None
        # llama-index defaults to OpenAI for both; this product never calls a hosted model.
        LlamaSettings.embed_model = self.embed_model
        LlamaSettings.llm = MockLLM()
        client = make_client(self.settings.data_dir, self.settings.chroma_host, self.settings.chroma_port)
        label = model_label(self.settings.embedding) if embed_model is None else type(embed_model).__name__
        self.index = ChromaIndex(client, self.settings.collection, label)
        self.catalog = Catalog.load(self.index)
        self.retriever = HybridRetriever(
            self.index,
            self.catalog,
            self.embed_model,
            dense_top_k=self.settings.dense_top_k,
            lexical_top_k=self.settings.lexical_top_k,
            rrf_k=self.settings.rrf_k,
        )
        self._corrector: tuple[int, SpellingCorrector] | None = None
        self.answerer = ExtractiveAnswerer(
            self.catalog,
            self.index.vectors,
            lambda text: self.embed_model.get_query_embedding(self.catalog.expand_acronyms(text)),
            self.prompts,
            self.settings,
        )
        if include_bundled if include_bundled is not None else self.settings.holds_bundled:
            self.add_documents([bundled_document()], show_progress=False)

    # --- documents ------------------------------------------------------------------------

    def add_documents(self, sources: Iterable[str | Path | Document], show_progress: bool | None = None) -> IngestReport:
        """Index files (.txt, .md, .pdf, .jsonl) or `Document`s.

        Every file is read and checked first; one bad file raises `DocumentError`
        and nothing is written, so what is already indexed stays as it was.
        """
        documents: list[Document] = []
        origin: dict[str, str] = {}
        for source in sources:
            loaded = [source] if isinstance(source, Document) else load_path(source)
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
        ingestor = Ingestor(
            self.index,
            self.embed_model,
            write_batch_size=self.settings.write_batch_size,
            show_progress=self.settings.show_progress if show_progress is None else show_progress,
        )
        report = ingestor.ingest(documents, total=total)
        if report.committed:
            self.catalog.replace(updated=report.committed)
        return report

    def remove_documents(self, doc_ids: Sequence[str]) -> list[str]:
        unknown_documents(doc_ids, self.catalog.documents)
        for doc_id in doc_ids:
            self.index.remove_document(doc_id)
        self.catalog.replace(removed=doc_ids)
        return list(doc_ids)

    def documents(self) -> list[Document]:
        return sorted(self.catalog.documents.values(), key=lambda d: d.id)

    def document(self, doc_id: str) -> Document:
        try:
            return self.catalog.documents[doc_id]
        except KeyError:
            raise DocumentError(f"No indexed document with ID '{doc_id}'.") from None

    def _spelling(self) -> SpellingCorrector:
        """The typo corrector for the current documents, rebuilt only when they change."""
        if self._corrector is None or self._corrector[0] != self.catalog.version:
            words = vocabulary(s.text for s in self.catalog.sentences)
            self._corrector = (self.catalog.version, SpellingCorrector(words))
        return self._corrector[1]

    def as_retriever(self) -> HybridRetriever:
        """The hybrid retriever as a llama-index `BaseRetriever`, for llama-index query engines."""
        return self.retriever

    # --- questions ------------------------------------------------------------------------

    def _check(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise QuestionError("The question is empty; ask something about the documents.")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"The question is {len(question)} characters long; the limit is {self.settings.max_question_chars}."
            )
        return question.strip()

    def retrieve(self, question: str, top_k: int = 10, doc_ids: Sequence[str] | None = None) -> list[ScoredSentence]:
        """The fused candidates for a question; `doc_ids` limits the search to those documents (all by default)."""
        return self.retriever.search(self._check(question), top_k=top_k, doc_ids=self._scope(doc_ids))

    def _scope(self, doc_ids: Sequence[str] | None) -> frozenset[str] | None:
        """The documents a question searches: None (all) for no choice or an empty one; unknown IDs are an error."""
        if not doc_ids:
            return None
        unknown_documents(doc_ids, self.catalog.documents)
        return frozenset(doc_ids)

    def _search(self, text: str, doc_ids: frozenset[str] | None) -> tuple[list[ScoredSentence], list[float], bool]:
        """Hybrid candidates for `text`, its query vector, and whether the embedder reads its language."""
        query_vector = self.embed_model.get_query_embedding(self.catalog.expand_acronyms(text))
        # MiniLM is English-only: for other questions its ranking is noise, and BM25 alone
        # retrieves better (eval/retrieval_options.py); the EN↔ZH links bring the translation.
        dense_readable = self.embed_model_languages is None or detect_language(text) in self.embed_model_languages
        dense = self.retriever.dense(text, query_vector, doc_ids) if dense_readable else {}
        return self.retriever.fuse(dense, self.retriever.lexical(text, doc_ids)), query_vector, dense_readable

    def _relevance(self, text: str, doc_ids: frozenset[str] | None) -> float:
        """Calibrated relevance of the best evidence for `text`: how well the sources answer it alone."""
        hits, query_vector, dense_readable = self._search(text, doc_ids)
        question = Question.parse(text)
        units = self.answerer.units(question, hits, self.answerer.term_weights(question, None), query_vector, dense_readable)
        return units[0].relevance if units else 0.0

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
        started = time.perf_counter()
        question = self._check(question)
        doc_ids = self._scope(doc_ids)
        turns = [turn if isinstance(turn, ChatTurn) else ChatTurn.model_validate(turn) for turn in history or []]
        corrector = self._spelling()
        corrected = corrector.correct(question)
        previous = previous_question(turns)
        standalone = fold_follow_up(
            corrected, corrector.correct(previous) if previous else None, lambda text: self._relevance(text, doc_ids)
        )
        # A follow-up's own terms weigh double when scoring its evidence.
        focus = Question.parse(corrected) if standalone != corrected else None
        hits, query_vector, dense_readable = self._search(standalone, doc_ids)
        answer = self._with_pages(self.answerer.answer(question, standalone, hits, query_vector, focus, dense_readable))
        return answer.model_copy(update={"latency_ms": round((time.perf_counter() - started) * 1000, 2)})
