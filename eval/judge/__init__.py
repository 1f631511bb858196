"""Support judges: does the cited evidence support an answer sentence?

``OfflineJudge`` is the default (no LLM, no network); ``LLMJudge`` is the
plug-in for comparison.  ``validate_judge`` measures either against human
labels on the held-out SciFact split.
"""

from eval.judge.base import BatchSupportJudge, SupportJudge, SupportVerdict
from eval.judge.offline import OfflineJudge
from eval.judge.validation import JudgeValidation, validate_judge

__all__ = [
    "BatchSupportJudge",
    "JudgeValidation",
    "OfflineJudge",
    "SupportJudge",
    "SupportVerdict",
    "validate_judge",
]
