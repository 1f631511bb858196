"""The chat's callbacks: ask (streamed), show a clicked citation, clear, restore, and the structured `ask` API."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import gradio as gr

from index.corpus import BUNDLED_DOCUMENT_ID
from index.documents import Document, Language
from index.loaders import DocumentError
from index.splitting import detect_language
from prompts import prompts
from qa.types import Answer, QuestionError
from qa.ui import render
from qa.ui.export import transcript
from qa.ui.phrases import Phrases, phrases
from qa.ui.session import Selection, Turn, history, restored, saved
from qa.ui.warmup import Warmup

if TYPE_CHECKING:
    from qa.assistant import Assistant

# The extractive answerer returns a whole answer at once, so there is nothing to stream:
# this replays the finished answer in a few quick steps (~0.3 s in all) to show it arriving.
# Real token streaming belongs to a generative answerer, which produces text as it goes.
_STREAM_STEPS = 12
_STREAM_PAUSE_S = 0.025
# Cut points for the replay: after a few characters, a space, or a whole run of markers,
# so no step ever shows half a marker.
_STREAM_PIECE = re.compile(rf"{render.MARKER_RUN.pattern}|\s+|[^\s\[]{{1,4}}|\[")

# chatbot, turns, source panel, disclaimer, question box, Ask button, transcript (app.js), browser storage
ChatUpdate = tuple[list[dict[str, str]], list[Turn], str, str, dict, dict, str, list[dict]]
CHAT_OUTPUTS = 8


class Chat:
    """Callbacks bound to the app's one `Assistant` (opened by `warmup`), which answers many sessions at once (it is thread-safe)."""

    def __init__(self, warmup: Warmup) -> None:
        self.warmup = warmup

    @property
    def assistant(self) -> Assistant:
        return self.warmup.get()

    def phrases(self, language: Language) -> Phrases:
        return phrases(prompts(), language)

    def medical(self) -> bool:
        """Whether the notice says answers are not medical advice: `Settings.medical_notice`, or unset,
        whether the library holds the bundled review (False while the index is still loading)."""
        if not self.warmup.ready:
            return False
        setting = self.assistant.settings.medical_notice
        # A lookup by ID, not a scan of the library: this runs on every step of a streamed answer.
        return setting if setting is not None else self._document(BUNDLED_DOCUMENT_ID) is not None

    def disclaimer(self, found: Phrases) -> str:
        return render.disclaimer(found, self.medical())

    def _turn_phrases(self, turn: Turn) -> Phrases:
        return self.phrases(turn.answer.language if turn.answer else detect_language(turn.question))

    def _document(self, doc_id: str) -> Document | None:
        """The cited document, or None if it was removed since the answer was given (or the index is still loading)."""
        if not self.warmup.ready:
            return None
        try:
            return self.assistant.document(doc_id)
        except DocumentError:
            return None

    def _update(self, turns: list[Turn], panel: str, language: Language) -> ChatUpdate:
        """The chat's outputs. The question box keeps its text: the browser empties it as a question
        is sent (qa.ui.layout), and a reader types the next question while an answer streams in,
        which each update emptying the box erased (session 19, in headless Chromium)."""
        found = self.phrases(language)
        messages = render.conversation(turns, self._turn_phrases)
        question_box = gr.update(placeholder=found.ask_placeholder)
        return (
            messages,
            turns,
            panel,
            self.disclaimer(found),
            question_box,
            gr.update(value=found.ask_button),
            transcript(turns, self._document, self._turn_phrases),
            saved(turns),
        )

    def respond(self, question: str, turns: list[Turn] | None, doc_ids: list[str] | None = None) -> Iterator[ChatUpdate]:
        """Ask with the conversation so far as history; yields the chat as the answer streams in."""
        question = (question or "").strip()
        if not question:  # a slip of the Enter key: leave everything as it is, with a hint
            gr.Info(f"{self.phrases('en').empty_question} · {self.phrases('zh').empty_question}")
            yield tuple(gr.skip() for _ in range(CHAT_OUTPUTS))  # type: ignore[misc]
            return
        turns = list(turns or [])
        turn = Turn(question=question)
        turns.append(turn)
        index = len(turns) - 1
        language = detect_language(question)
        found = self.phrases(language)
        yield self._update(turns, render.empty_panel(found) if self.warmup.ready else render.loading_panel(found), language)
        assistant = self.assistant  # waits for the warm-up
        if not assistant.documents():
            turn.answer = Answer(question=question, text=found.no_documents, abstained=True, language=language, answerer="none")
            turn.shown = len(turn.answer.text)
            yield self._update(turns, render.empty_panel(found), language)
            return
        try:
            # A generative answerer yields its draft as the model writes it, then the verified answer.
            for item in assistant.ask_stream(question, history=history(turns[:-1]), doc_ids=doc_ids or None):
                if isinstance(item, str):
                    turn.draft += item
                    yield self._update(turns, render.empty_panel(found), language)
                else:
                    turn.answer = item
        except (QuestionError, DocumentError) as error:
            turns.pop()
            yield self._update(turns, render.empty_panel(found), language)
            raise gr.Error(str(error), print_exception=False) from None
        language = turn.answer.language
        panel = render.source_panel(index, turn, None, self._document, self.phrases(language))
        # The draft already streamed: the verified answer replaces it at once.
        for shown in [len(turn.answer.text)] if turn.draft else self._stream_points(turn.answer.text):
            turn.shown = shown
            yield self._update(turns, panel, language)
            time.sleep(_STREAM_PAUSE_S)

    @staticmethod
    def _stream_points(text: str) -> list[int]:
        """About `_STREAM_STEPS` cut points through `text`, each on a piece boundary, ending at its end."""
        ends = [match.end() for match in _STREAM_PIECE.finditer(text)] or [len(text)]
        stride = max(1, len(ends) // _STREAM_STEPS)
        points = ends[stride - 1 :: stride]
        return points if points[-1] == len(text) else [*points, len(text)]

    def select(self, token: str, turns: list[Turn] | None) -> tuple[str, str]:
        """The source panel for a clicked marker `turn:marker` (and the disclaimer in its language)."""
        selection = Selection.parse(token or "")
        turns = turns or []
        if selection is None or not 0 <= selection.turn < len(turns) or turns[selection.turn].answer is None:
            raise gr.Error("That citation is no longer in this conversation.", print_exception=False)
        turn = turns[selection.turn]
        found = self._turn_phrases(turn)
        return render.source_panel(selection.turn, turn, selection.marker, self._document, found), self.disclaimer(found)

    def clear(self) -> ChatUpdate:
        return self._update([], render.empty_panel(self.phrases("en")), "en")

    def restore(self, stored: object) -> ChatUpdate:
        """The conversation kept in the browser, shown again after a reload."""
        turns = restored(stored)
        if not turns:
            return self.clear()
        last = turns[-1]
        language = last.answer.language if last.answer else "en"
        panel = render.source_panel(len(turns) - 1, last, None, self._document, self.phrases(language))
        return self._update(turns, panel, language)

    def ask_api(
        self, question: str, history: list[dict[str, str]] | None = None, doc_ids: list[str] | None = None
    ) -> dict[str, Any]:
        """Answer `question` from the indexed documents; returns the answer with its citations.

        `history` is the conversation so far as [{"role": "user"|"assistant", "content": ...}];
        `doc_ids` limits the search to those documents (all when empty). The result is
        `qa.types.Answer` as JSON: text, abstained, citations (marker, doc_id, text, start, end,
        score, language, quote, parallel_of, page), related, language, ...
        """
        # The assistant checks both (types, Unicode, lengths, history shape) before any model call.
        assistant = self.assistant
        if not assistant.documents():
            raise gr.Error(self.phrases(detect_language(question or "")).no_documents, print_exception=False)
        try:
            answer = assistant.ask(question, history=history, doc_ids=doc_ids or None)
        except (QuestionError, DocumentError) as error:
            raise gr.Error(str(error), print_exception=False) from None
        return answer.model_dump(mode="json")
