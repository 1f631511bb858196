"""HTML for the chat messages, the source panel and the document list.

Every piece of document, answer or user text goes through `html.escape` here and
nowhere else builds markup from it: a document that contains HTML or script must
show as text. The output has no blank lines, so the chat's Markdown renderer takes
each message as one raw HTML block and leaves the quoted text untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import PurePath

from index.documents import Document
from qa.types import Answer, Citation, RelatedSentence
from qa.ui.phrases import Phrases
from qa.ui.session import Selection, Turn

# A run of markers such as "[1][2]" closing a quoted passage (end of line or text).
# Bracketed numbers inside a quote (a paper's own reference list) are not markers.
MARKER_RUN = re.compile(r"((?:\[\d+\])+)(?=[ \t]*(?:\n|$))")
_MARKER = re.compile(r"\[(\d+)\]")

DocumentLookup = Callable[[str], Document | None]


def _text(value: str) -> str:
    return escape(value, quote=True)


def _score(score: float, label: str) -> str:
    percent = max(0, min(100, round(score * 100)))
    return (
        f'<span class="cq-score" title="{_text(label)} {score:.3f}">'
        f'<span class="cq-score-bar"><span style="width:{percent}%"></span></span>'
        f"{_text(label)} {score:.2f}</span>"
    )


def _confidence(answer: Answer, phrases: Phrases) -> str:
    """The gate's probability that the documents answer: what a reader wants to know of the answer
    as a whole (a citation's score ranks sentences, and runs low across languages)."""
    if answer.confidence is None:
        return ""
    return f'<div class="cq-confidence">{_score(answer.confidence, phrases.confidence)}</div>'


def _language_tag(language: str) -> str:
    return f'<span class="cq-lang">{_text(language.upper())}</span>'


def marker_link(selection: Selection, parallel: bool) -> str:
    """A clickable [n]; qa/ui/static/app.js turns a click into a source-panel update.

    The token travels in the href: the chat's sanitiser drops data- attributes.
    """
    classes = "cq-marker cq-marker-parallel" if parallel else "cq-marker"
    return f'<a class="{classes}" href="#cq-{selection.token}">[{selection.marker}]</a>'


def _paragraphs(body: str) -> str:
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    return "".join(f"<p>{p.strip().replace(chr(10), '<br>')}</p>" for p in paragraphs)


# --- chat ---------------------------------------------------------------------------------


def user_message(question: str) -> str:
    return f'<div class="cq-question">{_paragraphs(_text(question))}</div>'


def answer_message(turn_index: int, turn: Turn, phrases: Phrases) -> str:
    """The answer as streamed so far, its markers linked to their citations."""
    answer = turn.answer
    if answer is None and turn.draft:
        # Unverified text: plain, no markers, until verification replaces it.
        return f'<div class="cq-answer cq-draft cq-streaming">{_paragraphs(_text(turn.draft))}</div>'
    if answer is None:
        return f'<div class="cq-answer cq-pending">{_text(phrases.searching)}</div>'
    if answer.abstained:
        return _abstention_message(turn_index, answer, phrases)
    text = turn.visible_text
    parallel = {c.marker for c in answer.citations if c.parallel_of is not None}
    known = {c.marker for c in answer.citations}
    parts: list[str] = []
    position = 0
    for run in MARKER_RUN.finditer(text):
        parts.append(_text(text[position : run.start()]))
        for number in (int(n) for n in _MARKER.findall(run.group(1))):
            selection = Selection(turn_index, number)
            parts.append(marker_link(selection, number in parallel) if number in known else _text(f"[{number}]"))
        position = run.end()
    parts.append(_text(text[position:]))
    # Tests and the typing caret (app.css) tell a finished answer by the missing cq-streaming.
    finished = len(text) == len(answer.text)
    classes = "cq-answer" if finished else "cq-answer cq-streaming"
    # Says when verification removed sentences of a written answer, or replaced it by quotes.
    notice = f'<p class="cq-notice">{_text(answer.notice)}</p>' if answer.notice and finished else ""
    copy = _copy_link(turn_index, phrases) if finished else ""
    searched = _searched(answer, phrases) if finished else ""
    return f'<div class="{classes}">{_paragraphs("".join(parts))}{notice}{searched}{copy}</div>'


def _searched(answer: Answer, phrases: Phrases) -> str:
    """`Answer.searched_otherwise`, when there is one: the reader sees why the evidence fits, or
    that a correction went wrong."""
    searched = answer.searched_otherwise
    return f'<p class="cq-searched">{_text(phrases.searched_for.format(question=searched))}</p>' if searched else ""


def _copy_link(turn_index: int, phrases: Phrases) -> str:
    """app.js copies this turn's Markdown (answer, markers, cited sentences and their sources)."""
    return f'<p class="cq-tools"><a class="cq-copy" href="#cq-copy-{turn_index}">{_text(phrases.copy)}</a></p>'


def _abstention_message(turn_index: int, answer: Answer, phrases: Phrases) -> str:
    related = "".join(
        f'<li><span class="cq-related-text">{_text(r.text)}</span>{_score(r.score, phrases.score)}</li>' for r in answer.related
    )
    listing = (
        f'<div class="cq-related"><div class="cq-related-head">{_text(phrases.related_heading)}'
        f'<span class="cq-badge">{_text(phrases.not_evidence)}</span></div><ul>{related}</ul></div>'
        if related
        else ""
    )
    return (
        f'<div class="cq-answer cq-abstained"><p class="cq-abstain">{_text(answer.text)}</p>{_searched(answer, phrases)}{listing}'
        f"{_copy_link(turn_index, phrases)}</div>"
    )


def conversation(turns: Sequence[Turn], phrases_for: Callable[[Turn], Phrases]) -> list[dict[str, str]]:
    """The chat as Gradio `messages`, rebuilt from the session's turns."""
    messages: list[dict[str, str]] = []
    for index, turn in enumerate(turns):
        messages.append({"role": "user", "content": user_message(turn.question)})
        messages.append({"role": "assistant", "content": answer_message(index, turn, phrases_for(turn))})
    return messages


# --- source panel -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Highlight:
    start: int
    end: int
    kind: str  # "cited" | "parallel" | "related"
    label: str
    selection: Selection | None
    selected: bool


def disclaimer(phrases: Phrases, medical: bool) -> str:
    """The notice under the answers; `medical` adds that they are not medical advice."""
    return f'<div class="cq-disclaimer" role="note">ⓘ {_text(phrases.disclaimer_medical if medical else phrases.disclaimer)}</div>'


def empty_panel(phrases: Phrases) -> str:
    return f'<div class="cq-source cq-empty"><p>{_text(phrases.empty_panel)}</p></div>'


def loading_panel(phrases: Phrases) -> str:
    return f'<div class="cq-source cq-empty cq-loading" role="status"><p>{_text(phrases.loading)}</p></div>'


def plural(count: int, noun: str) -> str:
    """"1 sentence", "2 sentences"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _metadata(document: Document, phrases: Phrases) -> str:
    lines = [f'<div class="cq-kicker">{_text(phrases.source)}</div>', f'<h3 class="cq-title">{_text(document.title or document.id)}</h3>']
    if document.authors:
        lines.append(f'<div class="cq-authors">{_text(", ".join(document.authors))}</div>')
    if document.affiliation:
        lines.append(f'<div class="cq-affiliation">{_text(document.affiliation)}</div>')
    facts = [_text(part) for part in (document.journal, str(document.year) if document.year else None) if part]
    if document.doi_url and document.doi:
        facts.append(
            f'<a class="cq-doi" href="{_text(document.doi_url)}" target="_blank" rel="noopener noreferrer">'
            f"doi:{_text(document.doi)}</a>"
        )
    if document.source and document.source != "bundled":
        facts.append(f"{_text(phrases.source_file)}: {_text(PurePath(document.source).name)}")
    if facts:
        lines.append(f'<div class="cq-facts">{" · ".join(facts)}</div>')
    return f'<header class="cq-doc-head">{"".join(lines)}</header>'


def _page(citation: Citation, phrases: Phrases) -> str:
    return f'<span class="cq-page">{_text(phrases.page.format(page=citation.page))}</span>' if citation.page else ""


def _citation_item(turn_index: int, citation: Citation, selected: bool, phrases: Phrases) -> str:
    selection = Selection(turn_index, citation.marker)
    note = (
        f'<span class="cq-note">{_text(phrases.translation_of.format(marker=citation.parallel_of))}</span>'
        if citation.parallel_of is not None
        else ""
    )
    classes = "cq-cite-item cq-selected-item" if selected else "cq-cite-item"
    kind = "cq-parallel" if citation.parallel_of is not None else "cq-cited"
    return (
        f'<li class="{classes} {kind}" data-cq-select="{selection.token}">'
        f'<div class="cq-cite-top">{marker_link(selection, citation.parallel_of is not None)}'
        f"{_language_tag(citation.language)}{_page(citation, phrases)}{note}{_score(citation.score, phrases.score)}</div>"
        f'<div class="cq-cite-text">{_text(citation.text)}</div></li>'
    )


def _document_text(document: Document, highlights: Sequence[_Highlight]) -> str:
    """The whole document as escaped text, with the highlighted sentences wrapped in <mark>."""
    text = document.text
    parts: list[str] = []
    position = 0
    for light in sorted(highlights, key=lambda h: (h.start, not h.selected)):
        if light.start < position:  # the same sentence cited twice: mark it once
            continue
        parts.append(_text(text[position : light.start]))
        attributes = f' data-cq-select="{light.selection.token}"' if light.selection else ""
        classes = f"cq-{light.kind} cq-selected" if light.selected else f"cq-{light.kind}"
        tag = f'<sup class="cq-tag">{_text(light.label)}</sup>' if light.label else ""
        parts.append(f'<mark class="{classes}"{attributes}>{tag}{_text(text[light.start : light.end])}</mark>')
        position = light.end
    parts.append(_text(text[position:]))
    return f'<div class="cq-doc-text">{"".join(parts)}</div>'


def _legend(kinds: Sequence[str], phrases: Phrases) -> str:
    names = {"cited": phrases.legend_cited, "parallel": phrases.legend_parallel, "related": phrases.legend_related}
    items = "".join(f'<span class="cq-legend-item"><mark class="cq-{k}">&nbsp;</mark>{_text(names[k])}</span>' for k in kinds)
    return f'<div class="cq-legend">{items}</div>'


def _document_section(document: Document | None, highlights: Sequence[_Highlight], phrases: Phrases) -> str:
    if document is None:
        return ""
    kinds = [k for k in ("cited", "parallel", "related") if any(h.kind == k for h in highlights)]
    return (
        f'<section class="cq-doc"><div class="cq-section-head"><h4>{_text(phrases.full_text)}</h4>'
        f"{_legend(kinds, phrases)}</div>{_document_text(document, highlights)}</section>"
    )


def source_panel(
    turn_index: int, turn: Turn, selected_marker: int | None, document_of: DocumentLookup, phrases: Phrases
) -> str:
    """The source panel for one answer: its document, cited sentences and scores (or, for an
    abstention, the related sentences marked as not evidence). `selected_marker` picks the
    citation to show and scroll to; by default the first."""
    answer = turn.answer
    if answer is None:
        return empty_panel(phrases)
    question = f'<div class="cq-for">{_text(answer.question)}</div>'
    if answer.abstained:
        return _related_panel(answer, document_of, phrases, question)
    if not answer.citations:
        return empty_panel(phrases)
    selected = next((c for c in answer.citations if c.marker == selected_marker), answer.citations[0])
    items = "".join(_citation_item(turn_index, c, c is selected, phrases) for c in answer.citations)
    highlights = [
        _Highlight(
            c.start,
            c.end,
            "parallel" if c.parallel_of is not None else "cited",
            str(c.marker),
            Selection(turn_index, c.marker),
            c is selected,
        )
        for c in answer.citations
        if c.doc_id == selected.doc_id
    ]
    document = document_of(selected.doc_id)
    return (
        f'<div class="cq-source">{question}{_metadata(document, phrases) if document else ""}'
        f'<section class="cq-cites"><h4>{_text(phrases.cited_heading)}</h4>{_confidence(answer, phrases)}<ol>{items}</ol></section>'
        f"{_document_section(document, highlights, phrases)}</div>"
    )


def _related_panel(answer: Answer, document_of: DocumentLookup, phrases: Phrases, question: str) -> str:
    related: list[RelatedSentence] = answer.related
    items = "".join(
        f'<li class="cq-cite-item cq-related-item"><div class="cq-cite-top">{_language_tag(r.language)}'
        f'<span class="cq-badge">{_text(phrases.not_evidence)}</span>{_score(r.score, phrases.score)}</div>'
        f'<div class="cq-cite-text">{_text(r.text)}</div></li>'
        for r in related
    )
    head = f'<div class="cq-abstain-box"><p class="cq-abstain">{_text(answer.text)}</p></div>'
    if not related:
        return f'<div class="cq-source">{question}{head}</div>'
    document = document_of(related[0].doc_id)
    highlights = [
        _Highlight(r.start, r.end, "related", "", None, False) for r in related if r.doc_id == related[0].doc_id
    ]
    return (
        f'<div class="cq-source">{question}{head}{_metadata(document, phrases) if document else ""}'
        f'<section class="cq-cites cq-not-evidence"><h4>{_text(phrases.related_heading)}</h4><ul>{items}</ul></section>'
        f"{_document_section(document, highlights, phrases)}</div>"
    )


# --- documents ----------------------------------------------------------------------------


def document_list(documents: Sequence[Document]) -> str:
    if not documents:
        return '<div class="cq-doclist cq-empty">No documents are indexed. Upload one above.</div>'
    rows = "".join(
        f"<tr><td><code>{_text(d.id)}</code></td><td>{_text(d.title or '')}</td>"
        f"<td>{_text(', '.join(d.authors))}</td><td>{_text(str(d.year) if d.year else '')}</td>"
        f"<td>{_text('bundled' if d.source == 'bundled' else PurePath(d.source).name)}</td></tr>"
        for d in documents
    )
    return (
        '<div class="cq-doclist"><table><thead><tr><th>ID</th><th>Title</th><th>Authors</th><th>Year</th>'
        f"<th>Source</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )
