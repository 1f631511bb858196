"""Synonym groups for matching question terms to source sentences (`qa/synonyms.txt`).

No clinical thesaurus ships as a package here, and term coverage is what keeps
abstention honest, so a small, general, reviewed list stands in for one.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from index.tokenize import tokenize

SYNONYMS_PATH = Path(__file__).resolve().parent / "synonyms.txt"


@lru_cache(maxsize=1)
def _groups() -> dict[str, str]:
    """Each member's token → the group's first token, its canonical form."""
    canonical: dict[str, str] = {}
    for line in SYNONYMS_PATH.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        tokens = [t for member in line.split(",") for t in tokenize(member.strip(), expand=False)[:1]]
        for token in tokens:
            canonical.setdefault(token, tokens[0])
    return canonical


def canonical(token: str) -> str:
    return _groups().get(token, token)


def canonical_set(tokens: Iterable[str]) -> set[str]:
    groups = _groups()
    return {groups.get(t, t) for t in tokens}


@lru_cache(maxsize=None)
def members(token: str) -> tuple[str, ...]:
    """Every token of the token's group (just the token when it has none)."""
    key = canonical(token)
    return tuple(t for t, c in _groups().items() if c == key) or (token,)
