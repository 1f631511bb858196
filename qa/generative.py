"""The generative answerer: an LLM writes the answer, and only verified sentences are shown.

The model sees the retrieved sentences under markers [1]…[k] and must reply in a JSON schema:
a list of answer sentences, each with the markers it rests on and, per marker, a short verbatim
quote from that sentence (`prompts/data/answer_schema.json`, the allowed markers filled in per
question). citeqa resolves the markers to sentence IDs and offsets itself, and `qa.verify`
checks every sentence before it is shown. When retrieval finds the sources silent the model is
not asked at all; when the model is unavailable, times out, writes malformed JSON, or none of
its sentences survives, the extractive answer is shown instead, with the reason recorded.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError

from index.documents import Sentence
from prompts import PROMPTS_DIR, PromptError, PromptSet
from qa.answerers import Answerer, Evidence, Retrieval
# One way to turn a sentence into a Citation, shared with the extractive answerer.
from qa.answering import cite, confidence
from qa.llm import LLMFailure, LLMUnavailable, load_llm, stream_chat
from qa.settings import Settings
from qa.types import Answer, AnswerSentence, Citation, QuoteCheck
from qa.verify import Claim, Verdict, Verifier, locate

if TYPE_CHECKING:
    from llama_index.core.llms import LLM, ChatMessage

log = logging.getLogger(__name__)

# "[1]", "[1, 2]", "[1][2]": markers the model put into its own text; citeqa places them itself.
_MARKERS_IN_TEXT = re.compile(r"\s*\[\d+(?:\s*[,，]\s*\d+)*\]")
# The opening of each "text" string in the reply, and the (possibly unfinished) string after it.
_TEXT_FIELD = re.compile(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)(")?', re.DOTALL)


class DraftCitation(BaseModel):
    marker: int
    quote: str


class DraftSentence(BaseModel):
    text: str
    citations: list[DraftCitation] = Field(default_factory=list)


class ModelReply(BaseModel):
    """What the model must write (the JSON schema in prompts/data/answer_schema.json)."""

    sentences: list[DraftSentence]


class MalformedReply(ValueError):
    """The model's reply is not JSON of the asked shape."""


def parse_reply(raw: str) -> ModelReply:
    try:
        return ModelReply.model_validate_json(raw.strip())
    except ValidationError as error:
        first = error.errors()[0]
        if "EOF" in first["msg"]:
            raise MalformedReply(f"the model's reply was cut off before its JSON ended (raise Settings.llm_max_tokens); it began {raw.strip()[:80]!r}") from None
        raise MalformedReply(
            f"the model's reply is not an answer in the asked JSON format ({first['msg']} at "
            f"{'.'.join(map(str, first['loc'])) or 'top level'}; reply began {raw.strip()[:80]!r})"
        ) from None


class DraftText:
    """The answer sentences' text, read out of the JSON reply while it streams in."""

    def __init__(self) -> None:
        self._raw = ""
        self._shown = ""

    def feed(self, delta: str) -> str:
        """Add a piece of the reply; returns the text newly readable in it (may be empty)."""
        self._raw += delta
        texts = [_decode_partial(match.group(1)) for match in _TEXT_FIELD.finditer(self._raw)]
        draft = "\n".join(texts)
        if not draft.startswith(self._shown):  # never happens with valid JSON; show nothing odd
            return ""
        new, self._shown = draft[len(self._shown) :], draft
        return new


def _decode_partial(body: str) -> str:
    # A string cut mid-escape ("\u00" or a lone "\") is decoded up to the escape.
    for cut in range(len(body), max(-1, len(body) - 7), -1):
        try:
            return json.loads(f'"{body[:cut]}"')
        except json.JSONDecodeError:
            continue
    return ""


def _same_phrase(a: str, b: str) -> bool:
    fold = lambda text: re.sub(r"[\W_]+", "", text.casefold())  # noqa: E731
    return fold(a) == fold(b)


