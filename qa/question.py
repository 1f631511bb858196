"""What a question asks for: its terms, language, bibliographic intent, answer type, premise.

These are small fixed lexicons on purpose: no question classifier ships as a package
here, and these few signals are what separate "the source says" from "it does not"
for an extractive answerer (checked by the evaluation set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from index.documents import Language
from index.splitting import detect_language
from index.tokenize import tokenize

BibliographicIntent = Literal["authors", "affiliation", "citation"]
AnswerType = Literal["number", "date", "any"]

# re.A: "\b" must see a boundary between Chinese and Latin text ("文章的DOI"). Affiliation is
# tried before authors: "Where do the authors work?" asks for the affiliation.
_INTENTS: dict[BibliographicIntent, re.Pattern[str]] = {
    "affiliation": re.compile(r"\b(affiliat\w*|institut\w*|which (organi[sz]ation|center|centre)|where .*(author|work|based))\b|机构|单位|所属", re.I | re.A),
    "authors": re.compile(r"\b(who (wrote|authored|is the author)|authors?|written by|writer)\b|作者|谁写|谁撰写|撰写者", re.I | re.A),
    "citation": re.compile(
        r"\b(journal|published|publication|doi|volume|issue|pages|citation|cite|epub|when was (it|this|the (review|article|paper)))\b|期刊|杂志|发表|出版|引用|卷",
        re.I | re.A,
    ),
}
_NUMBER_QUESTION = re.compile(
    r"\b(how (many|much|often|long)|what (percentage|proportion|share|fraction|number|dose|dosage)|doses?|dosage|dosing|mg|rate of|percent|incidence|prevalence|duration)\b|多少|几|剂量|比例|百分|发病率|患病率|多久|多长",
    re.I | re.A,
)
_DATE_QUESTION = re.compile(r"\b(when|what year|which year|since when)\b|哪一?年|何时|什么时候", re.I | re.A)
# A quantity, not the digits inside a name such as CD20 or IFNAR1.
_NUMBER = re.compile(r"(?<![A-Za-z\d])\d+(?:[.,]\d+)?(?![A-Za-z\d])|%")
_YEAR = re.compile(r"\b(1[89]|20)\d{2}\b", re.A)
_PRESUPPOSING = re.compile(r"^\s*(why|how come|what makes|given that|since)\b|为什么|为何|既然", re.I | re.A)
# Negations and the quantifiers that deny a premise ("limited trials" against "based on large trials").
_NEGATION_EN = re.compile(r"\b(not|no|never|without|neither|nor|cannot|n't|lack\w*|fail\w*|limited|few|little|scarce|rarely)\b", re.I | re.A)
_NEGATION_ZH = re.compile(r"不|未|没有|无|非|有限|缺乏|很少")
# Words whose presence in a passage denies a question's word: "Why is JDM so common?" against "JDM is rare".
_ANTONYMS = {"common": {"rare", "uncommon"}, "rare": {"common", "frequent"}, "frequent": {"rare"}, "large": {"limited", "small"}, "many": {"few", "limited"}, "effective": {"ineffective"}, "常见": {"罕见"}, "罕见": {"常见"}}
_FOLLOW_UP = re.compile(
    r"^\s*(and|what about|how about|also|and for|what of|same for|but)\b|^\s*(那|还有|那么|另外|而|对于)|\b(it|they|them|its|their|this|that|these|those)\b|它|他们|其|这些|那些",
    re.I | re.A,
)
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class Question:
    text: str
    language: Language
    terms: tuple[str, ...]
    intent: BibliographicIntent | None
    answer_type: AnswerType
    presupposes: bool
    negated: bool

    @classmethod
    def parse(cls, text: str) -> Question:
        intent = next((name for name, pattern in _INTENTS.items() if pattern.search(text)), None)
        if _DATE_QUESTION.search(text):
            answer_type: AnswerType = "date"
        elif _NUMBER_QUESTION.search(text):
            answer_type = "number"
        else:
            answer_type = "any"
        return cls(
            text=text,
            language=detect_language(text),
            terms=tuple(dict.fromkeys(tokenize(text, expand=False))),
            intent=intent,
            answer_type=answer_type,
            presupposes=bool(_PRESUPPOSING.search(text)),
            negated=has_negation(text),
        )

    def is_follow_up(self) -> bool:
        """Elliptical or anaphoric questions that only make sense after the previous turn."""
        return bool(_FOLLOW_UP.search(self.text)) or len(self.terms) <= 2


def has_negation(text: str) -> bool:
    return bool(_NEGATION_EN.search(text) or _NEGATION_ZH.search(text))


def satisfies_answer_type(answer_type: AnswerType, text: str) -> bool:
    """Whether a passage could answer a question that asks for a number or a date."""
    if answer_type == "number":
        return bool(_NUMBER.search(text))
    if answer_type == "date":
        return bool(_YEAR.search(text))
    return True


def premise_conflict(question: Question, passage: str) -> bool:
    """A presupposing question whose key terms the passage negates.

    "Why do most patients fully respond to initial therapy?" against "Most patients
    do not fully respond to initial therapy": the passage denies the premise, so the
    honest answer is that the source does not say why.
    """
    if not question.presupposes or question.negated:
        return False
    terms = set(question.terms)
    passage_words = {w.lower() for w in _WORD.findall(passage)}
    for word in re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]{2}", question.text.lower()):
        if _ANTONYMS.get(word, set()) & passage_words or any(a in passage for a in _ANTONYMS.get(word, ()) if not a.isascii()):
            return True
    words = _WORD.findall(passage)
    for i, word in enumerate(words):
        if set(tokenize(word)) & terms and has_negation(" ".join(words[max(0, i - 3) : i])):
            return True
    for term in (t for t in terms if not t.isascii()):
        position = passage.find(term)
        if position > 0 and _NEGATION_ZH.search(passage[max(0, position - 2) : position]):
            return True
    return False


_PART_BREAK = re.compile(r"\?\s+|[;；]\s*|,?\s+and\s+(?=(?:what|which|who|how|why|when|where|is|are|does|do)\b)|(?:，|,)?(?:以及|还有|并且)", re.I | re.A)


def question_parts(text: str) -> list[str]:
    """The sub-questions of a multi-part question ("What is X, and which Y…?"); one part for a simple one."""
    parts = [p.strip(" ,?？") for p in _PART_BREAK.split(text)]
    parts = [p for p in parts if len(tokenize(p, expand=False)) >= 2]
    return parts if len(parts) > 1 else []
