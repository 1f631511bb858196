"""Deciding whether a question leans on the conversation, and folding the previous question in when it does."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qa.types import ChatTurn

Relevance = Callable[[str], float]
"""How well the sources answer a question text: the calibrated relevance (0..1) of its best evidence."""

# How much better (in calibrated relevance, 0..1) the sources must answer the question once the
# previous one is folded in before it counts as a follow-up. A design margin, not a fitted value:
# it only has to exceed the jitter of relevance between near-identical searches (a few hundredths).
FOLLOW_UP_MARGIN = 0.1


def previous_question(history: Sequence[ChatTurn] | None) -> str | None:
    """The last non-empty user question of the conversation, if any.

    Only the user's question is folded in: answers are quotes, and folding them in would drag
    the search back to what was already cited.
    """
    return next((turn.content for turn in reversed(history or []) if turn.role == "user" and turn.content.strip()), None)


def fold_follow_up(question: str, previous: str | None, relevance: Relevance, margin: float = FOLLOW_UP_MARGIN) -> str:
    """The question to search with: `question` alone when it stands alone, else `previous` + `question`.

    Whether a question stands alone is measured, not guessed from its wording: it leans on the
    previous question only when the sources answer the two together clearly better (by more than
    `margin`) than the question alone — "And which cells take part in it?" after "What is known
    about the pathogenesis?". A question the sources answer by itself ("What did the authors recommend?"
    after a question about bread) stands alone. `relevance` must fall when a question holds terms
    the sources lack, as citeqa's calibrated relevance does (unseen terms weigh most): then an
    unrelated question ("What is the capital of Australia?") scores no better joined to an
    answerable one, and is not given that question's evidence.
    """
    if previous is None or previous.strip() == question.strip():
        return question
    combined = f"{previous} {question}"
    return combined if relevance(combined) >= relevance(question) + margin else question
