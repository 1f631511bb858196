"""What the browser copies, exports and previews: answers as Markdown with their cited sentences.

`transcript()` is the JSON the page keeps in a hidden field; qa/ui/static/app.js reads it to
copy one answer, download the whole conversation as a .md file, and preview a marker's
sentence in place. Built here, from the same turns as the chat, so they never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from index.documents import Document
from qa.types import Citation
from qa.ui.phrases import Phrases
from qa.ui.render import DocumentLookup
from qa.ui.session import Turn


def _source(citation: Citation, document: Document | None, phrases: Phrases) -> str:
    """"Title, p. 3, doi:10.… (https://doi.org/10.…)" for a cited sentence."""
    parts = [document.title or document.id] if document else [citation.doc_id]
    if citation.page is not None:
        parts.append(phrases.page.format(page=citation.page))
    if document is not None and document.doi:
        parts.append(f"doi:{document.doi} ({document.doi_url})")
    return ", ".join(parts)


def turn_markdown(turn: Turn, document_of: DocumentLookup, phrases: Phrases) -> str:
    """One question and its answer, markers kept, each cited sentence listed with its source."""
    lines = [f"**{turn.question}**", ""]
    answer = turn.answer
    if answer is None:
        return "\n".join(lines).rstrip()
    lines.append(answer.text.strip())
    if answer.citations:
        lines.append("")
        for citation in answer.citations:
            lines.append(f"[{citation.marker}] “{citation.text}” — {_source(citation, document_of(citation.doc_id), phrases)}")
    if answer.abstained and answer.related:
        lines += ["", f"{phrases.related_heading} ({phrases.not_evidence}):"]
        lines += [f"- “{related.text}”" for related in answer.related]
    return "\n".join(lines)


def conversation_markdown(turns: Sequence[Turn], document_of: DocumentLookup, phrases_for: Callable[[Turn], Phrases]) -> str:
    body = "\n\n---\n\n".join(turn_markdown(turn, document_of, phrases_for(turn)) for turn in turns if turn.answer)
    return f"# citeqa conversation\n\n{body}\n" if body else ""


def transcript(turns: Sequence[Turn], document_of: DocumentLookup, phrases_for: Callable[[Turn], Phrases]) -> str:
    """JSON for app.js: the whole conversation as Markdown, and per turn its Markdown and marker previews."""
    items = []
    for turn in turns:
        phrases = phrases_for(turn)
        previews = {
            str(c.marker): {"text": c.text, "source": _source(c, document_of(c.doc_id), phrases)}
            for c in (turn.answer.citations if turn.answer else [])
        }
        items.append({"markdown": turn_markdown(turn, document_of, phrases), "citations": previews})
    return json.dumps(
        {"markdown": conversation_markdown(turns, document_of, phrases_for), "turns": items}, ensure_ascii=False
    )
