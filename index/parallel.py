"""Linking a Chinese paragraph to the English paragraph it translates, sentence by sentence.

A translated abstract keeps the sentence count, keeps Latin anchors (acronyms,
gene names, numbers) in the same sentences, and keeps each sentence's share of the
paragraph length roughly constant. We link two adjacent paragraphs of different
languages only when all three hold, so ordinary bilingual documents are not
falsely paired.
"""

from __future__ import annotations

import re

from index.documents import Sentence

_ANCHOR = re.compile(r"[A-Z][A-Z0-9]{1,}|\d+(?:\.\d+)?")
# Largest allowed gap between a sentence's share of its paragraph in the two languages.
_MAX_SHARE_GAP = 0.12


def _anchors(text: str) -> set[str]:
    return set(_ANCHOR.findall(text))


def is_translation(source: list[Sentence], target: list[Sentence]) -> bool:
    """True when `target` is a sentence-by-sentence translation of `source`."""
    if len(source) != len(target) or len(source) < 2 or source[0].language == target[0].language:
        return False
    source_total = sum(len(s.text) for s in source)
    target_total = sum(len(s.text) for s in target)
    for a, b in zip(source, target, strict=True):
        if abs(len(a.text) / source_total - len(b.text) / target_total) > _MAX_SHARE_GAP:
            return False
        anchors_a, anchors_b = _anchors(a.text), _anchors(b.text)
        if (anchors_a or anchors_b) and not anchors_a & anchors_b:
            return False
    return True


def link_translations(paragraphs: list[list[Sentence]]) -> list[Sentence]:
    """Flatten paragraphs, setting `parallel_id` on both sides of each translated pair."""
    linked: dict[str, str] = {}
    for first, second in zip(paragraphs, paragraphs[1:]):
        if first and second and first[0].kind == second[0].kind == "body" and is_translation(first, second):
            for a, b in zip(first, second, strict=True):
                linked[a.id], linked[b.id] = b.id, a.id
    return [
        s.model_copy(update={"parallel_id": linked[s.id]}) if s.id in linked else s
        for paragraph in paragraphs
        for s in paragraph
    ]
