"""Example questions drawn from the indexed documents themselves: their headings, first sentences and titles.

The wording is generic (no corpus-specific phrasing); each question is in the language of
the part of the document it comes from, so a Chinese document gets Chinese examples.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import zip_longest

from index.documents import Document, Language, Sentence
from index.splitting import detect_language

MAX_EXAMPLES = 6
# A heading or subject longer than this reads as a sentence, not a topic.
_MAX_TOPIC_WORDS = 8
_MAX_TOPIC_CHARS_ZH = 16
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.M)
# A defining first sentence, "X is a …" / "X是一种…": its subject is what the document is about.
_DEFINITION = {
    "en": re.compile(r"^(?P<subject>[A-Z][^,;:()]*?)\s+(?P<verb>is|are)\s+(?:an?|the)\s", re.A),
    "zh": re.compile(r"^(?P<subject>[^，,；;：:（(]{2,16}?)是(?:一种|一类|一个|指)"),
}
_TEMPLATES: dict[Language, dict[str, str]] = {
    "en": {
        # Asked of the section, not "the document": "What does the document say about Costs?" read as a
        # question about the whole document (qa.intent) and was answered with its opening sentences.
        "heading": "What does the section “{topic}” say?",
        "is": "What is {topic}?",
        "are": "What are {topic}?",
        "title": "What are the main points of “{topic}”?",
        "authors": "Who wrote “{topic}”?",
    },
    "zh": {
        "heading": "“{topic}”一节说了什么？",
        "is": "什么是{topic}？",
        "are": "什么是{topic}？",
        "title": "“{topic}”的要点是什么？",
        "authors": "“{topic}”的作者是谁？",
    },
}


def _is_topic(text: str, language: Language) -> bool:
    if language == "zh":
        return 0 < len(text) <= _MAX_TOPIC_CHARS_ZH
    return 0 < len(text.split()) <= _MAX_TOPIC_WORDS


def _subject(text: str) -> str:
    """A sentence-initial subject in running text: lower-case unless it is an acronym or proper name."""
    first, _, rest = text.partition(" ")
    lowered = first if first.isupper() or not rest else first[0].lower() + first[1:]
    return f"{lowered} {rest}".strip()


def _document_examples(document: Document, sentences: Sequence[Sentence]) -> list[str]:
    examples: list[str] = []
    title = (document.title or "").strip()
    for heading in _HEADING.findall(document.text):
        language = detect_language(heading)
        if _is_topic(heading, language) and heading != title:  # the title heading names no section
            examples.append(_TEMPLATES[language]["heading"].format(topic=heading))
    for language in ("en", "zh"):
        first = next((s for s in sentences if s.kind == "body" and s.language == language and not s.text.startswith("#")), None)
        match = _DEFINITION[language].match(first.text) if first else None
        if match and _is_topic(match["subject"], language):
            verb = match.groupdict().get("verb") or "is"
            topic = _subject(match["subject"]) if language == "en" else match["subject"]
            examples.append(_TEMPLATES[language][verb].format(topic=topic))
    if title:
        language = detect_language(title)
        if document.authors:
            examples.append(_TEMPLATES[language]["authors"].format(topic=title))
        if not examples:  # "main points" questions are broad; only for documents with nothing more specific
            examples.append(_TEMPLATES[language]["title"].format(topic=title))
    return examples


def example_questions(
    documents: Sequence[Document], sentences_of: Callable[[str], Sequence[Sentence]], limit: int = MAX_EXAMPLES
) -> list[str]:
    """Up to `limit` example questions, taking from each document in turn so every one is represented."""
    per_document = [_document_examples(document, sentences_of(document.id)) for document in documents]
    chosen: list[str] = []
    for round_ in zip_longest(*per_document):
        for example in round_:
            if example and example not in chosen and len(chosen) < limit:
                chosen.append(example)
    return chosen
