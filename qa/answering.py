"""The default answerer: no LLM, faithful by construction.

It quotes retrieved source sentences verbatim (trimmed to the relevant clauses
where that keeps the quote contiguous), each followed by its [n] marker, or says
the fixed abstention phrase and lists the closest sentences as related.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.acronyms import Acronym
from index.catalog import Catalog
from index.documents import Language, Sentence
from index.tokenize import tokenize
from qa.lexicon import canonical, canonical_set, members
from prompts import PromptSet
from qa.question import Question, premise_conflict, question_parts, satisfies_answer_type
from qa.retrieval import ScoredSentence
from qa.settings import Settings
from qa.types import Answer, Citation, RelatedSentence

# Stored sentence vectors by ID (from the index): scoring never re-encodes a sentence.
StoredVectors = Callable[[list[str]], dict[str, list[float]]]

# Relevance = logistic(w_dense * cosine + w_cover * term coverage + bias), fitted on
# PubMedQA questions against their own abstract (relevant) and other abstracts
# (not relevant): see eval/calibration.py, which prints these numbers.
RELEVANCE_WEIGHTS = {"dense": 13.47, "coverage": 10.58, "bias": -13.02}
# For questions the embedder cannot read (Chinese with the English-only MiniLM) the
# cosine is noise, so relevance rests on term coverage alone, fitted the same way.
COVERAGE_ONLY_WEIGHTS = {"dense": 0.0, "coverage": 13.97, "bias": -6.06}
# A second sentence is quoted only when it is nearly as relevant as the first.
SECOND_SENTENCE_RATIO = 0.8
# Clauses break where the sentence turns (semicolons, contrast words, ", for …"), not at
# every comma: a list ("JAK, IFNAR1, IFN beta") must be quoted whole.
_CLAUSE_BREAK = re.compile(
    r"(?<=[;；])\s*|\s+(?=\b(?:but|while|whereas|although|instead|however)\b)|(?<=,)\s+(?=for\b)|(?<=[,，])(?=但|而|然而)"
)
_ELLIPSIS = "…"
# Sentences shorter than this (in characters; Chinese packs about 2.5× more per character) are quoted whole.
SHORTEST_TRIMMED = {"en": 160, "zh": 60}


# Share of a term's weight earned when the sentence lacks it but it is a topic of the
# sentence's document: "Pathogenesis is not completely understood…" is about JDM
# because the whole abstract is.
TOPIC_CREDIT = 0.5
# A term is a document topic when at least this share of its body sentences (2 or more) holds it.
TOPIC_SHARE = 0.25


def _stem_variant(term: str, vocabulary: dict[str, float]) -> str | None:
    """An indexed token that differs from an unseen term only by a short ending.

    The stemmer leaves such pairs apart ("worth" / "worthi" from "worthy"); they are the same word.
    """
    if len(term) < 4 or not term.isascii():
        return None
    return next((token for token in vocabulary if token != term and (token.startswith(term) or term.startswith(token)) and abs(len(token) - len(term)) <= 2 and min(len(token), len(term)) >= 4), None)


def _terms_present(text: str, acronyms: dict[str, Acronym]) -> set[str]:
    """Canonical terms of a text, with acronyms and their long forms standing for each other."""
    present = set(tokenize(text))
    for token, acronym in acronyms.items():
        if token in present:
            present.update(acronym.long_tokens)
        elif all(t in present for t in acronym.long_tokens):
            present.add(token)
    return canonical_set(present)


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    va, vb = np.asarray(a), np.asarray(b)
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb) or 1.0))


@dataclass(frozen=True)
class Unit:
    """A sentence together with its translation: one piece of evidence in two languages."""

    sentence: Sentence
    parallel: Sentence | None
    relevance: float
    coverage: float
    cosine: float


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(
        self,
        catalog: Catalog,
        stored_vectors: StoredVectors,
        embed_query: Callable[[str], list[float]],
        prompts: PromptSet,
        settings: Settings,
    ) -> None:
        self._catalog = catalog
        self._stored_vectors = stored_vectors
        # Only multi-part questions encode again, once per part.
        self._embed_query = embed_query
        self._topics: dict[tuple[str, int], frozenset[str]] = {}
        self._prompts = prompts
        self._settings = settings

    # --- scoring -----------------------------------------------------------------------

    def term_weights(self, question: Question, focus: Question | None) -> dict[str, float]:
        """IDF weights of the question's terms; a follow-up's own terms count double."""
        idf = self._catalog.idf
        # A term no sentence contains (nor a synonym of it) is a part of the question
        # the sources cannot answer: it weighs most.
        unseen = max(idf.values(), default=1.0)
        weights: dict[str, float] = {}
        for term in question.terms:
            term = term if term in idf else _stem_variant(term, idf) or term
            seen = [idf[m] for m in members(term) if m in idf]
            weights[canonical(term)] = max(seen) if seen else unseen
        if focus is not None:
            for term in canonical_set(focus.terms):
                if term in weights:
                    weights[term] *= 2.0
        return weights

    def _topic_terms(self, doc_id: str) -> frozenset[str]:
        """Terms held by a good share of a document's body sentences (cached per catalog version)."""
        key = (doc_id, self._catalog.version)
        if key not in self._topics:
            body = [s for s in self._catalog.of_document(doc_id) if s.kind == "body"]
            counts: dict[str, int] = {}
            for sentence in body:
                for term in _terms_present(sentence.text, self._catalog.acronyms):
                    counts[term] = counts.get(term, 0) + 1
            floor = max(2, TOPIC_SHARE * len(body))
            self._topics[key] = frozenset(t for t, n in counts.items() if n >= floor)
        return self._topics[key]

    def _coverage(self, weights: dict[str, float], sentence: Sentence) -> float:
        """Share of the question's (IDF-weighted, synonym-folded) terms the sentence holds, with
        partial credit for terms that are topics of its document."""
        total = sum(weights.values())
        if not total:
            return 0.0
        present = _terms_present(sentence.text, self._catalog.acronyms)
        topics = self._topic_terms(sentence.doc_id)
        earned = sum(w if t in present else TOPIC_CREDIT * w if t in topics else 0.0 for t, w in weights.items())
        return earned / total

    @staticmethod
    def relevance(cosine: float, coverage: float, weights: dict[str, float] = RELEVANCE_WEIGHTS) -> float:
        w = weights
        return float(1.0 / (1.0 + np.exp(-(w["dense"] * cosine + w["coverage"] * coverage + w["bias"]))))

    def units(
        self,
        question: Question,
        hits: list[ScoredSentence],
        weights: dict[str, float],
        query_vector: list[float],
        dense_readable: bool = True,
    ) -> list[Unit]:
        """Candidate evidence, most relevant first; `dense_readable` is False when the embedder cannot read the question."""
        relevance_weights = RELEVANCE_WEIGHTS if dense_readable else COVERAGE_ONLY_WEIGHTS
        seen: set[str] = set()
        members: list[tuple[Sentence, Sentence | None]] = []
        for hit in hits:
            sentence = hit.sentence
            if sentence.id in seen:
                continue
            parallel = self._catalog.get(sentence.parallel_id) if sentence.parallel_id else None
            seen.update({sentence.id, parallel.id if parallel else ""})
            members.append((sentence, parallel))
        wanted = [s.id for pair in members for s in pair if s is not None]
        vectors = self._stored_vectors(wanted)
        units = []
        for sentence, parallel in members:
            coverage = max(self._coverage(weights, s) for s in (sentence, parallel) if s is not None)
            # A unit is as close to the question as the closer of its two languages.
            cosine = max((_cosine(query_vector, vectors[s.id]) for s in (sentence, parallel) if s is not None and s.id in vectors), default=0.0)
            relevance = self.relevance(cosine, coverage, relevance_weights)
            if question.intent and sentence.kind == "metadata" and self._metadata_role(sentence) == question.intent:
                relevance = 1.0
            if not satisfies_answer_type(question.answer_type, sentence.text):
                relevance = min(relevance, self._settings.min_relevance * 0.99)
            units.append(Unit(sentence, parallel, relevance, coverage, cosine))
        return sorted(units, key=lambda u: u.relevance, reverse=True)

    def _bibliographic_candidates(self, question: Question, hits: list[ScoredSentence]) -> list[ScoredSentence]:
        """For "Who wrote this?"-style questions, the matching header line of the documents in play:
        those the search found, or every document of a small collection (retrieval may find none)."""
        if question.intent is None:
            return []
        documents = self._catalog.documents
        doc_ids = list(documents) if len(documents) <= 3 else list(dict.fromkeys(h.sentence.doc_id for h in hits[:5]))
        found = {h.sentence.id for h in hits}
        return [
            ScoredSentence(sentence, fused=0.0)
            for doc_id in doc_ids
            for sentence in self._catalog.of_document(doc_id)
            if sentence.kind == "metadata" and sentence.id not in found and self._metadata_role(sentence) == question.intent
        ]

    def _metadata_role(self, sentence: Sentence) -> str:
        document = self._catalog.documents[sentence.doc_id]
        if sentence.ordinal == 0:
            return "authors"
        return "citation" if sentence.ordinal == document.metadata_lines - 1 else "affiliation"

    # --- composing -----------------------------------------------------------------------

    def _select(self, units: list[Unit], weights: dict[str, float]) -> list[Unit]:
        """The best unit, then others only if nearly as relevant and covering terms not yet covered."""
        chosen = [units[0]]
        covered = canonical_set(tokenize(units[0].sentence.text))
        for unit in units[1:]:
            if len(chosen) >= self._settings.max_citations:
                break
            if unit.relevance < max(self._settings.min_relevance, SECOND_SENTENCE_RATIO * units[0].relevance):
                continue
            present = canonical_set(tokenize(unit.sentence.text))
            new_terms = {t for t in weights if t in present and t not in covered}
            if sum(weights[t] for t in new_terms) > 0.15 * sum(weights.values()):
                chosen.append(unit)
                covered |= present
        return chosen

    def _trim(self, sentence: Sentence, weights: dict[str, float]) -> tuple[int, int]:
        """Offsets (within the sentence) of the contiguous clauses holding the question's terms.

        The whole sentence when it is short, when no clause holds a question term
        (a paraphrase: better the full sentence than a guess), or when nearly all
        of it would be kept anyway.
        """
        text = sentence.text
        if len(text) < SHORTEST_TRIMMED[sentence.language]:
            return 0, len(text)
        clauses = _clauses(text)
        total = sum(weights.values()) or 1.0
        scores = [sum(w for t, w in weights.items() if t in _terms_present(text[s:e], self._catalog.acronyms)) / total for s, e in clauses]
        if len(clauses) < 2 or max(scores) == 0.0:
            return 0, len(text)
        # Clauses that carry most of what the best clause carries; a clause matching only a
        # generic term ("therapies") does not drag the rest of the sentence in.
        kept = [i for i, score in enumerate(scores) if score >= 0.75 * max(scores)]
        start, end = clauses[kept[0]][0], clauses[kept[-1]][1]
        while end > start and text[end - 1] in ",;，； ":
            end -= 1
        if (end - start) > 0.85 * len(text):
            return 0, len(text)
        return start, end

    def answer(
        self,
        question_text: str,
        standalone: str,
        hits: list[ScoredSentence],
        query_vector: list[float],
        focus: Question | None,
        dense_readable: bool = True,
    ) -> Answer:
        question = Question.parse(standalone)
        language = Question.parse(question_text).language
        weights = self.term_weights(question, focus)
        hits = hits + self._bibliographic_candidates(question, hits)
        units = self.units(question, hits, weights, query_vector, dense_readable) if hits else []
        best = units[0] if units else None
        if best is None or best.relevance < self._settings.min_relevance or premise_conflict(question, best.sentence.text):
            return self._abstain(question_text, standalone, language, units)
        selected = self._select(units, weights)
        for part in question_parts(standalone):
            # Each part of a multi-part question brings its own best evidence.
            part_question = Question.parse(part)
            part_vector = self._embed_query(part) if dense_readable else query_vector
            part_units = self.units(part_question, hits, self.term_weights(part_question, None), part_vector, dense_readable)
            extra = part_units[0] if part_units else None
            if (
                extra is not None
                and extra.relevance >= self._settings.min_relevance
                and all(extra.sentence.id not in (u.sentence.id, u.parallel.id if u.parallel else "") for u in selected)
                and len(selected) < self._settings.max_citations
            ):
                selected.append(extra)
        citations: list[Citation] = []
        quotes: list[str] = []
        for unit in sorted(selected, key=lambda u: (u.sentence.doc_id, min(u.sentence.ordinal, u.parallel.ordinal if u.parallel else u.sentence.ordinal))):
            primary, secondary = unit.sentence, unit.parallel
            if secondary is not None and primary.language != language and secondary.language == language:
                primary, secondary = secondary, primary
            start, end = self._trim(primary, weights)
            passage = primary.text[start:end]
            passage = (_ELLIPSIS if start else "") + passage + (_ELLIPSIS if end < len(primary.text) else "")
            marker = len(citations) + 1
            citations.append(_citation(primary, marker, unit.relevance, primary.text[start:end]))
            markers = f"[{marker}]"
            if secondary is not None:
                citations.append(_citation(secondary, marker + 1, unit.relevance, secondary.text, parallel_of=marker))
                markers += f"[{marker + 1}]"
            quotes.append(self._prompts.render("quote", language, passage=passage, markers=markers))
        evidence_language = citations[0].language
        frame = "answer" if evidence_language == language else "answer_other_language"
        text = self._prompts.render(frame, language, quotes="\n\n".join(quotes))
        return self._answer(question_text, standalone, language, text, citations=citations)

    def _abstain(self, question_text: str, standalone: str, language: Language, units: list[Unit]) -> Answer:
        # Header lines (author, journal) are close to many questions by accident; they are not "related".
        body = [u for u in units if u.sentence.kind == "body"]
        related = [
            RelatedSentence(
                sentence_id=u.sentence.id,
                doc_id=u.sentence.doc_id,
                text=u.sentence.text,
                start=u.sentence.start,
                end=u.sentence.end,
                score=round(u.relevance, 4),
                language=u.sentence.language,
            )
            for u in body[: self._settings.max_related]
        ]
        return self._answer(question_text, standalone, language, self._prompts.get("abstain", language), related=related)

    def _answer(self, question_text: str, standalone: str, language: Language, text: str, **evidence) -> Answer:
        return Answer(
            question=question_text,
            text=text,
            abstained="related" in evidence,
            language=language,
            standalone_question=standalone,
            prompt_version=self._prompts.version,
            answerer=self.name,
            **evidence,
        )


def _citation(sentence: Sentence, marker: int, score: float, quote: str, parallel_of: int | None = None) -> Citation:
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


def _clauses(text: str) -> list[tuple[int, int]]:
    """Clause spans split at commas/semicolons and contrast words, never inside brackets."""
    spans: list[tuple[int, int]] = []
    depth, start = 0, 0
    breaks = {m.start(): m.end() for m in _CLAUSE_BREAK.finditer(text)}
    position = 0
    while position < len(text):
        char = text[position]
        depth += (char in "(（[") - (char in ")）]")
        if depth <= 0 and position in breaks and position > start:
            end = position
            if text[start:end].strip():
                spans.append((start, end))
            start = breaks[position]
            position = max(start, position + 1)
            continue
        position += 1
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans
