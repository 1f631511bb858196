"""Passages and documents as BM25 units of the catalog (retrieval's bm25_passage, bm25_document)."""

from __future__ import annotations

from index.catalog import Catalog
from index.documents import Document
from index.splitting import split_document

TEXT = (
    "The mill opened in 1820. It ground wheat for the whole valley.\n\n"
    "A flood destroyed the wheel in 1871. The owners rebuilt it in stone.\n"
    "The new wheel turned until 1950.\n\n"
    "磨坊于1820年开业。它为整个山谷磨小麦。"
)


def _catalog() -> tuple[Catalog, list]:
    mill = Document(id="mill", text=TEXT, title="Mill")
    other = Document(id="zoo", text="The zoo opened in 1905. Its lions came from Kenya.", title="Zoo")
    sentences = split_document(mill) + split_document(other)
    return Catalog({"mill": mill, "zoo": other}, sentences), sentences


def test_a_passage_ends_at_a_blank_line_a_language_change_or_a_document_end() -> None:
    catalog, _ = _catalog()
    passage = {s.text: int(catalog.passage_of[catalog.position(s.id)]) for s in catalog.sentences}
    document = {s.text: int(catalog.document_of[catalog.position(s.id)]) for s in catalog.sentences}
    assert passage["The mill opened in 1820."] == passage["It ground wheat for the whole valley."]
    # A single line break inside a paragraph does not end it.
    assert passage["A flood destroyed the wheel in 1871."] == passage["The new wheel turned until 1950."]
    assert len(set(passage.values())) == 4  # two English paragraphs, the Chinese one, the zoo's
    assert len(set(document.values())) == 2
    assert len(catalog.passages) == 4 and len(catalog.whole_documents) == 2


def test_a_sentence_inherits_its_passages_terms() -> None:
    catalog, _ = _catalog()
    scores = catalog.passages.scores("When was the wheel rebuilt after the flood?")
    assert scores is not None
    flood = next(s for s in catalog.sentences if s.text.startswith("The new wheel"))
    # The sentence shares no term with the question but "wheel"; its passage holds the rest.
    assert int(scores.argmax()) == int(catalog.passage_of[catalog.position(flood.id)])


def test_each_document_unit_names_its_document() -> None:
    catalog, _ = _catalog()
    for position, sentence in enumerate(catalog.sentences):
        assert catalog.unit_documents[catalog.document_of[position]] == sentence.doc_id
