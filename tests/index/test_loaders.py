import json
import os

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


# --- hostile files: each is refused whole, with the file, line and field named ---------------


def _jsonl(tmp_path, *records, raw_lines=()):
    path = tmp_path / "records.jsonl"
    lines = [json.dumps(r) for r in records] + list(raw_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "good", "text": "A valid sentence."}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "n", "text": "t", "metadata": {"score": NaN}}', r"records.jsonl:2: invalid number \(NaN"),
        ('{"id": "n", "text": "t", "metadata": {"score": -Infinity}}', r"records.jsonl:2: invalid number \(-Infinity"),
        ('{"id": "n", "text": "t", "metadata": {"score": 1e999}}', r"records.jsonl:2: invalid number \(1e999 is too large"),
        ('{"id": "n", "text": "t", "title": "\\ud800"}', r"records.jsonl:2: field 'title': invalid Unicode \(lone surrogate U\+D800"),
        ('{"id": "n", "text": "ok \\udfff"}', r"records.jsonl:2: field 'text': invalid Unicode"),
        ('{"id": "n", "text": "t", "metadata": {"a": {"\\udc80": 1}}}', r"records.jsonl:2: a key in 'metadata.a': invalid Unicode"),
        ('{"id": "n", "text": "t", "metadata": {"authors": ["ok", "\\ud83d"]}}', r"field 'metadata.authors\[1\]': invalid Unicode"),
        ('{"id": "n", "text": "\\u200b\\u200b\\u200c\\ufeff"}', r"records.jsonl:2: field 'text': the text has no visible characters"),
        ('{"id": "n", "text": "t", "metadata": ' + "[" * 40 + "]" * 40 + "}", r"records.jsonl:2: field 'metadata(\[0\])+' is nested 17 levels"),
        ('{"id": "n", "text": "t", "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}", r"records.jsonl:2: the JSON is nested too deeply"),
        ('{"id": "' + "x" * 300 + '", "text": "t"}', r"records.jsonl:2: field 'id' is 300 characters long"),
    ],
)
def test_a_hostile_record_after_a_good_one_rejects_the_file(tmp_path, line, message):
    path = _jsonl(tmp_path, GOOD, raw_lines=[line])
    with pytest.raises(DocumentError, match=message):
        load_path(path)


def test_zero_width_only_text_file_is_refused(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("\u200b\u200b\n\u2060\u00ad\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="blank.txt: the text has no visible characters"):
        load_path(path)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(DocumentError, match="pipe.txt: is a FIFO, not a regular file"):
        load_path(fifo)


def test_a_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "zeros.txt"
    link.symlink_to("/dev/zero")
    with pytest.raises(DocumentError, match=r"zeros.txt \(→ /dev/zero\): is a device, not a regular file"):
        load_path(link)


def test_a_symlink_to_a_regular_file_is_followed(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("Linked text is fine.", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert load_path(link)[0].text == "Linked text is fine."


def test_a_file_over_the_size_limit_is_refused_with_the_setting_to_raise(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("Word " * 300, encoding="utf-8")
    with pytest.raises(DocumentError, match="big.txt: 1,500 bytes is over the 1,000-byte limit.*CITEQA_MAX_FILE_BYTES"):
        load_path(path, max_bytes=1000)


def test_documents_passed_directly_are_checked_too():
    from index.documents import Document
    from index.loaders import check_document

    with pytest.raises(DocumentError, match="field 'extra.score' is nan"):
        check_document(Document(id="d", text="Text.", extra={"score": float("nan")}))
    with pytest.raises(DocumentError, match="field 'title': invalid Unicode"):
        check_document(Document(id="d", text="Text.", title="\ud800"))
    with pytest.raises(DocumentError, match="no visible characters"):
        check_document(Document(id="d", text="\u200b"))
