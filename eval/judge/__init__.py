"""Support judges: does the cited evidence support an answer sentence?

``OfflineJudge`` is the default (no LLM, no network); ``LLMJudge`` is the
plug-in for comparison.  ``validate_judge`` measures either against human
labels on the held-out SciFact split.

The names are resolved on first use: `eval.metrics` needs only `eval.judge.base`,
and importing the judge's model stack (scikit-learn) for it would cost seconds.
"""

from importlib import import_module

_HOMES = {
    "BatchSupportJudge": "eval.judge.base",
    "SupportJudge": "eval.judge.base",
    "SupportVerdict": "eval.judge.base",
    "OfflineJudge": "eval.judge.offline",
    "JudgeValidation": "eval.judge.validation",
    "validate_judge": "eval.judge.validation",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'eval.judge' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
