"""The in-memory view of what is indexed: committed documents, their sentences, and BM25.

Loaded when the assistant opens (from the snapshot in the data directory, index/snapshot.py,
or else from Chroma), then updated after each ingest or removal (this process's, or, through
`refreshed`, another's) so that a query never scans the collection. An update builds the
whole new view first and then replaces the old one in a single assignment (`replace`), so
its holders keep one object and never see a mix. A new view tokenizes only the sentences
the old one did not hold.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Protocol

import numpy as np

from index.documents import Document, Language, Sentence
from index.gc_pause import gc_paused
from index.lexical import LexicalIndex, Terms, idf_weights
from index.store import ChromaIndex
from index.tokenize import tokenize


_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


class Tokenized(Protocol):
    """Sentences whose search tokens are known: a catalog, or a snapshot being restored."""

    terms: Terms

    def position(self, sentence_id: str) -> int | None: ...

    def at(self, position: int) -> Sentence: ...


class Catalog:
    def __init__(
        self,
        documents: dict[str, Document],
        sentences: Iterable[Sentence],
        hashes: dict[str, str] | None = None,
        version: int = 1,
        *,
        known: Tokenized | None = None,
    ) -> None:
        """`known`: where the tokens of sentences already tokenized are taken from instead of the tokenizer."""
        self.version = version
        self.documents = dict(documents)
        # Content hash of each document as committed: what `refreshed` compares with the manifest.
        self.hashes = {doc_id: (hashes or {}).get(doc_id) or d.content_hash for doc_id, d in self.documents.items()}
        # Sentences whose document has no manifest record belong to an unfinished ingest: ignore them.
        self._by_doc: dict[str, list[Sentence]] = {doc_id: [] for doc_id in self.documents}
        for sentence in sentences:
            if sentence.doc_id in self._by_doc:
                self._by_doc[sentence.doc_id].append(sentence)
        self._rebuild(known)

    @classmethod
    def load(cls, index: ChromaIndex) -> Catalog:
        documents, hashes = index.load_manifest()
        return cls(documents, index.load_sentences(hashes), hashes)

    def refreshed(self, index: ChromaIndex) -> tuple[list[tuple[Document, list[Sentence]]], list[str]]:
        """What other writers changed: (updated documents with their sentences, removed IDs),
        read from the index for the changed documents only."""
        committed = index.document_hashes()
        removed = [doc_id for doc_id in self.documents if doc_id not in committed]
        changed = [doc_id for doc_id, content_hash in committed.items() if self.hashes.get(doc_id) != content_hash]
        documents, hashes = index.load_manifest(changed)
        removed += [doc_id for doc_id in changed if doc_id not in documents and doc_id in self.documents]
        by_doc: dict[str, list[Sentence]] = {doc_id: [] for doc_id in documents}
        for sentence in index.load_sentences(hashes):
            by_doc[sentence.doc_id].append(sentence)
        # No committed sentence: a write changed the document again between the two reads (with a
        # Chroma server, where reads and writes interleave). Keep the current view of it; the
        # hash still differs, so the next refresh reads it again.
        return [(documents[doc_id], by_doc[doc_id]) for doc_id in documents if by_doc[doc_id]], removed

    def _rebuild(self, known: Tokenized | None) -> None:
        for sentences in self._by_doc.values():
            sentences.sort(key=lambda s: s.ordinal)
        self.sentences: list[Sentence] = [s for doc_id in sorted(self._by_doc) for s in self._by_doc[doc_id]]
        self._position = {s.id: i for i, s in enumerate(self.sentences)}
        # The languages of the library: each document's most frequent sentence language. The vector
        # search runs once per language (qa.retrieval), so each language's best sentences are
        # candidates even where the other language's are nearer the question. Not every language
        # any sentence is detected in: five of CMRC's 2,448 sentences ("GeitjeBooks 柏林。") read as
        # English, and a search and a cross-encoder read for them cost every question 100 ms.
        self.languages: list[Language] = sorted(
            {Counter(s.language for s in sentences).most_common(1)[0][0] for sentences in self._by_doc.values() if sentences}
        )
        # Tokenized once: BM25, IDF and the term coverage of relevance all use these.
        reused: list[int | None] = []
        fresh: dict[int, list[str]] = {}
        for i, sentence in enumerate(self.sentences):
            old = known.position(sentence.id) if known is not None else None
            if old is not None and known.at(old).text != sentence.text:  # type: ignore[union-attr]
                old = None
            reused.append(old)
            if old is None:
                fresh[i] = tokenize(sentence.text)
        self.terms = Terms.gather(known.terms if known is not None else None, reused, fresh)
        self.lexical = LexicalIndex(self.terms)
        self.idf = idf_weights(self.lexical)
        # Passages and whole documents as BM25 units too: a question is written about a passage,
        # and its terms the answer sentence lacks are often in the sentences around it (retrieval's
        # bm25_passage and bm25_document features).
        self.passage_of, self.document_of, passage_firsts, document_firsts = self._units()
        self.passages = LexicalIndex(self.terms.grouped(passage_firsts))
        self.whole_documents = LexicalIndex(self.terms.grouped(document_firsts))
        # The ID of each document unit (`document_of` numbers them): masks by document cost one
        # test per document, not one per sentence.
        self.unit_documents = [self.sentences[p].doc_id for p in document_firsts.tolist()]
        self._token_sets: dict[int, frozenset[str]] = {}
        self._document_tokens: dict[str, frozenset[str]] = {}

    def _units(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each sentence's passage and document number, and the first sentence of each. A passage
        is a run of sentences of one document, language, kind and section with no blank line
        between them: a paragraph, a list or a table."""
        passage_of = np.zeros(len(self.sentences), dtype=np.int64)
        document_of = np.zeros(len(self.sentences), dtype=np.int64)
        passage_firsts: list[int] = []
        document_firsts: list[int] = []
        previous: Sentence | None = None
        for position, sentence in enumerate(self.sentences):
            if previous is None or sentence.doc_id != previous.doc_id:
                document_firsts.append(position)
                passage_firsts.append(position)
            elif (
                (sentence.language, sentence.kind, sentence.section) != (previous.language, previous.kind, previous.section)
                or _BLANK_LINE.search(self.documents[sentence.doc_id].text, previous.end, max(sentence.start, previous.end)) is not None
            ):
                passage_firsts.append(position)
            passage_of[position], document_of[position] = len(passage_firsts) - 1, len(document_firsts) - 1
            previous = sentence
        return passage_of, document_of, np.array(passage_firsts, dtype=np.int64), np.array(document_firsts, dtype=np.int64)

    def tokens(self, sentence: Sentence) -> frozenset[str]:
        """Search tokens of an indexed sentence (made on first use: most are never asked for)."""
        position = self._position[sentence.id]
        if position not in self._token_sets:
            self._token_sets[position] = self.terms.token_set(position)
        return self._token_sets[position]

    def document_tokens(self, doc_id: str) -> frozenset[str]:
        """Every search token of a document (cached until the catalog changes)."""
        if doc_id not in self._document_tokens:
            self._document_tokens[doc_id] = frozenset().union(*(self.tokens(s) for s in self.of_document(doc_id)))
        return self._document_tokens[doc_id]

    def position(self, sentence_id: str) -> int | None:
        return self._position.get(sentence_id)

    def replace(self, updated: Iterable[tuple[Document, list[Sentence]]] = (), removed: Iterable[str] = ()) -> None:
        """Apply committed changes: new or changed documents with their sentences, and removed IDs."""
        self.adopt(self.changed(updated, removed))

    def adopt(self, other: Catalog) -> None:
        """Become `other` in one assignment: holders of this object (retriever, answerer) see the new view.
        Callers that let readers run meanwhile keep them out during the call (qa/assistant.py)."""
        self.__dict__ = other.__dict__

    def changed(self, updated: Iterable[tuple[Document, list[Sentence]]] = (), removed: Iterable[str] = ()) -> Catalog:
        """A new view with committed changes applied (BM25 and all rebuilt); this one is untouched."""
        documents, by_doc, hashes = dict(self.documents), dict(self._by_doc), dict(self.hashes)
        for doc_id in removed:
            documents.pop(doc_id, None)
            by_doc.pop(doc_id, None)
            hashes.pop(doc_id, None)
        for document, sentences in updated:
            documents[document.id] = document
            by_doc[document.id] = list(sentences)
            hashes.pop(document.id, None)
        sentences = (s for doc_sentences in by_doc.values() for s in doc_sentences)
        with gc_paused():  # a whole new view at once: see index/gc_pause.py
            return Catalog(documents, sentences, hashes, self.version + 1, known=self)

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
