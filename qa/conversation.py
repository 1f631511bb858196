"""Deciding whether a question leans on the conversation, and folding the previous question in when it does."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qa.types import ChatTurn

Relevance = Callable[[str], float]
"""How well the sources answer a question text: the calibrated relevance (0..1) of its best evidence."""

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
    question: str, previous: str | None, relevance: Relevance, share: float = FOLLOW_UP_SHARE, margin: float = FOLLOW_UP_MARGIN
) -> str:
    """The question to search with: `question` alone when it stands alone, else `previous` + `question`.

    Whether a question stands alone is measured, not guessed from its wording: it leans on the
    previous question only when the sources answer the two together clearly better than the
    question alone (the pair removes at least `share` of the doubt, by more than `margin`) — "And
    which cells take part in it?" after "What is known about the pathogenesis?". A question the
    sources answer by itself ("What did the authors recommend?" after a question about bread)
    stands alone. `relevance` must fall when a question holds terms
    the sources lack, as citeqa's calibrated relevance does (unseen terms weigh most): then an
    unrelated question ("What is the capital of Australia?") scores no better joined to an
    answerable one, and is not given that question's evidence.
    """
    if previous is None or previous.strip() == question.strip():
        return question
    combined = f"{previous} {question}"
    alone, together = relevance(question), relevance(combined)
    return combined if together - alone > margin and 1 - together <= (1 - share) * (1 - alone) else question
