"""The intent detector's training file and its split (eval/fit_intent.py); the fit itself needs the real embedder."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from eval.fit_intent import Question, fit_half, strict_threshold, threshold, written_questions


def test_every_written_question_parses_and_both_halves_hold_every_kind_in_both_languages() -> None:
    questions = written_questions()
    assert len({q.text for q in questions}) == len(questions), "a question is listed twice"
    fit = fit_half(questions)
    halves = Counter((q.intent, q.language, f) for q, f in zip(questions, fit))
    for intent in ("overview", "authors", "affiliation", "publication", "specific"):
        for language in ("en", "zh"):
            assert halves[(intent, language, True)] >= 2 and halves[(intent, language, False)] >= 2, (intent, language)


def test_an_unknown_kind_is_an_error(tmp_path) -> None:
    path = tmp_path / "questions.tsv"
    path.write_text("# comment\nbibliographic\ten\tWho wrote this?\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown kind"):
        written_questions(path)


def test_the_split_is_stable() -> None:
    questions = [Question(f"question {i}", "en", "written", "overview") for i in range(10)]
    assert fit_half(questions) == fit_half(list(questions)) and sum(fit_half(questions)) == 5


def test_a_fixed_half_is_kept_and_the_rest_split_as_before() -> None:
    free = [Question(f"question {i}", "en", "written", "overview") for i in range(10)]
    fixed = [Question(f"topic {i}", "en", "xquad-topics", "specific", "test" if i % 3 else "fit") for i in range(6)]
    halves = fit_half(free + fixed)
    assert halves[:10] == fit_half(free)
    assert halves[10:] == [q.split == "fit" for q in fixed]


def test_the_overview_threshold_balances_both_errors_and_the_bibliographic_one_takes_no_other_question() -> None:
    # Probabilities over (specific, overview, bibliographic) of eight fit questions.
    p = np.array([[0.1, 0.9, 0.0], [0.2, 0.8, 0.0], [0.4, 0.6, 0.0], [0.45, 0.55, 0.0],  # overview
                  [0.3, 0.7, 0.0], [0.9, 0.1, 0.0], [0.3, 0.0, 0.7], [0.1, 0.0, 0.9]])  # specific ×3, bibliographic
    y = np.array([1, 1, 1, 1, 0, 0, 0, 2])
    # 0.5 takes all four overview questions and one specific one: the best balance (a higher
    # threshold would lose overview questions to spare that one).
    assert threshold(p, y, 1) == 0.5
    # A specific question at 0.7 for bibliographic: only above it.
    assert 0.7 < strict_threshold(p, y, 2) <= 0.9
