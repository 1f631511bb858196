"""The parts of a multi-part question.

Splitting is by punctuation and by the coordinations that join two questions ("…, and which
…?", "；", "以及"): grammar of the two languages, not words of any document.
"""

from __future__ import annotations

import re

from index.tokenize import tokenize

_PART_BREAK = re.compile(r"\?\s+|[;；]\s*|,?\s+and\s+(?=(?:what|which|who|how|why|when|where|is|are|does|do)\b)|(?:，|,)?(?:以及|还有|并且)", re.I | re.A)


def question_parts(text: str) -> list[str]:
    """The sub-questions of a multi-part question ("What is X, and which Y…?"); one part for a simple one."""
    parts = [p.strip(" ,?？") for p in _PART_BREAK.split(text)]
    parts = [p for p in parts if len(tokenize(p, expand=False)) >= 2]
    return parts if len(parts) > 1 else []
