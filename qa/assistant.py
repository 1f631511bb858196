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
from index.embedding import load_embed_model, model_label  # noqa: E402
from index.ingest import IngestReport, Ingestor  # noqa: E402
from index.loaders import DocumentError, load_path  # noqa: E402
from index.store import ChromaIndex, make_client  # noqa: E402
from prompts import prompts  # noqa: E402
from index.splitting import detect_language  # noqa: E402
from qa.answerers import Evidence, Retrieval  # noqa: E402
from qa.answering import ExtractiveAnswerer  # noqa: E402
from qa.conversation import standalone_question  # noqa: E402
from qa.question import question_parts  # noqa: E402
from qa.relevance import load_relevance_model  # noqa: E402
from qa.retrieval import HybridRetriever, Ranking, ScoredSentence  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.types import Answer, ChatTurn, QuestionError  # noqa: E402

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
        self._own_embedder = embed_model is None
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
            load_relevance_model(),
            dense_top_k=self.settings.dense_top_k,
            lexical_top_k=self.settings.lexical_top_k,
        )
        self.answerer = ExtractiveAnswerer(self.catalog, self.prompts, self.settings)
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
        """The ranked sentences for a question: the same ranking `ask` answers from."""
        return self.retriever.search(self._check(question), top_k=top_k).hits

    def retrieval(self, question: str, history: Sequence[ChatTurn | dict] | None = None) -> Retrieval:
        """Everything an answerer needs: the standalone question, ranked evidence, and the decision."""
        question = self._check(question)
        turns = [turn if isinstance(turn, ChatTurn) else ChatTurn.model_validate(turn) for turn in history or []]
        standalone = standalone_question(question, turns, lambda text: self.retriever.search(text).answerable)
        ranking = self.retriever.search(standalone)
        evidence = self._evidence(ranking)
        known = {s.id for e in evidence for s in (e.sentence, e.parallel) if s is not None}
        for part in question_parts(standalone):
            # Each part of a multi-part question brings its own best evidence.
            part_ranking = self.retriever.search(part)
            best = self._evidence(part_ranking)[:1]
            if part_ranking.answer and best and best[0].sentence.id not in known:
                evidence.insert(1, Evidence(best[0].sentence, best[0].parallel, best[0].relevance, required=True))
                known.update(s.id for s in (best[0].sentence, best[0].parallel) if s is not None)
        return Retrieval(question, standalone, detect_language(question), evidence, ranking.answer)

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
        retrieval = self.retrieval(question, history)
        if self.generative is None:
            answer = self.answerer.answer(retrieval)
        else:
            for item in self.generative.stream(retrieval):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield item
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
