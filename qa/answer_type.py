"""Whether a question asks for a number, and whether a sentence holds one.

"What is the recommended dose?", "How many patients…?", "In what year…?", "发病率是多少？" are
answered by a quantity; a sentence that names the drug, the patients or the event without any
number does not answer them, however close its words and vector are to the question's. The
first stage and the gate read cosines and shared terms, which cannot see that, so the gate
answered such questions from the sentence that merely talks about the thing.

A logistic regression on the question's own embedding (the vector the dense search computes
anyway) gives P(the answer is a number). It is fitted by `python -m eval.fit_relevance` on the fit
halves of XQuAD (both languages) and CMRC, labelled by whether the accepted answer text holds a
numeral, and stored in `qa/relevance.json`; the gate reads it together with whether its best
candidate holds a numeral (`numeral_missing`), so what that mismatch is worth is fitted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# Numerals of the two languages the product reads, written as digits or as words. Not a list of
# any document's words: the numerals themselves. English "one" is left out (mostly a pronoun: "one
# of the…"), and so is Chinese 一 (in countless words: 一些, 统一, 一起); the regression and the gate are
# fitted over what this finds, so what it misses or over-finds is priced in by the fit.
_NUMERAL = re.compile(
    r"[0-9０-９]"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
    r"|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|twice)\b"
    r"|[〇零两二三四五六七八九十百千万亿]",
    re.IGNORECASE,
)


def has_numeral(text: str) -> bool:
    """Whether the text holds a numeral (digits, or a number word of English or Chinese)."""
    return _NUMERAL.search(text) is not None


@dataclass(frozen=True)
class NumericQuestion:
    """P(the question's answer is a number), from the unit-length query vector."""

    weights: np.ndarray
    bias: float

    def probability(self, vector: list[float] | np.ndarray) -> float:
        v = np.asarray(vector, dtype=np.float64)
        z = float(self.weights @ (v / (np.linalg.norm(v) or 1.0)) + self.bias)
        return 1.0 / (1.0 + np.exp(-z))
