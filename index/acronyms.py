"""Acronyms defined in the documents themselves: "juvenile dermatomyositis (JDM)".

A simplified Schwartz–Hearst (2003) match: the long form is the shortest run of
words before the parenthesis whose first letters spell the acronym in order.
Knowing JDM = juvenile dermatomyositis lets a question in one form match a
sentence in the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from index.tokenize import tokenize

_DEFINITION = re.compile(r"([^()]{1,120}?)\s*\(\s*([A-Za-z][A-Za-z0-9-]{1,9}?)s?\s*\)")


def best_long_form(short: str, candidate: str) -> str | None:
    """Schwartz & Hearst's matcher: each character of the acronym, right to left, in the
    candidate, the first one starting a word. Returns the long form or None."""
    s, l = len(short) - 1, len(candidate) - 1
    while s >= 0:
        char = short[s].lower()
        if not char.isalnum():
            s -= 1
            continue
        while (l >= 0 and candidate[l].lower() != char) or (s == 0 and l > 0 and candidate[l - 1].isalnum()):
            l -= 1
        if l < 0:
            return None
        l -= 1
        s -= 1
    return candidate[candidate.rfind(" ", 0, l + 1) + 1 :]


@dataclass(frozen=True)
class Acronym:
    short: str
    long: str
    token: str
    long_tokens: tuple[str, ...]


def find_acronyms(texts: Iterable[str]) -> dict[str, Acronym]:
    """Acronyms defined in the texts, by their token (first definition wins)."""
    found: dict[str, Acronym] = {}
    for text in texts:
        for match in _DEFINITION.finditer(text):
            acronym = match.group(2)
            if sum(c.isupper() for c in acronym) < 2:
                continue
            words = match.group(1).split()
            candidate = " ".join(words[-min(len(acronym) + 5, 2 * len(acronym)) :])
            long_form = best_long_form(acronym, candidate)
            if not long_form or len(long_form.split()) > len(acronym) + 2:
                continue
            acronym_tokens = tokenize(acronym, expand=False)
            long_tokens = tuple(tokenize(long_form, expand=False))
            if len(acronym_tokens) == 1 and long_tokens and acronym_tokens[0] not in long_tokens:
                found.setdefault(acronym_tokens[0], Acronym(acronym, long_form, acronym_tokens[0], long_tokens))
    return found
