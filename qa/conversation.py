"""Folding the conversation history into a standalone question for follow-ups."""

from __future__ import annotations

from collections.abc import Sequence

from qa.question import Question
from qa.types import ChatTurn


def standalone_question(question: str, history: Sequence[ChatTurn] | None) -> tuple[str, Question | None]:
    """The question to search with, and the follow-up's own part when it leans on the last turn.

    "And for refractory patients?" after "What is the usual first-line treatment?"
    is searched as both together; its own terms then weigh double when scoring.
    Only the previous user question is folded in: answers are quotes, and
    folding them in would drag the search back to what was already cited.
    """
    previous = next((turn.content for turn in reversed(history or []) if turn.role == "user" and turn.content.strip()), None)
    parsed = Question.parse(question)
    if previous is None or not parsed.is_follow_up():
        return question, None
    return f"{previous} {question}", parsed
