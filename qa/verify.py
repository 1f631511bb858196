"""Checks every sentence a model wrote against the source sentences it cites, before it is shown.

A sentence is shown only when all of these hold, checked in this order (the first failure is
its recorded reason):

1. it says something, cites at least one source, and only markers the model was shown;
2. each of its quotes occurs verbatim in the cited sentence (Unicode-folded, case and spacing
   ignored; "…" may join pieces that occur in order);
3. its quotes carry what it claims: every number in it is in a quote, a negation in it is in a
   quote and a negation quoted is in it, every content word is in a quote or restates the
   question, and at least half of its content words are quoted (English stems; Chinese through
   the project's jieba tokenizer);
4. the support judge accepts it given the full cited sentences.

The checks are general rules about quoting, not facts about any corpus. The support judge is
injected: it lives with the evaluation (`eval.judge`), which also uses it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from eval.judge.base import SupportJudge
from eval.judge.features import has_cjk, is_negated, numbers
from index.documents import Sentence
from index.tokenize import tokenize

# A claim restating the question ("The first-line treatment is …") may take words from the
# question, but at least this share of its content words must come from its quotes: otherwise
# it says something the sources do not, in the question's words.
MIN_QUOTED_SHARE = 0.5

_ELLIPSIS = re.compile(r"…|\.{3}")
_EDGE = " \t\n.,;:!?。，；：！？\"'“”‘’()（）"
_DIGITS = re.compile(r"^[\d.]+$")


@dataclass(frozen=True)
class Claim:
    """One sentence as the model wrote it, with its (marker, quote) citations."""

    text: str
    citations: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class LocatedQuote:
    marker: int
    quote: str
    sentence: Sentence | None
    """The sentence the marker names; None when the marker was not shown."""
    span: tuple[int, int] | None
    """Where the quote lies inside `sentence.text`, when it was found there."""


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    quotes: tuple[LocatedQuote, ...]
    shown: bool
    reason: str
    support: float | None = None


def _folded(text: str) -> tuple[str, list[int]]:
    """`text` Unicode-folded (NFKC), case-folded and with runs of spaces as one, plus for each
    character of the result the index of the original character it came from."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char).casefold()
        if folded.isspace() or not folded:
            if out and out[-1] != " ":
                out.append(" ")
                origin.append(index)
            continue
        for piece in folded:
            out.append(piece)
            origin.append(index)
    return "".join(out), origin


def locate(quote: str, text: str) -> tuple[int, int] | None:
    """Where `quote` occurs verbatim in `text` (offsets into `text`), or None.

    Latin words must match whole ("reduced" is not found in "unreduced"); Chinese has no
    spaces, so its edges are free. Pieces joined by an ellipsis must occur in order.
    """
    haystack, origin = _folded(text)
    pieces = [_folded(piece)[0].strip(_EDGE) for piece in _ELLIPSIS.split(quote)]
    pieces = [piece for piece in pieces if any(char.isalnum() for char in piece)]
    if not pieces:
        return None
    position, start = 0, None
    for piece in pieces:
        before = r"(?<![a-z0-9])" if piece[0].isascii() and piece[0].isalnum() else ""
        after = r"(?![a-z0-9])" if piece[-1].isascii() and piece[-1].isalnum() else ""
        match = re.compile(before + re.escape(piece) + after).search(haystack, position)
        if match is None:
            return None
        start = match.start() if start is None else start
        position = match.end()
    return origin[start], origin[position - 1] + 1


def _content_terms(text: str, expand: bool) -> set[str]:
    return {term for term in tokenize(text, expand=expand) if not _DIGITS.match(term)}


def _number_in(number: str, quoted: set[str]) -> bool:
    # A whole number may round a quoted decimal ("76%" for "76.3%"); nothing else differs.
    if number in quoted:
        return True
    return "." not in number and any("." in q and number in {str(int(float(q))), str(round(float(q)))} for q in quoted)


def coverage_problem(claim: str, quotes: Sequence[str], question: str) -> str | None:
    """Why the quotes do not carry what the claim says, or None when they do."""
    quoted_text = " … ".join(quotes)
    quoted_numbers = numbers(quoted_text)
    missing = sorted(n for n in numbers(claim) if not _number_in(n, quoted_numbers))
    if missing:
        return f"number(s) {', '.join(missing)} not in its quotes"
    claim_negated, quote_negated = is_negated(claim), any(is_negated(q) for q in quotes)
    if claim_negated != quote_negated:
        return "it negates what its quotes state" if claim_negated else "its quotes hold a negation it leaves out"
    terms = _content_terms(claim, expand=False)
    quoted = _content_terms(quoted_text, expand=True)
    asked = _content_terms(question, expand=True)
    # Chinese segmentation varies with context ("桥于" in one sentence, "桥" in another): a Chinese
    # word is also covered when each of its characters is in the quotes or the question.
    covered_chars = set(quoted_text) | set(question)
    unsupported = sorted(t for t in terms - quoted - asked if not (has_cjk(t) and set(t) <= covered_chars))
    if unsupported:
        return f"word(s) {', '.join(unsupported)} neither quoted nor in the question"
    if terms and len(terms & quoted) < MIN_QUOTED_SHARE * len(terms):
        return "most of its content words come from the question, not from its quotes"
    return None


class Verifier:
    """Decides which model-written sentences are shown; `judge` is the support judge."""

    def __init__(self, judge: SupportJudge) -> None:
        self.judge = judge

    def verify(self, claims: Sequence[Claim], shown: dict[int, Sentence], question: str) -> list[Verdict]:
        """One verdict per claim, in order; `shown` maps each marker the model saw to its sentence."""
        verdicts: list[Verdict] = []
        to_judge: list[int] = []
        for claim in claims:
            quotes = tuple(
                LocatedQuote(marker, quote, shown.get(marker), locate(quote, shown[marker].text) if marker in shown else None)
                for marker, quote in claim.citations
            )
            reason = self._rule_problem(claim, quotes, question)
            if reason is None:
                to_judge.append(len(verdicts))
            verdicts.append(Verdict(claim, quotes, shown=False, reason=reason or ""))
        pairs = [
            (verdicts[i].claim.text, list(dict.fromkeys(q.sentence.text for q in verdicts[i].quotes if q.sentence)))
            for i in to_judge
        ]
        judge_many = getattr(self.judge, "judge_many", None)
        results = judge_many(pairs) if judge_many else [self.judge.judge(claim, evidence) for claim, evidence in pairs]
        for index, result in zip(to_judge, results, strict=True):
            reason = "" if result.supported else f"the support judge rejects it (score {result.score:.2f})"
            verdicts[index] = Verdict(verdicts[index].claim, verdicts[index].quotes, result.supported, reason, round(result.score, 4))
        return verdicts

    @staticmethod
    def _rule_problem(claim: Claim, quotes: Sequence[LocatedQuote], question: str) -> str | None:
        if not any(char.isalnum() for char in claim.text):
            return "it says nothing"
        if not quotes:
            return "it cites no source"
        unknown = sorted({q.marker for q in quotes if q.sentence is None})
        if unknown:
            return f"it cites marker(s) {', '.join(map(str, unknown))}, which were not shown"
        for quote in quotes:
            if quote.span is None:
                return f"quote {quote.quote!r} is not in source [{quote.marker}]"
        return coverage_problem(claim.text, [q.quote for q in quotes], question)
