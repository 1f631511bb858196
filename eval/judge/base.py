"""The contract every support judge fulfils, and the verdict it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

JudgeMethod = Literal["verbatim", "offline-scorer", "llm"]


@dataclass(frozen=True)
class SupportVerdict:
    """Whether the cited evidence, taken together, supports one answer sentence.

    ``score`` is the judge's confidence in support, from 0 to 1; it is what ROC
    AUC is computed from, so it must rank claims even when ``supported`` ties.
    ``method`` names the stage that decided.
    """

    supported: bool
    score: float
    method: JudgeMethod

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must lie in [0, 1], got {self.score}")


@runtime_checkable
class SupportJudge(Protocol):
    """Decides whether ``evidence`` (the cited source sentences) supports ``claim``."""

    name: str

    def judge(self, claim: str, evidence: Sequence[str]) -> SupportVerdict: ...


@runtime_checkable
class BatchSupportJudge(SupportJudge, Protocol):
    """A judge that can also decide many pairs at once, which is faster when
    the judge embeds texts; validation uses it when offered."""

    def judge_many(self, pairs: Sequence[tuple[str, Sequence[str]]]) -> list[SupportVerdict]: ...
