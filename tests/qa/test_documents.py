"""Which documents an index holds and a question searches: bundled corpus, empty index, chosen documents, pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.corpus import BUNDLED_DOCUMENT_ID
from index.documents import Document
from index.loaders import DocumentError
from qa import Assistant, Settings


def test_a_data_dir_from_the_environment_is_the_users_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITEQA_DATA_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("CITEQA_EMBEDDING", "hash")
    assert Assistant(settings=Settings(show_progress=False)).documents() == []
    assert Assistant(settings=Settings(data_dir=tmp_path / "other", embedding="hash")).documents() == []


def test_the_default_data_dir_holds_the_bundled_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assistant = Assistant(settings=Settings(embedding="hash", show_progress=False))
    assert [d.id for d in assistant.documents()] == [BUNDLED_DOCUMENT_ID]


def _two_documents(settings: Settings) -> Assistant:
    assistant = Assistant(settings=settings, include_bundled=False)
    assistant.add_documents(
        [
            Document(id="otters", text="Sea otters hold hands while they sleep. Otters eat sea urchins."),
            Document(id="bread", text="Sourdough bread bakes for forty minutes. Bread needs a hot oven."),
        ]
    )
    return assistant


def test_doc_ids_limits_the_search_to_the_chosen_documents(hash_settings: Settings) -> None:
    assistant = _two_documents(hash_settings)
    question = "What do otters eat, and how long does bread bake?"
    everywhere = {hit.sentence.doc_id for hit in assistant.retrieve(question)}
    assert everywhere == {"otters", "bread"}
    assert {hit.sentence.doc_id for hit in assistant.retrieve(question, doc_ids=["bread"])} == {"bread"}
    answer = assistant.ask("What do sea otters eat?", doc_ids=["bread"])
    assert all(c.doc_id == "bread" for c in [*answer.citations, *answer.related])
    assert assistant.ask("What do sea otters eat?", doc_ids=[]).citations[0].doc_id == "otters"  # empty = all


def test_an_unknown_document_choice_is_named(hash_settings: Settings) -> None:
    assistant = _two_documents(hash_settings)
    with pytest.raises(DocumentError, match="'cats'"):
        assistant.ask("What do otters eat?", doc_ids=["otters", "cats"])


def test_citations_of_a_pdf_name_their_page(hash_settings: Settings, tmp_path: Path) -> None:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.set_font("helvetica", size=12)
    for text in ("Methotrexate is given weekly to most patients.", "", "Rituximab depletes B cells in refractory disease."):
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 10, text)
    path = tmp_path / "paged.pdf"
    pdf.output(str(path))
    assistant = Assistant(settings=hash_settings, include_bundled=False)
    assistant.add_documents([path])
    document = assistant.document("paged")
    assert len(document.page_starts) == 3
    assert document.page_at(document.text.index("Methotrexate")) == 1
    assert document.page_at(document.text.index("Rituximab")) == 3  # page 2 has no text
    answer = assistant.ask("What depletes B cells in refractory disease?")
    assert answer.citations and answer.citations[0].page == 3


def test_unpaged_documents_keep_their_content_hash() -> None:
    # Recording pages must not make every existing index re-embed its text documents.
    document = Document(id="a", text="Some text.")
    assert document.content_hash == "8f84b53834939d2a829cb1113bef974c5bef3d762e7fd15c7caec803771d7fee"  # as before pages
    assert document.page_at(3) is None
