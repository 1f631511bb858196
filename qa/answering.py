"""The default answerer: no LLM, faithful by construction.

It quotes the retrieved source sentences verbatim and whole, each followed by its [n] marker and
its translation's, or says the fixed abstention phrase and lists the closest sentences as related.
(Sentences used to be trimmed to the clauses holding the question's terms, split at semicolons and
contrast words. Measured on the answered questions of xquad-ci and cmrc-ci, that cut only 3.6% and
2.3% of the quoted characters, and cut the answer itself out of 5 of the 160 XQuAD sentences that
held it — "…not under a pharmacist's supervision (…) but instead by other senior technicians": the
question's terms name the topic, the answer is what the sentence goes on to say about it.)
Which sentences answer, and whether any does, is decided upstream by the calibrated retrieval
(`qa.retrieval`); this module only composes.
"""

from __future__ import annotations

from index.catalog import Catalog
from index.documents import Sentence
from index.tokenize import tokenize
from prompts import PromptSet
from qa.answerers import Evidence, Retrieval
from qa.relevance import coverage, term_weights
from qa.settings import Settings
from qa.types import Answer, Citation, RelatedSentence

# A further sentence is quoted only when it is nearly as relevant as the first and brings
# question terms the first lacks: a second sentence must add what the question asks for.
SECOND_SENTENCE_RATIO = 0.8
NEW_TERMS_SHARE = 0.15


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, catalog: Catalog, prompts: PromptSet, settings: Settings) -> None:
        self._catalog = catalog
        self._prompts = prompts
        self._settings = settings

    def answer(self, retrieval: Retrieval) -> Answer:
        if not retrieval.answerable or not retrieval.evidence:
            return self.abstain(retrieval)
        weights = term_weights(tokenize(retrieval.standalone, expand=False), self._catalog.idf)
        selected = self._select(retrieval.evidence, weights)
        citations: list[Citation] = []
        quotes: list[str] = []
        # Most relevant first, not document order: the answer leads with the sentence that answers
        # (then each part of a multi-part question, then what adds to it), as the ranking decided.
        for unit in selected:
            primary, secondary = unit.sentence, unit.parallel
            if secondary is not None and primary.language != retrieval.language and secondary.language == retrieval.language:
                primary, secondary = secondary, primary
            marker = len(citations) + 1
            citations.append(cite(primary, marker, unit.relevance, primary.text))
            markers = f"[{marker}]"
            if secondary is not None:
                citations.append(cite(secondary, marker + 1, unit.relevance, secondary.text, parallel_of=marker))
                markers += f"[{marker + 1}]"
            quotes.append(self._prompts.render("quote", retrieval.language, passage=primary.text, markers=markers))
        frame = "answer" if citations[0].language == retrieval.language else "answer_other_language"
        text = self._prompts.render(frame, retrieval.language, quotes="\n\n".join(quotes))
        return self._answer(retrieval, text, citations=citations)

    def abstain(self, retrieval: Retrieval) -> Answer:
        # Header lines (author, journal) are close to many questions by accident; they are not "related".
        body = [e for e in retrieval.evidence if e.sentence.kind == "body"]
        related = [
            RelatedSentence(
                sentence_id=e.sentence.id,
                doc_id=e.sentence.doc_id,
                text=e.sentence.text,
                start=e.sentence.start,
                end=e.sentence.end,
                score=round(e.relevance, 4),
                language=e.sentence.language,
            )
            for e in body[: self._settings.max_related]
        ]
        return self._answer(retrieval, self._prompts.get("abstain", retrieval.language), related=related)

    def _select(self, evidence: list[Evidence], weights: dict[str, float]) -> list[Evidence]:
        """The best evidence, the best of each part of a multi-part question, then others only if
        nearly as relevant and covering question terms not yet covered."""
        chosen = [evidence[0]] + [e for e in evidence[1:] if e.required][: self._settings.max_citations - 1]
        covered = frozenset().union(*(self._catalog.tokens(e.sentence) for e in chosen))
        for unit in evidence[1:]:
            if len(chosen) >= self._settings.max_citations:
                break
            if unit in chosen or unit.relevance < SECOND_SENTENCE_RATIO * evidence[0].relevance:
                continue
            tokens = self._catalog.tokens(unit.sentence)
            if coverage(weights, tokens - covered) > NEW_TERMS_SHARE:
                chosen.append(unit)
                covered |= tokens
        return chosen

    def _answer(self, retrieval: Retrieval, text: str, **evidence) -> Answer:
        return Answer(
            question=retrieval.question,
            text=text,
            abstained="related" in evidence,
            language=retrieval.language,
            confidence=confidence(retrieval),
            standalone_question=retrieval.standalone,
            prompt_version=self._prompts.version,
            answerer=self.name,
            **evidence,
        )


def confidence(retrieval: Retrieval) -> float | None:
    """`Answer.confidence`: the gate's probability, shared by the extractive and generative answerers."""
    return round(retrieval.confidence, 4) if retrieval.confidence is not None else None


def cite(sentence: Sentence, marker: int, score: float, quote: str, parallel_of: int | None = None) -> Citation:
    """The `Citation` of a source sentence under marker [n]: shared by the extractive and generative answerers."""
    return Citation(
        marker=marker,
        sentence_id=sentence.id,
        doc_id=sentence.doc_id,
        text=sentence.text,
        start=sentence.start,
        end=sentence.end,
        score=round(score, 4),
        language=sentence.language,
        quote=quote,
        parallel_of=parallel_of,
    )
