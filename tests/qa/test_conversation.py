"""Follow-up detection: a question leans on the previous one only when the sources say so."""

from __future__ import annotations

import pytest

from qa.conversation import FOLLOW_UP_SHARE, Found, fold_follow_up, previous_question
from qa.types import ChatTurn


THRESHOLD = 0.5  # the fake gate answers at or above this


def scorer(table: dict[str, float], tops: dict[str, str] | None = None):
    """A fake search: fixed relevance (and, where given, the leading sentence) per question text,
    and a record of what was searched."""
    asked: list[str] = []

    def search(text: str) -> Found:
        asked.append(text)
        return Found(table[text], table[text] >= THRESHOLD, (tops or {}).get(text, text))

    search.asked = asked  # type: ignore[attr-defined]
    return search


FIRST = "What is the usual first-line treatment?"
REFRACTORY = "And for refractory patients?"
BREAD = "How long should the bread bake at 220 degrees?"
AUTHORS = "What did the authors recommend?"
CAPITAL = "What is the capital of Australia?"


def test_an_elliptical_question_borrows_the_previous_one() -> None:
    relevance = scorer({REFRACTORY: 0.3, f"{FIRST} {REFRACTORY}": 0.9, FIRST: 0.85})
    assert fold_follow_up(REFRACTORY, FIRST, relevance) == f"{FIRST} {REFRACTORY}"


def test_a_question_answered_alone_stands_alone() -> None:
    # Measured on the bundled corpus (session 18): 0.904 alone, 0.975 together, 0.987 for the first
    # question; folding such questions was measured worse on XQuAD (qa/conversation.py).
    pathogenesis, cells = "What is known about the pathogenesis?", "And which cells take part in it?"
    relevance = scorer({cells: 0.904, f"{pathogenesis} {cells}": 0.975, pathogenesis: 0.987})
    assert fold_follow_up(cells, pathogenesis, relevance) == cells
    assert relevance.asked == [cells]  # type: ignore[attr-defined]  # nothing else is searched


def test_an_unanswered_question_is_not_given_the_previous_answer() -> None:
    # Measured on a report written for the check (session 18): 0.012 alone, 0.788 together, and the
    # pair led with the previous question's sentence about costs.
    costs, turbines = "Tell me about the costs.", "What does the report say about wind turbines?"
    relevance = scorer({turbines: 0.012, f"{costs} {turbines}": 0.788, costs: 0.902}, {f"{costs} {turbines}": "cost-sentence", costs: "cost-sentence"})
    assert fold_follow_up(turbines, costs, relevance) == turbines


def test_an_answerable_question_after_an_unrelated_one_stands_alone() -> None:
    # The case: after the bread question, "What did the authors recommend?" is answered alone.
    relevance = scorer({AUTHORS: 0.8, f"{BREAD} {AUTHORS}": 0.2, BREAD: 0.05})
    assert fold_follow_up(AUTHORS, BREAD, relevance) == AUTHORS


def test_an_unanswerable_question_after_an_answerable_one_does_not_borrow_its_evidence() -> None:
    # The capital's unseen terms pull the pair's relevance down with them (measured: 0.0 / 0.008 / 0.971).
    relevance = scorer({CAPITAL: 0.0, f"{FIRST} {CAPITAL}": 0.008, FIRST: 0.971})
    assert fold_follow_up(CAPITAL, FIRST, relevance) == CAPITAL


@pytest.mark.parametrize(
    ("first", "second", "scores"),
    [
        # two answerable, unrelated questions
        (FIRST, "What is known about the pathogenesis?", (0.9, 0.85, 0.8)),
        # two unanswerable, unrelated questions
        (BREAD, CAPITAL, (0.05, 0.04, 0.06)),
        # an answerable question after an unanswerable one
        (CAPITAL, FIRST, (0.05, 0.9, 0.5)),
    ],
)
def test_unrelated_pairs_are_not_joined(first: str, second: str, scores: tuple[float, float, float]) -> None:
    previous_score, alone, together = scores
    relevance = scorer({first: previous_score, second: alone, f"{first} {second}": together})
    assert fold_follow_up(second, first, relevance) == second


def test_a_gain_that_leaves_most_of_the_doubt_is_not_a_follow_up() -> None:
    # 0.5 -> 0.7 removes 40% of the doubt: the question was half answered alone, and stays so.
    assert FOLLOW_UP_SHARE > 0.4
    relevance = scorer({REFRACTORY: 0.3, f"{FIRST} {REFRACTORY}": 0.6, FIRST: 0.5})
    assert fold_follow_up(REFRACTORY, FIRST, relevance) == REFRACTORY


def test_a_doubtful_question_is_folded_when_the_pair_removes_most_of_its_doubt() -> None:
    relevance = scorer({REFRACTORY: 0.45, f"{FIRST} {REFRACTORY}": 0.8, FIRST: 0.9}, {f"{FIRST} {REFRACTORY}": "refractory-sentence", FIRST: "first-line-sentence"})
    assert fold_follow_up(REFRACTORY, FIRST, relevance) == f"{FIRST} {REFRACTORY}"


def test_no_history_or_a_repeated_question_needs_no_scoring() -> None:
    relevance = scorer({})
    assert fold_follow_up(FIRST, None, relevance) == FIRST
    assert fold_follow_up(FIRST, f"  {FIRST} ", relevance) == FIRST
    assert relevance.asked == []  # type: ignore[attr-defined]


def test_previous_question_is_the_last_user_turn() -> None:
    history = [
        ChatTurn(role="user", content=BREAD),
        ChatTurn(role="assistant", content="The source does not say."),
        ChatTurn(role="user", content="  "),
    ]
    assert previous_question(history) == BREAD
    assert previous_question([]) is None
