"""Checks of a question and its conversation history, done before any model or index call.

A bad input gets a `QuestionError` naming what is wrong at once: no embedding is
attempted (the embedder would retry, then fail obscurely, on a lone surrogate).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from qa.types import ChatTurn, QuestionError


def _valid_unicode(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise QuestionError(
            f"{what} contains an invalid character (U+{ord(text[error.start]):04X} at position {error.start}, "
            "half of a UTF-16 surrogate pair); send valid Unicode text."
        ) from None


def check_question(question: object, max_chars: int) -> str:
    """The question, stripped; or `QuestionError` saying what is wrong with it."""
    if not isinstance(question, str):
        raise QuestionError(f"The question must be text, not {type(question).__name__}.")
    if not question.strip():
        raise QuestionError("The question is empty; ask something about the documents.")
    if len(question) > max_chars:
        raise QuestionError(f"The question is {len(question)} characters long; the limit is {max_chars}.")
    _valid_unicode(question, "The question")
    return question.strip()


def check_history(history: object, max_turns: int, max_chars: int) -> list[ChatTurn]:
    """The conversation as `ChatTurn`s; or `QuestionError` naming the first bad message."""
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise QuestionError('The history must be a list of {"role": "user"|"assistant", "content": text} messages.')
    if len(history) > max_turns:
        raise QuestionError(f"The history has {len(history)} messages; the limit is {max_turns}.")
    turns: list[ChatTurn] = []
    for number, turn in enumerate(history):
        try:
            checked = turn if isinstance(turn, ChatTurn) else ChatTurn.model_validate(turn, strict=True)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "message"
            raise QuestionError(
                f'History message {number}: {where}: {problem["msg"]} (expected {{"role": "user"|"assistant", "content": text}}).'
            ) from None
        if len(checked.content) > max_chars:
            raise QuestionError(f"History message {number} is {len(checked.content)} characters long; the limit is {max_chars}.")
        _valid_unicode(checked.content, f"History message {number}")
        turns.append(checked)
    return turns
