"""Sentence splitting for biomedical English and Chinese, with exact character offsets.

pysbd does the hard part (abbreviations, "e.g.", "et al.", decimals, parenthesised
acronyms) for both languages. Around it we only add what it does not know about:
paragraph structure, bibliographic lines that must stay whole, and closing quotes
that pysbd leaves at the start of the next Chinese sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import pysbd

from index.documents import Document, Language, Sentence, SentenceKind
from index.parallel import link_translations
from index.structure import blocks, heading_title, is_heading_line

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
# A journal citation line ("Paediatr Drugs. 2025 Jan;27(1):57-72. doi: ...") or a DOI line is one unit.
_CITATION_LINE = re.compile(r"\b(19|20)\d{2}\b[^\n]{0,40}?;\s*\d+(\(\d+\))?:\s*[\dA-Za-z]+|\bdoi:\s*10\.\d{4,}/", re.I)
_CLOSERS = "”’」』）)】》\"'"


def detect_language(text: str) -> Language:
    """Chinese when CJK characters outnumber a fifth of the letters, else English."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    return "zh" if cjk and cjk * 5 >= (cjk + latin) else "en"


@lru_cache(maxsize=2)
def _segmenter(language: Language) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language, clean=False, char_span=True)


def _sentence_spans(text: str, start: int, end: int, language: Language) -> Iterator[tuple[int, int]]:
    """Sentence spans inside one paragraph, trimmed of surrounding white space."""
    paragraph = text[start:end]
    if _CITATION_LINE.search(paragraph) and len(paragraph) < 300:
        yield start, end
        return
    # Wrapped lines were joined into this paragraph; pysbd would end a sentence at each newline.
    spans = [(s.start, s.end) for s in _segmenter(language).segment(paragraph.replace("\n", " "))]
    # pysbd puts a closing quote or bracket after 。 at the head of the next sentence; move it back.
    fixed: list[list[int]] = []
    for s, e in spans:
        while fixed and s < e and paragraph[s] in _CLOSERS and _CJK.search(paragraph[fixed[-1][0]:fixed[-1][1]]):
            fixed[-1][1] = s + 1
            s += 1
        if s < e:
            fixed.append([s, e])
    for s, e in fixed:
        piece = paragraph[s:e]
        s += len(piece) - len(piece.lstrip())
        e -= len(piece) - len(piece.rstrip())
        if s < e:
            yield start + s, start + e


# Where a long paragraph may be cut before pysbd sees it: a clear sentence end.
_SENTENCE_END = re.compile(r"[.!?][\'\"”’)）]*\s+(?=[A-Z])|[。！？][”’」』）)]*")
_SPACE = re.compile(r"\s+")
_TERMINAL_MARK = re.compile(r"[.!?。！？]")


def _pieces(text: str, start: int, end: int, size: int, cut: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """text[start:end] in pieces of at most `size` characters, trimmed of white space, each cut
    after the last match of `cut` in its second half (or hard at `size` when there is none)."""
    while start < end:
        stop = end
        if end - start > size:
            stop = start + size
            for match in cut.finditer(text, start + size // 2, stop):
                stop = match.end()
        piece = text[start:stop]
        s, e = start + len(piece) - len(piece.lstrip()), stop - (len(piece) - len(piece.rstrip()))
        if s < e:
            yield s, e
        start = stop


def _bounded_sentence_spans(text: str, start: int, end: int, language: Language, limit: int) -> Iterator[tuple[int, int]]:
    """Sentence spans of a paragraph, none longer than `limit` characters.

    pysbd's time and memory grow faster than its input (30,000 characters of prose take 6 s,
    3,000 take 0.1 s; one 50 MB line took 8 GB), so a long paragraph reaches it in pieces of
    at most `limit` cut after a clear sentence end; a run with no sentence break is cut at
    white space (and skips pysbd: nothing there for it to find).
    """
    for p_start, p_end in _pieces(text, start, end, limit, _SENTENCE_END):
        spans = _sentence_spans(text, p_start, p_end, language) if _TERMINAL_MARK.search(text, p_start, p_end) else [(p_start, p_end)]
        for s, e in spans:
            yield from _pieces(text, s, e, limit, _SPACE)


# The `section` of a bibliographic header line: its role.
AUTHORS, AFFILIATION, CITATION = "Authors", "Affiliation", "Citation"


def split_document(document: Document, max_sentence_chars: int = 3000) -> list[Sentence]:
    """Split a document into sentences with stable IDs and offsets into `document.text`.

    The first `document.metadata_lines` lines are bibliographic metadata: each is one
    citable sentence, never split, so "Who wrote this?" can cite the author line; its
    section names its role. Below them, `index.structure` finds paragraphs, list items and
    table rows (one unit each) under their headings. A longer run than `max_sentence_chars`
    without a sentence break is cut into several sentences.
    """
    text = document.text
    generation = document.content_hash  # hashes the whole document: once, not per sentence
    metadata_end = _offset_after_lines(text, document.metadata_lines)
    units: list[tuple[int, int, SentenceKind, str, list[tuple[int, int]]]] = []
    lines = text[:metadata_end].split("\n")[: document.metadata_lines]
    position = 0
    for index, line in enumerate(lines):
        lead, trail = position + len(line) - len(line.lstrip()), position + len(line.rstrip())
        if trail > lead:
            role = AUTHORS if index == 0 else CITATION if index == len(lines) - 1 else AFFILIATION
            units.append((lead, trail, "metadata", role, [(lead, trail)]))
        position += len(line) + 1
    for block in blocks(text, metadata_end):
        language = detect_language(text[block.start : block.end])
        spans = (
            list(_bounded_sentence_spans(text, block.start, block.end, language, max_sentence_chars))
            if block.kind == "paragraph"
            else list(_pieces(text, block.start, block.end, max_sentence_chars, _SPACE))
        )
        section = block.section
        # A structured abstract's inline headings ("Background. Children with… Methods. We…") name
        # the section of the sentences after them; they are not sentences of their own.
        while len(spans) > 1 and is_heading_line(text[spans[0][0] : spans[0][1]]):
            section, spans = heading_title(text[spans[0][0] : spans[0][1]]), spans[1:]
        heading_at = next((k for k, (s, e) in enumerate(spans[:-1]) if k and is_heading_line(text[s:e])), None)
        if heading_at is not None:
            units.append((block.start, block.end, "body", section, spans[:heading_at]))
            section, spans = heading_title(text[spans[heading_at][0] : spans[heading_at][1]]), spans[heading_at + 1 :]
        units.append((block.start, block.end, "body", section, spans))
    paragraphs: list[list[Sentence]] = []
    ordinal = 0
    for _, _, kind, section, spans in units:
        paragraph: list[Sentence] = []
        for s, e in spans:
            sentence_text = text[s:e]
            paragraph.append(
                Sentence(
                    id=Sentence.make_id(document.id, ordinal, sentence_text, generation),
                    doc_id=document.id,
                    ordinal=ordinal,
                    text=sentence_text,
                    start=s,
                    end=e,
                    language=detect_language(sentence_text),
                    kind=kind,
                    section=section,
                )
            )
            ordinal += 1
        paragraphs.append(paragraph)
    return link_translations(paragraphs)


def _offset_after_lines(text: str, count: int) -> int:
    pos = 0
    for _ in range(count):
        nl = text.find("\n", pos)
        if nl < 0:
            return len(text)
        pos = nl + 1
    return pos
