"""Folding the conversation history into a standalone question for follow-ups."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qa.types import ChatTurn

# How much more answerable (gate probability) the question must be with the previous one
# folded in before it is treated as a follow-up: a question that stands alone stays alone.
FOLLOW_UP_GAIN = 0.15


def standalone_question(question: str, history: Sequence[ChatTurn] | None, answerable: Callable[[str], float]) -> str:
    """The question to search with.

    A question is a follow-up when it cannot stand alone: "And for refractory patients?" is
    far more answerable after "What is the usual first-line treatment?" than by itself, while
    "What did the authors recommend?" after an unrelated question is not. `answerable` is the
    retrieval's calibrated probability that the collection answers a text. Only the previous
    user question is folded in: answers are quotes, and folding them in would drag the search
    back to what was already cited.
    """
    previous = next((turn.content for turn in reversed(history or []) if turn.role == "user" and turn.content.strip()), None)
    if previous is None:
        return question
    combined = f"{previous} {question}"
    return combined if answerable(combined) >= answerable(question) + FOLLOW_UP_GAIN else question
