"""Reading source files into `Document`s: .txt, .md, .pdf (text layer) and .jsonl.

Every failure is a `DocumentError` naming the file (and line, for JSONL), raised
before anything is written to the index.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from index.documents import Document
from index.structure import reflow

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf", ".jsonl")

_DOI = re.compile(r"\bdoi:\s*(10\.\d{4,}/\S+?)\.?(?:\s|$)", re.I)
_YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")
_JOURNAL_CITATION = re.compile(r"^(?P<journal>[^.]+(?:\.[^.\d]+)*?)\.\s+(?:19|20)\d{2}\b")
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")
_HEADER_SEARCH_LINES = 5


class DocumentError(ValueError):
    """A source file that cannot be indexed; the message names the file and what to fix."""


def document_id_for(path: Path) -> str:
    """A readable, stable ID from a file name: `My Paper (2).pdf` → `My_Paper_2`."""
    return _SAFE_ID.sub("_", path.stem).strip("_") or "document"


def parse_header(text: str) -> dict:
    """Bibliographic fields from a leading header: author line(s), affiliation, citation line.

    The header ends at the first line (within the first few) that carries a journal
    citation or a DOI; the lines before it are authors then affiliation. Text with no
    such line has no header.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines[:_HEADER_SEARCH_LINES]):
        doi = _DOI.search(line)
        citation = _JOURNAL_CITATION.match(line.strip())
        if not (doi or citation) or index == 0:
            continue
        before = [candidate.strip() for candidate in lines[:index] if candidate.strip()]
        year = _YEAR.search(line)
        return {
            "metadata_lines": index + 1,
            "authors": tuple(a.strip() for a in re.split(r",|;| and ", before[0]) if a.strip()) if before else (),
            "affiliation": " ".join(before[1:]) or None,
            "journal": citation.group("journal").strip() if citation else None,
            "year": int(year.group(1)) if year else None,
            "doi": doi.group(1) if doi else None,
        }
    return {"metadata_lines": 0}


def _require_text(text: str, where: str) -> str:
    if not text.strip():
        raise DocumentError(f"{where}: the document is empty (no text to index).")
    return text


def _read_utf8(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"{path}: cannot read the file ({error.strerror}).") from error
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{path}: not UTF-8 text (invalid byte at position {error.start}); save it as UTF-8 and retry."
        ) from error
    return _require_text(text.replace("\r\n", "\n").replace("\r", "\n"), str(path))


def _title_from(text: str, header: dict, suffix: str) -> str:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if suffix == ".md":
        heading = next((line.lstrip("#").strip() for line in lines if line.startswith("#")), None)
        if heading:
            return heading
    if header["metadata_lines"] and header.get("journal"):
        return f"{header['journal']} ({header.get('year') or 'n.d.'})"
    return lines[0][:120] if lines else ""


def load_text_file(path: Path) -> Document:
    text = _read_utf8(path)
    header = parse_header(text)
    return Document(id=document_id_for(path), text=text, source=str(path), title=_title_from(text, header, path.suffix), **header)


def load_pdf(path: Path) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise DocumentError(f"{path}: the PDF is encrypted; decrypt it first.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as error:
        raise DocumentError(f"{path}: not a readable PDF ({error}).") from error
    # Each page re-flowed: wrapped lines and hyphenated words joined, headings kept on their own line.
    text = "\n\n".join(reflow(page) for page in pages if page.strip())
    if not text.strip():
        raise DocumentError(f"{path}: the PDF has no text layer (a scan?); run OCR on it first.")
    header = parse_header(text)
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else None) or _title_from(text, header, ".pdf")
    return Document(id=document_id_for(path), text=text, source=str(path), title=title, **header)


_JSONL_FIELDS = {"authors", "affiliation", "journal", "year", "doi"}


def _jsonl_document(record: object, where: str, source: str) -> Document:
    if not isinstance(record, dict):
        raise DocumentError(f"{where}: expected a JSON object with id, title, text, metadata.")
    for field in ("id", "text"):
        if not isinstance(record.get(field), str) or not record[field].strip():
            raise DocumentError(f"{where}: field '{field}' must be a non-empty string.")
    title = record.get("title", "")
    metadata = record.get("metadata", {})
    if not isinstance(title, str):
        raise DocumentError(f"{where}: field 'title' must be a string.")
    if not isinstance(metadata, dict):
        raise DocumentError(f"{where}: field 'metadata' must be an object.")
    fields: dict = {key: metadata[key] for key in _JSONL_FIELDS & metadata.keys()}
    if isinstance(fields.get("authors"), str):
        fields["authors"] = (fields["authors"],)
    extra = {k: v for k, v in metadata.items() if k not in _JSONL_FIELDS and isinstance(v, (str, int, float, bool))}
    try:
        return Document(id=record["id"].strip(), text=record["text"], title=title, source=source, extra=extra, **fields)
    except ValueError as error:
        raise DocumentError(f"{where}: invalid metadata ({error}).") from error


def load_jsonl(path: Path) -> Iterator[Document]:
    """One document per line; the whole file is checked before any document is yielded."""
    text = _read_utf8(path)
    documents: list[Document] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DocumentError(f"{where}: invalid JSON ({error.msg} at column {error.colno}).") from error
        document = _jsonl_document(record, where, str(path))
        if document.id in seen:
            raise DocumentError(f"{where}: duplicate id '{document.id}' (first on line {seen[document.id]}).")
        seen[document.id] = number
        documents.append(document)
    yield from documents


def load_path(path: str | Path) -> list[Document]:
    """Load every document in one file, or raise `DocumentError` saying why not."""
    path = Path(path)
    if not path.exists():
        raise DocumentError(f"{path}: no such file.")
    if path.is_dir():
        raise DocumentError(f"{path}: is a folder; pass the files inside it.")
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md"):
        return [load_text_file(path)]
    if suffix == ".pdf":
        return [load_pdf(path)]
    if suffix == ".jsonl":
        return list(load_jsonl(path))
    raise DocumentError(f"{path}: unsupported file type '{path.suffix or '(none)'}'; use one of {', '.join(SUPPORTED_SUFFIXES)}.")
