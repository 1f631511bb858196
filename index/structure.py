"""Document structure before sentence splitting: headings, paragraphs, list items, table rows.

Headings ("## Baking", a short stand-alone "Background." line) are not citable answers: they
become the `section` of the units below them. Each Markdown list item and table row is one
citable unit (a table row is embedded with its header cells, so "cost in 2021" finds the row).
Wrapped lines are joined into their paragraph; a PDF page's text is re-flowed first
(`reflow`), re-joining hyphenated words, so "…farmers in West" / "Africa, but…" is one sentence.
All spans are exact offsets into the text that is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["paragraph", "item", "row"]

_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<title>\S.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+•‣◦]|\d{1,3}[.)]|[a-z][.)])\s+\S")
_ROW = re.compile(r"^\s*\|.*\|\s*$")
_RULE_ROW = re.compile(r"^\s*\|?(?:\s*:?-{2,}:?\s*\|)+\s*:?-*:?\s*\|?\s*$")
_TERMINAL = (".", "!", "?", "。", "！", "？", ";", "；", '"', "”", ")", "）", "]")
_SENTENCE_END = (".", "!", "?", "。", "！", "？")
# A stand-alone line this short is a heading ("Methods", "Results:", "2. Study area").
_HEADING_WORDS = 6
_HEADING_CHARS = 60


@dataclass(frozen=True)
class Block:
    start: int
    end: int
    kind: BlockKind
    section: str
    """The heading above the block; for a table row also its column names."""


def is_heading_line(line: str) -> bool:
    """A short stand-alone line that names what follows rather than saying something."""
    stripped = line.strip()
    if _MD_HEADING.match(line):
        return True
    if not stripped or len(stripped) > _HEADING_CHARS or _ROW.match(line) or _ITEM.match(line):
        return False
    words = stripped.split()
    if "," in stripped or "，" in stripped or stripped.endswith("-") or len(words) > _HEADING_WORDS or not (stripped[0].isupper() or stripped[0].isdigit() or not stripped[0].isascii()):
        return False
    if stripped.endswith(":") or stripped.endswith("："):
        return True
    # "Background." is a heading; "It works." is a sentence: a heading has no verb-like second word,
    # so only one- or two-word lines ending in a full stop count.
    if stripped.endswith("."):
        return len(words) <= 2 and not stripped.endswith("..")
    return not stripped.endswith(_TERMINAL) and not stripped.endswith(",")


# A line that opens with a structured abstract's inline heading: "Background. Children…",
# "Study design. We…". At least four letters, so "Dr. Smith…" or "Fig. 2…" wrapped onto a new
# line is still joined.
_INLINE_HEADING = re.compile(r"^(?P<heading>[^\W\d_]{4,}(?: [^\W\d_]+)?\.)\s+[A-Z0-9]")


def opens_with_heading(line: str) -> bool:
    match = _INLINE_HEADING.match(line.strip())
    return bool(match) and is_heading_line(match.group("heading"))


def heading_title(line: str) -> str:
    match = _MD_HEADING.match(line)
    title = match.group("title") if match else line.strip()
    return title.rstrip(" .:：")


def reflow(page: str) -> str:
    """A PDF page's extracted text with wrapped lines joined and hyphenated words re-joined.

    A line break is kept where a paragraph, heading, list item or table row ends or starts.
    """
    lines = page.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        current = line.rstrip()
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if not nxt or not current.strip():
            out.append(current + ("\n" if i + 1 < len(lines) else ""))
            continue
        structural = (
            is_heading_line(current) or is_heading_line(nxt) or opens_with_heading(nxt) or _ITEM.match(nxt) or _ROW.match(nxt) or _ROW.match(current)
        )
        if structural or current.endswith(_SENTENCE_END):
            out.append(current + "\n")
        elif len(current) > 1 and current.endswith("-") and current[-2].isalpha() and nxt[:1].islower():
            out.append(current[:-1])
        else:
            out.append(current + " ")
    return "".join(out).strip()


def blocks(text: str, start: int = 0) -> Iterator[Block]:
    """Blocks of `text` from offset `start` on, in order, each with its section.

    A line is its own paragraph unless it is wrapped: one that does not end a sentence
    continues into the next plain line (and an indented line continues a list item).
    """
    section = ""
    header: list[str] | None = None
    open_block: list = []  # [start, end, kind] of the paragraph or item being built
    lines: list[tuple[int, int]] = []
    position = start
    for line in text[start:].split("\n"):
        lines.append((position, position + len(line)))
        position += len(line) + 1

    def close() -> Iterator[Block]:
        if open_block:
            yield Block(open_block[0], open_block[1], open_block[2], section)
            open_block.clear()

    for i, (line_start, line_end) in enumerate(lines):
        line = text[line_start:line_end]
        stripped = line.strip()
        lead = line_start + len(line) - len(line.lstrip())
        trail = line_end - (len(line) - len(line.rstrip()))
        next_line = text[lines[i + 1][0] : lines[i + 1][1]] if i + 1 < len(lines) else ""
        if not _ROW.match(line):
            header = None
        if not stripped:
            yield from close()
        elif _MD_HEADING.match(line) or (not open_block and next_line.strip() and is_heading_line(line)):
            yield from close()
            section = heading_title(line)
        elif _ROW.match(line):
            yield from close()
            if _RULE_ROW.match(line):
                continue
            if header is None:
                # The first row names the columns: context for the rows below, not a unit itself.
                header = _cells(line)
                continue
            names = " | ".join(h for h in header if h)
            yield Block(lead, trail, "row", f"{section} ({names})" if section else names)
        elif _ITEM.match(line):
            yield from close()
            open_block[:] = [line_start + _ITEM.match(line).end() - 1, trail, "item"]  # type: ignore[union-attr]  # without its bullet
        elif open_block and (open_block[2] == "paragraph" or line[:1].isspace()):
            open_block[1] = trail
        else:
            yield from close()
            open_block[:] = [lead, trail, "paragraph"]
        if open_block and (stripped.endswith(_TERMINAL) or not next_line.strip() or opens_with_heading(next_line)):
            # A line that ends a sentence ends its paragraph: one line, one paragraph, as typed;
            # so does a line (a title) followed by an inline heading's line.
            yield from close()
    yield from close()


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]
