"""Deciding whether a question leans on the conversation, and folding the previous question in when it does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.types import ChatTurn


@dataclass(frozen=True)
class Found:
    """What one search of a question text found, as far as follow-up detection needs it."""

    relevance: float
    """The calibrated probability that the sources answer it (the gate's)."""
    answered: bool
    """Whether the gate answers it (relevance at or above its threshold)."""
    top: str | None
    """The ID of the sentence it leads with, if any."""


Search = Callable[[str], Found]

# How much better the sources must answer the question once the previous one is folded in before
# it counts as a follow-up: the pair must remove at least this share of the doubt the question
# alone leaves (1 - relevance). A share, not a fixed gain: an unanswerable question (0.04) needs a
# large gain to borrow anything, one the gate nearly answers (0.45) a small one. A design value, not fitted.
FOLLOW_UP_SHARE = 0.5


def previous_question(history: Sequence[ChatTurn] | None) -> str | None:
    """The last non-empty user question of the conversation, if any.

    Only the user's question is folded in: answers are quotes, and folding them in would drag
    the search back to what was already cited.
    """
    return next((turn.content for turn in reversed(history or []) if turn.role == "user" and turn.content.strip()), None)


def fold_follow_up(
    question: str, previous: str | None, search: Search, share: float = FOLLOW_UP_SHARE
) -> str:
    """The question to search with: `question` alone when it stands alone, else `previous` + `question`.

    Whether a question stands alone is measured, not guessed from its wording. A question the
    sources answer by itself stands alone: folding such questions into the previous one was
    measured worse (XQuAD's test questions each asked after another question of their article:
    the first citation held the answer for 0.750 / 0.696 of them, en / zh, and for 0.814 / 0.745
    when they stood alone; on jdm "How is it usually treated at first?" was answered with the
    opening sentence). A question the sources do not answer alone leans on the previous one when
    the two together are answered clearly better (the pair removes at least `share` of the doubt)
    and the pair leads with another sentence than the previous question
    does: joined to an answerable question, an unanswerable one scores high on the other's
    evidence ("What does the report say about wind turbines?" after "Tell me about the costs."
    went 0.01 alone -> 0.79 together, answered with the costs sentence; on XQuAD 33 of 36 English
    unanswerable questions were answered so, 11 now; until 2026-11-27 the gate read the share of
    the question's terms the collection lacks, which kept such pairs low). The price: an
    elliptical question whose answer is the sentence already quoted ("How big is it?" after
    "What is the battery made of?") abstains, where its answer is on screen already (session 18).
    """
    if previous is None or previous.strip() == question.strip():
        return question
    alone = search(question)
    if alone.answered:
        return question
    combined = f"{previous} {question}"
    together = search(combined)
    gains = 1 - together.relevance <= (1 - share) * (1 - alone.relevance)
    return combined if gains and together.top != search(previous).top else question
