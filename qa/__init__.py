"""citeqa's public Python API: `Assistant`, and the typed answers it returns."""

from qa.assistant import Assistant, QuestionError
from qa.settings import Settings
from qa.types import Answer, ChatTurn, Citation, RelatedSentence

__all__ = ["Answer", "Assistant", "ChatTurn", "Citation", "QuestionError", "RelatedSentence", "Settings"]
