"""The peer row: llama-index's standard RAG pipeline with CitationQueryEngine-style citations.

Default `SentenceSplitter` chunks, the assistant's own embedding model, a Chroma
vector store in the run's cache directory (built once, reused while the corpus,
model and code are unchanged; see `eval.cache`), and `CitationQueryEngine` with its
defaults (top-2 chunks, re-split into 512-token "Source n" citation chunks).
No LLM is available offline, so the answer is what the engine hands its LLM:
each Source chunk, quoted and followed by its [n] marker. Scoring citations at
the sentence level then asks the fair question: how much of what this pipeline
cites is gold evidence? Every sentence of a cited chunk counts as cited. On the
SQuAD-format sets the unit is the chunk: a hit is a top chunk that contains an answer.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import chromadb
import llama_index.core
import nltk
from chromadb.config import Settings as ChromaSettings
from llama_index.core import Document as LlamaDocument
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.query_engine import CitationQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle
from llama_index.vector_stores.chroma import ChromaVectorStore

from eval.dataset import EvalQuestion
from eval.systems import CitedSource, Passage, RankedUnit, SystemResponse
from index.documents import Document, Sentence
from index.splitting import split_document

COLLECTION = "baseline"
# Written once the whole corpus is in the store: without it, a store is a crashed build to redo.
COMPLETE_MARKER = "complete"


class LlamaIndexBaseline:
    name = "llama-index baseline"

    def __init__(self, documents: Sequence[Document], embed_model: BaseEmbedding, work_dir: Path) -> None:
        _use_unlinked_nltk_data(work_dir)
        self.splitter = SentenceSplitter()
        client = chromadb.PersistentClient(path=str(work_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
        marker = work_dir / COMPLETE_MARKER
        if not marker.exists() and COLLECTION in [c.name for c in client.list_collections()]:
            client.delete_collection(COLLECTION)
        # Embeddings always come from `embed_model`: a collection's own default would download a model.
        store = ChromaVectorStore(chroma_collection=client.get_or_create_collection(COLLECTION))
        if marker.exists():
            self.index = VectorStoreIndex.from_vector_store(store, embed_model=embed_model)
        else:
            self.index = VectorStoreIndex.from_documents(
                [_llama_document(document) for document in documents],
                storage_context=StorageContext.from_defaults(vector_store=store),
                embed_model=embed_model,
                transformations=[self.splitter],
                show_progress=len(documents) > 1,
            )
            marker.touch()
        # MockLLM stands in for the LLM the engine would call; the answer is built from its sources instead.
        self.engine = CitationQueryEngine.from_args(self.index, llm=MockLLM())
        self.documents = {document.id: document for document in documents}
        self.sentences = {document.id: split_document(document) for document in documents}

    def describe(self) -> dict[str, str | int]:
        """The pipeline's settings, for the report."""
        return {
            "chunking": f"SentenceSplitter(chunk_size={self.splitter.chunk_size}, chunk_overlap={self.splitter.chunk_overlap})",
            "vector_store": "ChromaVectorStore (persistent, in the evaluation cache)",
            "retriever_top_k": self.engine.retriever.similarity_top_k,
            "citation_chunks": f"SentenceSplitter(chunk_size={self.engine.text_splitter.chunk_size}, "
            f"chunk_overlap={self.engine.text_splitter.chunk_overlap})",
            "answer": "the Source chunks the engine passes to its LLM, each quoted with its [n] marker",
            "history": "previous user turns prepended to the question",
            "ranking": "sentences of the retrieved chunks, chunk by chunk, in document order within a chunk",
        }

    def respond(self, question: EvalQuestion, depth: int) -> SystemResponse:
        # A query engine has no memory: without an LLM to condense the conversation,
        # the standard move is to prepend the earlier user turns.
        query = " ".join([turn.content for turn in question.history if turn.role == "user"] + [question.question])
        started = time.perf_counter()
        nodes = self.engine.retrieve(QueryBundle(query))
        citations = self._citation_sources(nodes)
        text = "\n\n".join(f"{citation.text} [{citation.marker}]" for citation in citations)
        latency_ms = (time.perf_counter() - started) * 1000
        ranked = self.index.as_retriever(similarity_top_k=depth).retrieve(query)
        ranked_sentences = list(dict.fromkeys(s for node in ranked for s in self._sentences_in(node)))
        return SystemResponse(
            text=text,
            abstained=False,
            passages=[Passage(text=citation.text, markers=[citation.marker]) for citation in citations],
            citations=citations,
            searched_as=query,
            ranked_sentences=ranked_sentences,
            ranked_documents=list(dict.fromkeys(_doc_id(node) for node in ranked)),
            ranked_units=[
                RankedUnit(doc_id=_doc_id(node), text=node.node.get_content(metadata_mode=MetadataMode.NONE)) for node in ranked
            ],
            latency_ms=latency_ms,
        )

    def _citation_sources(self, nodes: list[NodeWithScore]) -> list[CitedSource]:
        """The engine's "Source n" chunks, each located in its document to find the sentences it holds."""
        sources: list[CitedSource] = []
        for node in nodes:
            doc_id = _doc_id(node)
            text = self.documents[doc_id].text
            cursor = node.node.start_char_idx or 0
            for chunk in self.engine.text_splitter.split_text(node.node.get_content(metadata_mode=MetadataMode.NONE)):
                start = text.find(chunk, cursor)
                if start < 0:
                    raise RuntimeError(f"citation chunk not found in document {doc_id!r}; the splitter changed the text")
                cursor = start + 1
                sources.append(
                    CitedSource(
                        marker=len(sources) + 1,
                        doc_id=doc_id,
                        sentence_ids=[s.id for s in _overlapping(self.sentences[doc_id], start, start + len(chunk))],
                        text=chunk,
                    )
                )
        return sources

    def _sentences_in(self, node: NodeWithScore) -> list[str]:
        start = node.node.start_char_idx or 0
        end = node.node.end_char_idx if node.node.end_char_idx is not None else start
        return [s.id for s in _overlapping(self.sentences[_doc_id(node)], start, end)]


def _use_unlinked_nltk_data(work_dir: Path) -> None:
    """Make the sentence splitter's NLTK data readable when the install hard-linked it.

    uv installs packages as hard links into its cache by default, and NLTK refuses to
    open a hard-linked data file (CWE-59), so llama-index's bundled punkt and stopwords
    fail to load. A copy has its own inodes; putting it first on NLTK's path is enough.
    """
    bundled = Path(llama_index.core.__file__).resolve().parent / "_static" / "nltk_cache"
    if not any(path.is_file() and path.stat().st_nlink > 1 for path in bundled.rglob("*")):
        return
    copy = work_dir / "nltk_data"
    if not copy.exists():
        shutil.copytree(bundled, copy)
    nltk.data.path.insert(0, str(copy))


def _llama_document(document: Document) -> LlamaDocument:
    return LlamaDocument(
        text=document.text,
        id_=document.id,
        metadata={"doc_id": document.id},
        # Bookkeeping, not content: keep it out of what is embedded and what the LLM would read.
        excluded_embed_metadata_keys=["doc_id"],
        excluded_llm_metadata_keys=["doc_id"],
    )


def _doc_id(node: NodeWithScore) -> str:
    return str(node.node.metadata["doc_id"])


def _overlapping(sentences: Sequence[Sentence], start: int, end: int) -> list[Sentence]:
    return [s for s in sentences if s.start < end and s.end > start]
