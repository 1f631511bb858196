"""Misspelt question words corrected toward the documents' own words, before the search.

A reader types "intial therapy for juvenille dermatomyosits". BM25 finds nothing for the misspelt
words, and the embedder reads them as other tokens: on the bundled corpus three of seven such
questions had the right sentence nowhere in the top three. Search engines answer "showing results
for …"; so does this, against the collection's vocabulary, which holds the words a question about
it needs (domain terms a general dictionary lacks, such as "methotrexate").

A word is corrected only when all of these hold, so a correctly spelt question is searched as asked:
- it is a lower-case Latin word, or the question's first word with only its first letter capital
  (as any first word is), of at least `MIN_LENGTH` letters: shorter words have too many neighbours.
  A capitalised word inside the question may be a name, missing from the collection for the good
  reason that the collection does not say; an all-caps word is an acronym;
- a general English dictionary does not know it (pyspellchecker's word list): a real word absent
  from the collection ("mortality", asked of a review that gives none) is not a typo, and turning it
  into a collection word would make an unanswerable question look answerable;
- the collection holds neither it nor another word of its stem;
- a collection word with the same first letter lies within one edit (two from `TWO_EDITS` letters;
  a swap of two adjacent letters is one edit): the nearest wins, then the most frequent. The first
  letter is seldom the one mistyped, and a change there is often one of meaning: without this rule,
  PubMedQA's "intracorporeal lithotripter" became "extracorporeal" and "reimplantation"
  "implantation".
Chinese text is left as it is: its typing errors are wrong characters of the same sound, which an
edit distance over letters does not model.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA
from spellchecker import SpellChecker

from index.catalog import Catalog
from index.tokenize import english_tokens

MIN_LENGTH = 5
TWO_EDITS = 8
# A word as spelling correction sees it: letters only, case kept.
LATIN_WORD = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=1)
def _dictionary() -> SpellChecker:
    # pyspellchecker's English frequency list (~160,000 words, shipped in the package): loaded once
    # (~0.1 s), never downloaded.
    return SpellChecker(language="en", distance=1)


def _max_edits(word: str) -> int:
    return 2 if len(word) >= TWO_EDITS else 1


def _nearest(word: str, words: Counter[str]) -> str | None:
    """The collection word (of those with `word`'s first letter, `words`) nearest `word` within its
    edit budget (ties: the most frequent), or None."""
    found = process.extract(word, words.keys(), scorer=OSA.distance, score_cutoff=_max_edits(word), limit=None)
    if not found:
        return None
    return min(found, key=lambda match: (match[1], -words[match[0]], match[0]))[0]


class Speller:
    """Corrects questions toward one collection's words (module docstring: which words)."""

    def __init__(self) -> None:
        self._terms: object = None
        self._by_initial: dict[str, Counter[str]] = {}

    def prepare(self, catalog: Catalog) -> None:
        """Count the collection's lower-cased Latin words by first letter, unless counted since the
        catalog was last rebuilt (new `terms`). Done on first need (most questions have no misspelt
        word) or ahead, by the app's warm-up: 2.7 s at 100,000 sentences."""
        if self._terms is not catalog.terms:
            by_initial: dict[str, Counter[str]] = {}
            for sentence in catalog.sentences:
                for word in LATIN_WORD.findall(sentence.text):
                    if len(word) >= 3:
                        word = word.lower()
                        by_initial.setdefault(word[0], Counter())[word] += 1
            self._by_initial, self._terms = by_initial, catalog.terms

    def _collection_words(self, catalog: Catalog, initial: str) -> Counter[str]:
        """The collection's words that start with `initial`, and their counts."""
        self.prepare(catalog)
        return self._by_initial.get(initial, Counter())

    def correct(self, question: str, catalog: Catalog) -> str:
        """The question with its misspelt words replaced by the collection's nearest words."""
        dictionary = _dictionary()
        lookup = catalog.terms.lookup
        corrected: list[str] = []
        last = 0
        for number, match in enumerate(LATIN_WORD.finditer(question)):
            typed = match.group()
            # The first word is capitalised as every first word is (PubMedQA's titles: "Glutne tolerance…").
            first = number == 0 and match.start() == len(question) - len(question.lstrip()) and typed.istitle()
            word = typed.lower() if first else typed
            if len(word) < MIN_LENGTH or not word.islower() or word in dictionary:
                continue
            stems = english_tokens(word)
            if not stems or stems[0] in lookup:  # a stop word, or the collection has a word of its stem
                continue
            nearest = _nearest(word, self._collection_words(catalog, word[0]))
            if nearest is not None and nearest != word:
                corrected += [question[last : match.start()], nearest.capitalize() if first else nearest]
                last = match.end()
        return "".join(corrected) + question[last:] if corrected else question
