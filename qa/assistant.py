"""`Assistant`: the public entry point — index documents, ask questions, get cited answers."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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
from index.loaders import DocumentError, load_path  # noqa: E402
from index.store import ChromaIndex, make_client  # noqa: E402
from prompts import prompts  # noqa: E402
from qa.answerers import Evidence, Retrieval  # noqa: E402
from qa.answering import ExtractiveAnswerer  # noqa: E402
from qa.conversation import standalone_question  # noqa: E402
from qa.retrieval import HybridRetriever, ScoredSentence  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.spelling import SpellingCorrector, vocabulary  # noqa: E402
from qa.types import Answer, ChatTurn, QuestionError  # noqa: E402
from qa.question import Question  # noqa: E402

if TYPE_CHECKING:
    from qa.generative import GenerativeAnswerer


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
        # The generative answerer (Settings.answerer) writes; the extractive one stays its fallback.
        self.generative: GenerativeAnswerer | None = None
        if self.settings.answerer == "generative":
            self.generative = self._generative_answerer()
        if include_bundled if include_bundled is not None else data_dir is None and chroma_host is None:
            self.add_documents([bundled_document()], show_progress=False)

    def _generative_answerer(self) -> GenerativeAnswerer:
        import numpy as np

        # The support judge lives with the evaluation (eval.judge), which uses it too.
        from eval.judge.offline import OfflineJudge
        from qa.generative import GenerativeAnswerer
        from qa.verify import Verifier

        # The judge's features were trained on all-MiniLM-L6-v2: when that is the embedder, share it.
        reuse = self.embed_model_languages is not None and self.settings.embedding == "minilm"
        embed = (lambda texts: np.asarray(self.embed_model.get_text_embedding_batch(texts))) if reuse else None
        return GenerativeAnswerer(self.prompts, self.settings, Verifier(OfflineJudge(embed=embed)))

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
        unknown = [doc_id for doc_id in doc_ids if doc_id not in self.catalog.documents]
        if unknown:
            raise DocumentError(f"No indexed document with ID {', '.join(repr(u) for u in unknown)}; see `qa list`.")
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

    def retrieve(self, question: str, top_k: int = 10) -> list[ScoredSentence]:
        return self.retriever.search(self._check(question), top_k=top_k)

    def ask(self, question: str, history: Sequence[ChatTurn | dict] | None = None) -> Answer:
        answer: Answer | None = None
        for item in self.ask_stream(question, history):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None  # ask_stream always ends with the answer
        return answer

    def ask_stream(self, question: str, history: Sequence[ChatTurn | dict] | None = None) -> Iterator[str | Answer]:
        """Draft text as a generative answer is written (nothing for the extractive one), then the final `Answer`."""
        started = time.perf_counter()
        question = self._check(question)
        turns = [turn if isinstance(turn, ChatTurn) else ChatTurn.model_validate(turn) for turn in history or []]
        standalone, focus = standalone_question(question, turns)
        standalone = self._spelling().correct(standalone)
        query_vector = self.embed_model.get_query_embedding(self.catalog.expand_acronyms(standalone))
        # MiniLM is English-only: for other questions its ranking is noise, and BM25 alone
        # retrieves better (eval/retrieval_options.py); the EN↔ZH links bring the translation.
        dense_readable = self.embed_model_languages is None or detect_language(standalone) in self.embed_model_languages
        dense = self.retriever.dense(standalone, query_vector) if dense_readable else {}
        hits = self.retriever.fuse(dense, self.retriever.lexical(standalone))
        answer = self.answerer.answer(question, standalone, hits, query_vector, focus, dense_readable)
        if self.generative is not None:
            # ADAPTER until the Retrieval-based ask path lands: the extractive pipeline's units become
            # the Retrieval, its answer the fallback, and its abstention (relevance below
            # settings.min_relevance, or a premise the best sentence denies) the answerable gate.
            parsed = Question.parse(standalone)
            units = self.answerer.units(parsed, hits, self.answerer.term_weights(parsed, focus), query_vector, dense_readable) if hits else []
            retrieval = Retrieval(
                question=question,
                standalone=standalone,
                language=answer.language,
                evidence=[Evidence(u.sentence, u.parallel, u.relevance) for u in units],
                answerable=not answer.abstained,
            )
            for item in self.generative.stream(retrieval, fallback_answer=answer):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield item
        yield answer.model_copy(update={"latency_ms": round((time.perf_counter() - started) * 1000, 2)})
