"""The document library's callbacks: upload files into the index, list and remove documents.

Every change of the documents also refreshes what depends on them: the example questions
and the choice of documents to search.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

import gradio as gr

from index.documents import Document
from index.loaders import DocumentError, load_path
from qa.ui import render
from qa.ui.examples import example_questions
from qa.ui.warmup import Warmup

# status, document table, remove picker, search scope, example questions
Listing = tuple[str, dict, dict, dict]
LibraryUpdate = tuple[str, str, dict, dict, dict, None]
LOADING = '<div class="cq-doclist cq-empty cq-loading" role="status">Loading the index… · 正在加载索引…</div>'


def _status(kind: str, lines: Sequence[str]) -> str:
    items = "".join(f"<div>{escape(line)}</div>" for line in lines)
    return f'<div class="cq-status cq-status-{kind}" role="status">{items}</div>'


class Library:
    """Callbacks bound to the app's one `Assistant` (opened by `warmup`); its writes take the index's
    writer lock, and questions keep being answered meanwhile."""

    def __init__(self, warmup: Warmup) -> None:
        self.warmup = warmup

    def listing(self) -> Listing:
        """The document table, the remove picker's and the search scope's choices, and example questions."""
        if not self.warmup.ready:
            return LOADING, gr.update(), gr.update(), gr.update()
        assistant = self.warmup.get()
        documents = assistant.documents()
        choices = [d.id for d in documents]
        examples = example_questions(documents, assistant.catalog.of_document)
        return (
            render.document_list(documents),
            gr.update(choices=choices, value=[]),
            gr.update(choices=[(d.title or d.id, d.id) for d in documents], value=[]),
            gr.Dataset(samples=[[question] for question in examples]),
        )

    def _update(self, status: str) -> LibraryUpdate:
        # The trailing None clears the upload box so the same file can be uploaded again.
        return (status, *self.listing(), None)

    def upload(self, paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> LibraryUpdate:
        """Index the uploaded files; a file that cannot be read is rejected with the reason, the rest go in."""
        if not paths:
            return self._update("")
        loaded: list[Document] = []
        rejected: list[str] = []
        for number, path in enumerate(paths):
            progress((number, len(paths)), desc=f"Reading {Path(path).name}")
            try:
                loaded.extend(load_path(path, self.warmup.get().settings.max_file_bytes))
            except DocumentError as error:
                # The message names the upload's temporary path; the user knows the file by its name.
                rejected.append(f"Rejected: {str(error).replace(str(path), Path(path).name)}")
        report_lines: list[str] = []
        for number, document in enumerate(loaded):
            progress((number, len(loaded)), desc=f"Indexing {document.id}")
            try:
                report = self.warmup.get().add_documents([document], show_progress=False)
            except DocumentError as error:
                rejected.append(f"Rejected: {error}")
                continue
            verb = "added" if report.added else "replaced" if report.replaced else "already indexed, unchanged"
            report_lines.append(f"{document.id}: {verb} ({render.plural(report.sentences_written, 'sentence')} indexed).")
        kind = "error" if rejected and not report_lines else "warning" if rejected else "ok"
        return self._update(_status(kind, [*rejected, *report_lines]))

    def remove(self, doc_ids: list[str] | None) -> LibraryUpdate:
        if not doc_ids:
            return self._update(_status("warning", ["Choose the documents to remove first."]))
        try:
            removed = self.warmup.get().remove_documents(doc_ids)
        except DocumentError as error:
            return self._update(_status("error", [str(error)]))
        return self._update(_status("ok", [f"{doc_id}: removed from the index." for doc_id in removed]))
