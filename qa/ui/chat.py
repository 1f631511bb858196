"""The chat's callbacks: ask (streamed), show a clicked citation, and the structured `ask` API."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from index.documents import Document, Language
from index.loaders import DocumentError
from index.splitting import detect_language
from qa.assistant import Assistant, QuestionError
from qa.types import ChatTurn
from qa.ui import render
from qa.ui.phrases import Phrases, phrases
from qa.ui.session import Selection, Turn, history

# The extractive answerer returns a whole answer at once; revealing it in a few quick
# steps shows the answer arriving without delaying it noticeably (~0.3 s in all).
_STREAM_STEPS = 12
_STREAM_PAUSE_S = 0.025
# Cut points for streaming: after a few characters, a space, or a whole run of markers,
# so no step ever shows half a marker.
_STREAM_PIECE = re.compile(rf"{render.MARKER_RUN.pattern}|\s+|[^\s\[]{{1,4}}|\[")

ChatUpdate = tuple[list[dict[str, str]], list[Turn], str, str, dict]


class Chat:
    """Callbacks bound to one shared `Assistant`; `lock` serialises it with the document library."""

    def __init__(self, assistant: Assistant, lock: threading.Lock) -> None:
        self.assistant = assistant
        self.lock = lock

    def phrases(self, language: Language) -> Phrases:
        return phrases(self.assistant.prompts, language)

    def _turn_phrases(self, turn: Turn) -> Phrases:
        return self.phrases(turn.answer.language if turn.answer else detect_language(turn.question))

    def _document(self, doc_id: str) -> Document | None:
        """The cited document, or None if it was removed since the answer was given."""
        try:
            return self.assistant.document(doc_id)
        except DocumentError:
            return None

    def _update(self, turns: list[Turn], panel: str, language: Language) -> ChatUpdate:
        found = self.phrases(language)
        messages = render.conversation(turns, self._turn_phrases)
        question_box = gr.update(value="", placeholder=found.ask_placeholder)
        return messages, turns, panel, render.disclaimer(found), question_box

    def respond(self, question: str, turns: list[Turn] | None) -> Iterator[ChatUpdate]:
        """Ask with the conversation so far as history; yields the chat as the answer streams in."""
        question = (question or "").strip()
        if not question:  # an empty submit is a slip of the Enter key, not a question
            return
        turns = list(turns or [])
        turn = Turn(question=question)
        turns.append(turn)
        index = len(turns) - 1
        language = detect_language(question)
        yield self._update(turns, render.empty_panel(self.phrases(language)), language)
        try:
            with self.lock:
                # A generative answerer yields its draft as the model writes it, then the verified answer.
                for item in self.assistant.ask_stream(question, history=history(turns[:-1])):
                    if isinstance(item, str):
                        turn.draft += item
                        yield self._update(turns, render.empty_panel(self.phrases(language)), language)
                    else:
                        turn.answer = item
        except QuestionError as error:
            turns.pop()
            yield self._update(turns, render.empty_panel(self.phrases(language)), language)
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
        return render.source_panel(selection.turn, turn, selection.marker, self._document, found), render.disclaimer(found)

    def clear(self) -> ChatUpdate:
        return self._update([], render.empty_panel(self.phrases("en")), "en")

    def ask_api(self, question: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """Answer `question` from the indexed documents; returns the answer with its citations.

        `history` is the conversation so far as [{"role": "user"|"assistant", "content": ...}].
        The result is `qa.types.Answer` as JSON: text, abstained, citations (marker, doc_id,
        text, start, end, score, language, quote, parallel_of), related, language, ...
        """
        try:
            turns = [ChatTurn.model_validate(turn) for turn in history or []]
        except ValueError as error:
            raise gr.Error(f"history must be a list of {{role, content}} messages ({error}).", print_exception=False) from None
        try:
            with self.lock:
                answer = self.assistant.ask(question, history=turns)
        except QuestionError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return answer.model_dump(mode="json")
