"""The in-memory view of what is indexed: committed documents, their sentences, and BM25.

Loaded once from Chroma when the assistant opens, then updated in place after each
ingest or removal, so that a query never scans the collection.
"""

from __future__ import annotations

from collections.abc import Iterable

from index.documents import Document, Sentence
from index.lexical import LexicalIndex, idf_weights
from index.store import ChromaIndex
from index.tokenize import tokenize


class Catalog:
    def __init__(self, documents: dict[str, Document], sentences: Iterable[Sentence]) -> None:
        self.documents = dict(documents)
        # Sentences whose document has no manifest record belong to an unfinished ingest: ignore them.
        self._by_doc: dict[str, list[Sentence]] = {doc_id: [] for doc_id in self.documents}
        for sentence in sentences:
            if sentence.doc_id in self._by_doc:
                self._by_doc[sentence.doc_id].append(sentence)
        self._rebuild()

    @classmethod
    def load(cls, index: ChromaIndex) -> Catalog:
        return cls(index.load_documents(), index.load_sentences())

    def _rebuild(self) -> None:
        self.version = getattr(self, "version", 0) + 1
        for sentences in self._by_doc.values():
            sentences.sort(key=lambda s: s.ordinal)
        self.sentences: list[Sentence] = [s for doc_id in sorted(self._by_doc) for s in self._by_doc[doc_id]]
        self._position = {s.id: i for i, s in enumerate(self.sentences)}
        # Tokenized once: BM25, IDF and the term coverage of relevance all use these.
        corpus_tokens = [tokenize(s.text) for s in self.sentences]
        self.token_sets: list[frozenset[str]] = [frozenset(tokens) for tokens in corpus_tokens]
        self.lexical = LexicalIndex(corpus_tokens)
        self.idf = idf_weights(self.token_sets)
        self._document_tokens: dict[str, frozenset[str]] = {}

    def tokens(self, sentence: Sentence) -> frozenset[str]:
        """Search tokens of an indexed sentence."""
        return self.token_sets[self._position[sentence.id]]

    def document_tokens(self, doc_id: str) -> frozenset[str]:
        """Every search token of a document (cached until the catalog changes)."""
        if doc_id not in self._document_tokens:
            self._document_tokens[doc_id] = frozenset().union(*(self.tokens(s) for s in self.of_document(doc_id)))
        return self._document_tokens[doc_id]

    def position(self, sentence_id: str) -> int | None:
        return self._position.get(sentence_id)

    def replace(self, updated: Iterable[tuple[Document, list[Sentence]]] = (), removed: Iterable[str] = ()) -> None:
        """Apply committed changes: new or changed documents with their sentences, and removed IDs."""
        for doc_id in removed:
            self.documents.pop(doc_id, None)
            self._by_doc.pop(doc_id, None)
        for document, sentences in updated:
            self.documents[document.id] = document
            self._by_doc[document.id] = list(sentences)
        self._rebuild()

    def get(self, sentence_id: str) -> Sentence | None:
        position = self._position.get(sentence_id)
        return self.sentences[position] if position is not None else None

    def at(self, position: int) -> Sentence:
        return self.sentences[position]

    def of_document(self, doc_id: str) -> list[Sentence]:
        return self._by_doc.get(doc_id, [])

    def neighbours(self, sentence: Sentence) -> tuple[Sentence | None, Sentence | None]:
        """The sentences just before and after, in the same document and language."""
        siblings = self._by_doc.get(sentence.doc_id, [])
        i = sentence.ordinal
        before = siblings[i - 1] if 0 < i <= len(siblings) and siblings[i - 1].language == sentence.language else None
        after = siblings[i + 1] if i + 1 < len(siblings) and siblings[i + 1].language == sentence.language else None
        return before, after

    def __len__(self) -> int:
        return len(self.sentences)
