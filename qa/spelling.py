"""Typo repair against the indexed vocabulary: "juvenille dermatomyosits" → the corpus's words.

A word is repaired only when it is neither an English word (pyspellchecker's list)
nor a word of the documents, and a document word (or a bibliographic question word)
lies within one edit (two for long words). Correct but unindexed words are left
alone, so "World Cup" never turns into something the sources mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from spellchecker import SpellChecker

_WORD = re.compile(r"[A-Za-z][A-Za-z-]{3,}")
# Words a question about a paper uses that its text may not contain.
_QUESTION_WORDS = ("author", "authors", "article", "paper", "review", "journal", "published", "publication", "affiliation", "institution")


@lru_cache(maxsize=1)
def _english() -> SpellChecker:
    return SpellChecker(distance=1)


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    return frozenset(word.lower() for text in texts for word in _WORD.findall(text)) | frozenset(_QUESTION_WORDS)


class SpellingCorrector:
    def __init__(self, words: frozenset[str]) -> None:
        self._words = words
        self._choices = sorted(words)

    def correct(self, text: str) -> str:
        def repair(match: re.Match[str]) -> str:
            word = match.group(0)
            lower = word.lower()
            if len(lower) < 5 or lower in self._words or not _english().unknown([lower]):
                return word
            best = process.extractOne(lower, self._choices, scorer=Levenshtein.distance, score_cutoff=1 if len(lower) < 8 else 2)
            return best[0] if best else word

        return _WORD.sub(repair, text)
