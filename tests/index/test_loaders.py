import json

import pytest

from index.loaders import DocumentError, load_path, parse_header


def test_text_file_header_becomes_document_fields(tmp_path):
    path = tmp_path / "review.txt"
    path.write_text("Ann Lee, Bo Chen\nSome Hospital, Boston.\nJ Pediatr. 2023 May;12(3):1-9. doi: 10.1000/xyz.1\nBody text here.", encoding="utf-8")
    [document] = load_path(path)
    assert document.id == "review"
    assert document.authors == ("Ann Lee", "Bo Chen")
    assert document.affiliation == "Some Hospital, Boston."
    assert (document.journal, document.year, document.doi) == ("J Pediatr", 2023, "10.1000/xyz.1")
    assert document.metadata_lines == 3


def test_text_without_header_has_no_metadata_lines():
    assert parse_header("Just a paragraph. Another sentence.")["metadata_lines"] == 0


def test_markdown_title_from_heading(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# My notes\n\nJDM is rare.", encoding="utf-8")
    assert load_path(path)[0].title == "My notes"


def test_pdf_text_layer(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 10, "Methotrexate is a common first-line drug. It is given weekly.")
    path = tmp_path / "paper.pdf"
    pdf.output(str(path))
    [document] = load_path(path)
    assert "Methotrexate is a common first-line drug." in document.text


def test_jsonl_documents(tmp_path):
    path = tmp_path / "docs.jsonl"
    rows = [
        {"id": "a", "title": "A", "text": "First doc.", "metadata": {"year": 2020, "doi": "10.1/a", "site": "x"}},
        {"id": "b", "title": "B", "text": "Second doc.", "metadata": {}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    documents = load_path(path)
    assert [d.id for d in documents] == ["a", "b"]
    assert documents[0].year == 2020 and documents[0].extra == {"site": "x"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", '{"id": "a", "text": "ok"}\n{"id": "b", "text": \n', "bad.jsonl:2: invalid JSON"),
        ("nofield.jsonl", '{"id": "a", "title": "t"}\n', "nofield.jsonl:1: field 'text' must be a non-empty string"),
        ("dup.jsonl", '{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "dup.jsonl:2: duplicate id 'a'"),
        ("empty.txt", "   \n\n", "the document is empty"),
        ("notes.docx", "x", "unsupported file type '.docx'"),
        ("broken.pdf", "not a pdf", "not a readable PDF"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        load_path(path)


def test_non_utf8_and_missing_files(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(DocumentError, match="not UTF-8"):
        load_path(latin)
    with pytest.raises(DocumentError, match="no such file"):
        load_path(tmp_path / "missing.txt")
