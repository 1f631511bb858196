"""A support judge that asks an LLM, for comparison with the offline judge.

Any llama-index ``LLM`` works (a local model, or ``MockLLM`` in tests); the
prompt is ``prompts/templates/en/judge_support.txt``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from llama_index.core.llms import LLM

from eval.judge.base import SupportVerdict
from eval.judge.offline import is_verbatim, strip_citation_markers

JUDGE_TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "prompts/templates/en/judge_support.txt"

# Checked before SUPPORTED, which both of these contain.
_NOT_SUPPORTED = re.compile(r"\b(?:NOT[\s_-]*SUPPORTED|UNSUPPORTED)\b")
_SUPPORTED = re.compile(r"\bSUPPORTED\b")


def parse_reply(reply: str) -> bool:
    """True for SUPPORTED, False for NOT_SUPPORTED; anything else is an error,
    because guessing would bias the evaluation silently."""
    text = reply.upper()
    if _NOT_SUPPORTED.search(text):
        return False
    if _SUPPORTED.search(text):
        return True
    raise ValueError(
        f"LLM judge reply {reply[:200]!r} is neither SUPPORTED nor NOT_SUPPORTED; use a model that "
        f"follows instructions, or adjust {JUDGE_TEMPLATE_PATH}"
    )


class LLMJudge:
    """Asks ``llm`` for a one-word verdict.  Verbatim quotes skip the call:
    they are supported by definition, and the call costs time."""

    name = "llm"

    def __init__(self, llm: LLM, template_path: Path = JUDGE_TEMPLATE_PATH) -> None:
        if not template_path.is_file():
            raise FileNotFoundError(f"judge prompt not found at {template_path}; restore it from git")
        self.llm = llm
        self.template = template_path.read_text(encoding="utf-8")

    def prompt(self, claim: str, evidence: Sequence[str]) -> str:
        numbered = "\n".join(f"[{number}] {' '.join(sentence.split())}" for number, sentence in enumerate(evidence, 1))
        return self.template.format(claim=strip_citation_markers(claim), evidence=numbered)

    def judge(self, claim: str, evidence: Sequence[str]) -> SupportVerdict:
        if is_verbatim(claim, evidence):
            return SupportVerdict(supported=True, score=1.0, method="verbatim")
        supported = parse_reply(self.llm.complete(self.prompt(claim, evidence)).text)
        # A one-word reply carries no confidence, so the score is all or nothing.
        return SupportVerdict(supported=supported, score=1.0 if supported else 0.0, method="llm")
