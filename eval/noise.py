"""Typing errors in an evaluation set's questions: `qa eval --typos`.

Readers misspell ("intial therapy", "pathogenisis"); the dev sets' questions are clean, so without
this no public set measures what a misspelt word costs, or what `qa.spelling` earns back. Each
question gets one error (two when it has four or more eligible words) in its Latin words of at least
`MIN_LENGTH` letters, chosen and made by a random generator seeded with the question's ID, so every
run asks the same questions. The errors are the four kinds of single-edit typing slips (Damerau,
1964): a letter left out, two adjacent letters swapped, a letter doubled, a letter replaced by a
neighbour on a QWERTY keyboard; never in the first letter, which typists seldom miss. Chinese text is
left as it is (its slips are characters of the same sound, a different model).
"""

from __future__ import annotations

import random

from eval.dataset import EvalQuestion
from eval.squad import stable_hash
from qa.spelling import LATIN_WORD

MIN_LENGTH = 5
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# Letters next to each letter on a QWERTY keyboard (same row and the rows above and below).
_NEIGHBOURS = {
    letter: "".join(
        other
        for other_row, others in enumerate(_ROWS)
        for other_column, other in enumerate(others)
        if other != letter and abs(other_row - row) <= 1 and abs(other_column - column) <= 1
    )
    for row, letters in enumerate(_ROWS)
    for column, letter in enumerate(letters)
}


def _slip(word: str, rng: random.Random) -> str:
    """One typing error in `word`, after its first letter."""
    at = rng.randrange(1, len(word))
    kind = rng.choice(("omit", "swap", "double", "neighbour"))
    if kind == "omit":
        return word[:at] + word[at + 1 :]
    if kind == "swap" and at < len(word) - 1 and word[at] != word[at + 1]:
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if kind == "double":
        return word[: at + 1] + word[at] + word[at + 1 :]
    lower = word[at].lower()
    replacement = rng.choice(_NEIGHBOURS.get(lower) or "e")
    return word[:at] + (replacement.upper() if word[at].isupper() else replacement) + word[at + 1 :]


def misspell(text: str, key: str) -> str:
    """`text` with typing errors (module docstring), the same for the same `key` on every run."""
    rng = random.Random(stable_hash("typos", key))
    words = [m for m in LATIN_WORD.finditer(text) if len(m.group()) >= MIN_LENGTH and not m.group().isupper()]
    if not words:
        return text
    chosen = sorted(rng.sample(words, 2 if len(words) >= 4 else 1), key=lambda m: m.start())
    pieces, last = [], 0
    for match in chosen:
        pieces += [text[last : match.start()], _slip(match.group(), rng)]
        last = match.end()
    return "".join(pieces) + text[last:]


def with_typos(questions: list[EvalQuestion]) -> list[EvalQuestion]:
    """The questions with typing errors in their text (not in their conversation history)."""
    return [q.model_copy(update={"question": misspell(q.question, q.id)}) for q in questions]
