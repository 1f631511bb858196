"""Reading source files into `Document`s: .txt, .md, .pdf (text layer) and .jsonl.

A whole file is read and checked before any of it is indexed: only regular files (a
link is followed and its target checked; devices, FIFOs and sockets are refused) up to
a size limit; valid UTF-8; for JSONL, every line valid JSON of bounded depth, with
finite numbers and valid Unicode in every field; every document with visible text.
Every failure is a `DocumentError` naming the file (and line and field, for JSONL).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import unicodedata
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
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024  # qa.Settings.max_file_bytes
# A JSONL record is {"id", "title", "text", "metadata": {...}}: deeper nesting is never needed.
_MAX_JSON_DEPTH = 16
_MAX_ID_CHARS = 256


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


def _has_visible_text(text: str) -> bool:
    """Whether any character is visible: not white space, a format or control character
    (zero-width spaces, joiners, BOMs), a combining mark alone, or unassigned."""
    return any(unicodedata.category(c)[0] not in "ZCM" for c in text)


def _require_text(text: str, where: str) -> str:
    if not text.strip():
        raise DocumentError(f"{where}: the document is empty (no text to index).")
    if not _has_visible_text(text):
        raise DocumentError(f"{where}: the text has no visible characters (only spaces, zero-width or control characters).")
    return text


def _bad_unicode(text: str) -> str | None:
    """A description of the first character that is not valid Unicode text (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"invalid Unicode (lone surrogate U+{ord(text[error.start]):04X} at position {error.start})"
    return None


def _regular_file(path: Path, max_bytes: int) -> Path:
    """The file to read (links followed), once it is known to be a regular file within the size limit."""
    try:
        target = path.resolve(strict=True)
        info = target.stat()
    except FileNotFoundError:
        raise DocumentError(f"{path}: no such file" + (" (a broken link)." if path.is_symlink() else ".")) from None
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
        raise DocumentError(f"{path}: cannot open the file ({error}).") from None
    if stat.S_ISDIR(info.st_mode):
        raise DocumentError(f"{path}: is a folder; pass the files inside it.")
    if not stat.S_ISREG(info.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode) else "a device"
        shown = f"{path} (→ {target})" if target != path.absolute() else str(path)
        raise DocumentError(f"{shown}: is {kind}, not a regular file; only regular files are indexed.")
    if info.st_size > max_bytes:
        raise DocumentError(
            f"{path}: {info.st_size:,} bytes is over the {max_bytes:,}-byte limit; split the file, "
            "or raise the limit with CITEQA_MAX_FILE_BYTES."
        )
    return target


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    target = _regular_file(path, max_bytes)
    try:
        # O_NONBLOCK: if the file was swapped for a FIFO since the check, fail instead of waiting forever.
        descriptor = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as error:
        raise DocumentError(f"{path}: cannot read the file ({error.strerror}).") from error
    if len(raw) > max_bytes:
        raise DocumentError(f"{path}: over the {max_bytes:,}-byte limit (it grew while being read).")
    return raw


def _read_utf8(path: Path, max_bytes: int) -> str:
    raw = _read_bytes(path, max_bytes)
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


def load_text_file(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    text = _read_utf8(path, max_bytes)
    header = parse_header(text)
    return Document(id=document_id_for(path), text=text, source=str(path), title=_title_from(text, header, path.suffix), **header)


def load_pdf(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    raw = _read_bytes(path, max_bytes)
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise DocumentError(f"{path}: the PDF is encrypted; decrypt it first.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as error:
        raise DocumentError(f"{path}: not a readable PDF ({error}).") from error
    # Each page re-flowed: wrapped lines and hyphenated words joined, headings kept on their own line.
    text, page_starts = _join_pages([reflow(page) for page in pages])
    if not text.strip():
        raise DocumentError(f"{path}: the PDF has no text layer (a scan?); run OCR on it first.")
    _require_text(text, str(path))
    header = parse_header(text)
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else None) or _title_from(text, header, ".pdf")
    return Document(id=document_id_for(path), text=text, source=str(path), title=title, page_starts=page_starts, **header)


def _join_pages(pages: list[str]) -> tuple[str, tuple[int, ...]]:
    """The pages' text joined by blank lines, and where each page begins in it (so citations can name their page).

    A page without text begins where the next one does: no offset falls on it.
    """
    parts: list[str] = []
    starts: list[int] = []
    length = 0
    for page in pages:
        page = page.strip()
        if page and parts:
            length += 2  # the "\n\n" joining it to the previous page
        starts.append(length)
        if page:
            parts.append(page)
            length += len(page)
    return "\n\n".join(parts), tuple(starts)


_JSONL_FIELDS = {"authors", "affiliation", "journal", "year", "doi"}


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows; use a finite number or a string")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"{literal} is too large for a number; use a string")
    return value


def _parse_line(line: str, where: str) -> object:
    try:
        return json.loads(line, parse_constant=_reject_constant, parse_float=_finite)
    except json.JSONDecodeError as error:
        raise DocumentError(f"{where}: invalid JSON ({error.msg} at column {error.colno}).") from None
    except RecursionError:
        raise DocumentError(f"{where}: the JSON is nested too deeply (the limit is {_MAX_JSON_DEPTH} levels).") from None
    except ValueError as error:  # NaN/Infinity, a float overflow, an integer of thousands of digits
        raise DocumentError(f"{where}: invalid number ({error}).") from None


def _check_values(record: object, where: str) -> None:
    """Every key and string valid Unicode, nesting within the depth limit; names the field at fault."""
    stack: list[tuple[object, str, int]] = [(record, "", 1)]
    while stack:
        value, field, depth = stack.pop()
        if depth > _MAX_JSON_DEPTH:
            raise DocumentError(f"{where}: field '{field}' is nested {depth} levels deep; the limit is {_MAX_JSON_DEPTH}.")
        if isinstance(value, str):
            if problem := _bad_unicode(value):
                raise DocumentError(f"{where}: field '{field or '(record)'}': {problem}.")
        elif isinstance(value, dict):
            for key, item in value.items():
                if problem := _bad_unicode(key):
                    raise DocumentError(f"{where}: a key in '{field or '(record)'}': {problem}.")
                stack.append((item, f"{field}.{key}" if field else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{field}[{i}]", depth + 1) for i, item in enumerate(value))


def _jsonl_document(record: object, where: str, source: str) -> Document:
    if not isinstance(record, dict):
        raise DocumentError(f"{where}: expected a JSON object with id, title, text, metadata.")
    _check_values(record, where)
    for field in ("id", "text"):
        if not isinstance(record.get(field), str) or not record[field].strip():
            raise DocumentError(f"{where}: field '{field}' must be a non-empty string.")
    if len(record["id"].strip()) > _MAX_ID_CHARS:
        raise DocumentError(f"{where}: field 'id' is {len(record['id'].strip())} characters long; the limit is {_MAX_ID_CHARS}.")
    _require_text(record["text"], f"{where}: field 'text'")
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


def load_jsonl(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Iterator[Document]:
    """One document per line; the whole file is checked before any document is yielded."""
    text = _read_utf8(path, max_bytes)
    documents: list[Document] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        document = _jsonl_document(_parse_line(line, where), where, str(path))
        if document.id in seen:
            raise DocumentError(f"{where}: duplicate id '{document.id}' (first on line {seen[document.id]}).")
        seen[document.id] = number
        documents.append(document)
    yield from documents


def check_document(document: Document, where: str | None = None) -> Document:
    """The document, if every text field is valid Unicode, every number finite and its text visible."""
    where = where or document.source or document.id
    fields = {"id": document.id, "text": document.text, "title": document.title, "source": document.source,
              "affiliation": document.affiliation or "", "journal": document.journal or "", "doi": document.doi or ""}
    fields.update({f"authors[{i}]": author for i, author in enumerate(document.authors)})
    fields.update({f"extra.{key}": value for key, value in document.extra.items() if isinstance(value, str)})
    fields.update({f"extra key {key!r}": key for key in document.extra})
    for field, value in fields.items():
        if problem := _bad_unicode(value):
            raise DocumentError(f"{where}: field '{field}': {problem}.")
    for key, value in document.extra.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise DocumentError(f"{where}: field 'extra.{key}' is {value}; only finite numbers are stored.")
    if not document.id.strip() or len(document.id) > _MAX_ID_CHARS:
        raise DocumentError(f"{where}: the document ID must be 1 to {_MAX_ID_CHARS} characters.")
    _require_text(document.text, where)
    return document


def load_path(path: str | Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Document]:
    """Load every document in one file, or raise `DocumentError` saying why not."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md"):
        return [check_document(load_text_file(path, max_bytes), str(path))]
    if suffix == ".pdf":
        return [check_document(load_pdf(path, max_bytes), str(path))]
    if suffix == ".jsonl":
        return [check_document(d, f"{path} (document '{d.id}')") for d in load_jsonl(path, max_bytes)]
    if path.is_dir():
        raise DocumentError(f"{path}: is a folder; pass the files inside it.")
    if not path.exists():
        raise DocumentError(f"{path}: no such file.")
    raise DocumentError(f"{path}: unsupported file type '{path.suffix or '(none)'}'; use one of {', '.join(SUPPORTED_SUFFIXES)}.")