class GenerativeAnswerer:
    """`Answerer` and `StreamingAnswerer`: a model writes, `Verifier` decides what is shown.

    `llm` is a llama-index `LLM`, or None to build the configured one (`qa.llm.load_llm`) on the
    first question, so a missing model shows up as a fallback note rather than at start-up.
    `fallback` (the extractive answerer) answers when the model cannot, and abstains for it.
    """

    name = "generative"

    def __init__(
        self,
        prompts: PromptSet,
        settings: Settings,
        verifier: Verifier,
        fallback: Answerer,
        llm: LLM | None = None,
    ) -> None:
        self._prompts = prompts
        self._settings = settings
        self._verifier = verifier
        self._llm = llm
        self._fallback = fallback
        self._schema = prompts.get_data("answer_schema")
        for language in ("en", "zh"):
            self._check_examples(language)

    # --- prompts ---------------------------------------------------------------------------

    def _examples(self, language: str) -> list[tuple[list[str], str, ModelReply]]:
        data = self._prompts.get_data("generate_examples", language)
        try:
            return [(list(e["evidence"]), str(e["question"]), ModelReply.model_validate(e["answer"])) for e in data["examples"]]
        except (KeyError, TypeError, ValidationError) as error:
            raise PromptError(f"{PROMPTS_DIR}/templates/{language}/generate_examples.json: malformed example ({error}).") from None

    def _check_examples(self, language: str) -> None:
        """The worked examples must obey the rules the model is held to."""
        path = f"{PROMPTS_DIR}/templates/{language}/generate_examples.json"
        abstain = self._prompts.get("abstain", language).strip()
        for evidence, _, reply in self._examples(language):
            for sentence in reply.sentences:
                if not sentence.citations and not _same_phrase(sentence.text, abstain):
                    raise PromptError(f"{path}: {sentence.text!r} cites nothing and is not the abstention phrase {abstain!r}.")
                for citation in sentence.citations:
                    if not 1 <= citation.marker <= len(evidence) or locate(citation.quote, evidence[citation.marker - 1]) is None:
                        raise PromptError(f"{path}: quote {citation.quote!r} is not in example source [{citation.marker}].")

    def messages(self, retrieval: Retrieval, shown: dict[int, Sentence]) -> list[ChatMessage]:
        from llama_index.core.llms import ChatMessage

        language = retrieval.language
        abstain = self._prompts.get("abstain", language).strip()
        messages = [ChatMessage(role="system", content=self._prompts.render("generate_system", language, abstain=abstain))]
        # Fixed text first and the question last: llama.cpp reuses the cached prefix across questions.
        for evidence, question, reply in self._examples(language):
            messages.append(ChatMessage(role="user", content=self._user(language, evidence, question)))
            messages.append(ChatMessage(role="assistant", content=reply.model_dump_json()))
        texts = [shown[marker].text for marker in sorted(shown)]
        messages.append(ChatMessage(role="user", content=self._user(language, texts, retrieval.standalone or retrieval.question)))
        return messages

    def _user(self, language: str, evidence: list[str], question: str) -> str:
        numbered = "\n".join(f"[{n}] {' '.join(text.split())}" for n, text in enumerate(evidence, 1))
        return self._prompts.render("generate_user", language, evidence=numbered, question=question)

    def schema(self, markers: list[int]) -> dict:
        """The answer schema with the markers of this question as the only ones allowed."""
        schema = copy.deepcopy(self._schema)
        citation = schema["properties"]["sentences"]["items"]["properties"]["citations"]["items"]
        citation["properties"]["marker"]["enum"] = markers
        return schema

    # --- answering -------------------------------------------------------------------------

    def answer(self, retrieval: Retrieval) -> Answer:
        """The verified answer."""
        final: Answer | None = None
        for item in self.stream(retrieval):
            if isinstance(item, Answer):
                final = item
        assert final is not None  # stream always ends with the answer
        return final

    def stream(self, retrieval: Retrieval) -> Iterator[str | Answer]:
        """Draft text as the model writes it, then the verified `Answer` last."""
        if not retrieval.answerable:
            # The sources are silent: the model is not asked (it rarely declines on its own).
            yield self._fall_back(retrieval, "")
            return
        shown = self._shown(retrieval.evidence[: self._settings.llm_evidence], retrieval)
        try:
            reply = yield from self._generate(retrieval, shown)
        except (LLMUnavailable, LLMFailure, MalformedReply) as error:
            log.info("generative answer failed, showing the extractive answer: %s", error)  # also in Answer.fallback
            yield self._fall_back(retrieval, str(error))
            return
        yield self._compose(retrieval, shown, reply)

    def _generate(self, retrieval: Retrieval, shown: dict[int, Sentence]) -> Iterator[str]:
        if self._llm is None:
            self._llm = load_llm(self._settings)
        deadline = time.monotonic() + self._settings.llm_timeout_s
        draft, raw = DraftText(), []
        for delta in stream_chat(self._llm, self.messages(retrieval, shown), self.schema(sorted(shown))):
            raw.append(delta)
            new = draft.feed(delta)
            if new:
                yield new
            # The client's timeout bounds each wait for a token; this bounds the whole answer.
            if time.monotonic() > deadline:
                raise LLMFailure(f"the model did not finish within {self._settings.llm_timeout_s:g} s (--llm-timeout)")
        return parse_reply("".join(raw))

    def _shown(self, evidence: list[Evidence], retrieval: Retrieval) -> dict[int, Sentence]:
        """Marker → the sentence the model sees: the one in the question's language when a translation is linked."""
        shown = {}
        for marker, item in enumerate(evidence, 1):
            sentence = item.sentence
            if item.parallel is not None and sentence.language != retrieval.language and item.parallel.language == retrieval.language:
                sentence = item.parallel
            shown[marker] = sentence
        return shown

    def _compose(self, retrieval: Retrieval, shown: dict[int, Sentence], reply: ModelReply) -> Answer:
        language = retrieval.language
        abstain = self._prompts.get("abstain", language).strip()
        drafts = [s for s in reply.sentences if not _same_phrase(s.text, abstain)]
        if not drafts:
            # The model found the sources silent: the same abstention (with related sentences) as the fallback's.
            return self._fall_back(dataclasses.replace(retrieval, answerable=False), "")
        claims = [Claim(_MARKERS_IN_TEXT.sub("", d.text).strip(), tuple((c.marker, c.quote) for c in d.citations)) for d in drafts]
        verdicts = self._verifier.verify(claims, shown, question=f"{retrieval.question}\n{retrieval.standalone}")
        kept = [v for v in verdicts if v.shown]
        if not kept:
            fallback = self._fall_back(retrieval, "no sentence of the written answer passed verification")
            return fallback.model_copy(update={"sentences": [self._record(v, {}) for v in verdicts]})
        by_evidence = {m: item for m, item in enumerate(retrieval.evidence[: self._settings.llm_evidence], 1)}
        citations: list[Citation] = []
        final: dict[int, list[int]] = {}  # model marker → the answer's marker(s), translation included
        lines = []
        for verdict in kept:
            for quote in verdict.quotes:
                if quote.marker not in final:
                    spans = [q.span for q in verdict.quotes if q.marker == quote.marker and q.span]
                    final[quote.marker] = self._cite(citations, by_evidence[quote.marker], shown[quote.marker], spans)
            markers = [n for marker in dict.fromkeys(q.marker for q in verdict.quotes) for n in final[marker]]
            gap = " " if language == "en" else ""
            lines.append(verdict.claim.text + gap + "".join(f"[{n}]" for n in markers))
        dropped = len(verdicts) - len(kept)
        return Answer(
            question=retrieval.question,
            text="\n".join(lines),
            abstained=False,
            citations=citations,
            language=language,
            confidence=confidence(retrieval),
            standalone_question=retrieval.standalone,
            prompt_version=self._prompts.version,
            answerer=self.name,
            sentences=[self._record(v, final) for v in verdicts],
            notice=self._prompts.render("verification_removed", language, count=str(dropped)).strip() if dropped else "",
        )

    @staticmethod
    def _cite(citations: list[Citation], evidence: Evidence, sentence: Sentence, spans: list[tuple[int, int]]) -> list[int]:
        """Add the citation (and its linked translation) for one shown sentence; its quote is the
        longest one the answer takes from it. Returns the markers."""
        start, end = max(spans, key=lambda span: span[1] - span[0])
        marker = len(citations) + 1
        citations.append(cite(sentence, marker, evidence.relevance, sentence.text[start:end]))
        other = evidence.parallel if sentence.id == evidence.sentence.id else evidence.sentence
        if other is None:
            return [marker]
        citations.append(cite(other, marker + 1, evidence.relevance, other.text, parallel_of=marker))
        return [marker, marker + 1]

    @staticmethod
    def _record(verdict: Verdict, final: dict[int, list[int]]) -> AnswerSentence:
        quotes = [
            QuoteCheck(
                sentence_id=q.sentence.id if q.sentence else None,
                quote=q.quote,
                start=q.sentence.start + q.span[0] if q.sentence and q.span else None,
                end=q.sentence.start + q.span[1] if q.sentence and q.span else None,
            )
            for q in verdict.quotes
        ]
        markers = [n for marker in dict.fromkeys(q.marker for q in verdict.quotes) for n in final.get(marker, [])] if verdict.shown else []
        return AnswerSentence(
            text=verdict.claim.text,
            markers=markers,
            quotes=quotes,
            verdict="shown" if verdict.shown else "dropped",
            reason=verdict.reason,
            support=verdict.support,
        )

    def _fall_back(self, retrieval: Retrieval, reason: str) -> Answer:
        """The fallback's answer (an abstention when the sources are silent), marked with why."""
        answer = self._fallback.answer(retrieval)
        notice = self._prompts.get("generation_fallback", retrieval.language).strip() if reason and not answer.abstained else ""
        return answer.model_copy(update={"answerer": self.name, "fallback": reason, "notice": notice})
