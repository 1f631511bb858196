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
# alone leaves (1 - relevance). A share, not a fixed gain, because calibrated probabilities crowd
# near 1: "And which cells take part in it?" after "What is known about the pathogenesis?" went
# 0.90 -> 0.97 with the 2026-11-27 late model (a fixed gain of 0.1 was out of its reach), while an
# unanswerable question (0.04) needs a large gain to borrow anything. Design values, not fitted:
FOLLOW_UP_SHARE = 0.5
# ...and the gain must exceed the jitter of relevance between near-identical searches.
FOLLOW_UP_MARGIN = 0.02


def previous_question(history: Sequence[ChatTurn] | None) -> str | None:
    """The last non-empty user question of the conversation, if any.

    Only the user's question is folded in: answers are quotes, and folding them in would drag
    the search back to what was already cited.
    """
    return next((turn.content for turn in reversed(history or []) if turn.role == "user" and turn.content.strip()), None)


def fold_follow_up(
    question: str, previous: str | None, search: Search, share: float = FOLLOW_UP_SHARE, margin: float = FOLLOW_UP_MARGIN
) -> str:
    """The question to search with: `question` alone when it stands alone, else `previous` + `question`.

    Whether a question stands alone is measured, not guessed from its wording: it leans on the
    previous question only when the sources answer the two together clearly better than the
    question alone (the pair removes at least `share` of the doubt, by more than `margin`) — "And
    which cells take part in it?" after "What is known about the pathogenesis?". A question the
    sources answer by itself ("What did the authors recommend?" after a question about bread)
    stands alone.

    A question the sources do not answer alone is folded only when the pair leads with another
    sentence than the previous question does. Joined to an answerable question, an unanswerable
    one scores high on the other's evidence: "What does the report say about wind turbines?"
    after "Tell me about the costs." went 0.01 alone -> 0.79 together, and "Who funded this
    review?" after a question about therapy 0.03 -> 0.84, each answered with the previous answer's
    sentence (session 18; until 2026-11-27 the gate read the share of the question's terms the
    collection lacks, which kept such pairs low). The price: an elliptical question whose answer is
    the sentence already quoted ("How big is it?" after "What is the battery made of?") is not
    folded and abstains, where its answer is on screen already.
    """
    if previous is None or previous.strip() == question.strip():
        return question
    combined = f"{previous} {question}"
    alone, together = search(question), search(combined)
    gains = together.relevance - alone.relevance > margin and 1 - together.relevance <= (1 - share) * (1 - alone.relevance)
    if not gains:
        return question
    if alone.answered:
        return combined
    return combined if together.top != search(previous).top else question
