"""citeqa's public Python API: `Assistant`, and the typed answers it returns.

Names are imported on first use, so `qa --help` or a bad question answers at once
instead of waiting for llama-index and Chroma to import.
"""

from importlib import import_module

_EXPORTS = {
    "Assistant": "qa.assistant",
    "QuestionError": "qa.types",
    "Settings": "qa.settings",
    "Answer": "qa.types",
    "ChatTurn": "qa.types",
    "Citation": "qa.types",
    "RelatedSentence": "qa.types",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
