"""The generative answerer with a scripted fake LLM: no model, no network.

The corpus here is made up (a bridge and its tolls, with a linked Chinese translation), so
nothing passes because of the bundled abstract's wording.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from llama_index.core.llms import CompletionResponse, CompletionResponseGen, CustomLLM, LLMMetadata

from eval.judge.base import SupportVerdict
from index.documents import Document, Sentence
from index.splitting import split_document
from prompts import PromptError, load_prompts, prompts
from qa.answerers import Evidence, Retrieval
from qa.generative import DraftText, GenerativeAnswerer
from qa.llm import LLMUnavailable, load_llm
from qa.settings import Settings
from qa.types import Answer, RelatedSentence
from qa.verify import Verifier, coverage_problem, locate

TEXT = (
    "The harbour bridge was opened to traffic in March 1932 after eight years of construction. "
    "Its steel arch spans 503 metres between the two granite pylons. "
    "Tolls were not charged to cyclists."
)


class ScriptedLLM(CustomLLM):
    """Replies with a fixed text (streamed in small pieces), or raises a fixed error."""

    reply: str = ""
    error: Any = None
    calls: list = []
    kwargs: list = []

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=False)

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.reply)

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        self.calls.append(prompt)
        self.kwargs.append(kwargs)
        if self.error is not None:
            raise self.error
        text = ""
        for start in range(0, len(self.reply), 7):
            delta = self.reply[start : start + 7]
            text += delta
            yield CompletionResponse(text=text, delta=delta)


class StubJudge:
    """Accepts (or rejects) everything it is asked; records what it saw."""

    name = "stub"

    def __init__(self, supported: bool = True) -> None:
        self.supported = supported
        self.seen: list[tuple[str, Sequence[str]]] = []

    def judge(self, claim: str, evidence: Sequence[str]) -> SupportVerdict:
        self.seen.append((claim, evidence))
        return SupportVerdict(supported=self.supported, score=0.9 if self.supported else 0.1, method="offline-scorer")


@pytest.fixture
def sentences() -> list[Sentence]:
    return split_document(Document(id="bridge", text=TEXT, title="Bridge"))


def _retrieval(sentences: list[Sentence], question: str, answerable: bool = True, language="en") -> Retrieval:
    evidence = [Evidence(s, None, relevance=0.9 - 0.1 * i) for i, s in enumerate(sentences)]
    return Retrieval(question=question, standalone=question, language=language, evidence=evidence, answerable=answerable)


class FixedAnswerer:
    """Stands in for the extractive answerer: a fixed answer, or the abstention when told the sources are silent."""

    name = "extractive"

    def answer(self, retrieval: Retrieval) -> Answer:
        if not retrieval.answerable:
            related = [RelatedSentence(sentence_id=e.sentence.id, doc_id=e.sentence.doc_id, text=e.sentence.text, start=e.sentence.start,
                                       end=e.sentence.end, score=e.relevance, language=e.sentence.language) for e in retrieval.evidence]
            return Answer(question=retrieval.question, text=prompts().get("abstain", "en"), abstained=True, related=related, language="en")
        return Answer(question=retrieval.question, text="(extractive answer)", abstained=False, language="en")


def _answerer(reply: str = "", error=None, judge=None, **settings) -> tuple[GenerativeAnswerer, ScriptedLLM]:
    llm = ScriptedLLM(reply=reply, error=error, calls=[], kwargs=[])
    answerer = GenerativeAnswerer(prompts(), Settings(**settings), Verifier(judge or StubJudge()), FixedAnswerer(), llm=llm)
    return answerer, llm


def _reply(*sentences: tuple[str, list[tuple[int, str]]]) -> str:
    return json.dumps({"sentences": [{"text": t, "citations": [{"marker": m, "quote": q} for m, q in c]} for t, c in sentences]})


QUESTION = "When did the bridge open and how long is its arch?"


def test_good_answer_is_shown_with_resolved_markers_and_exact_quotes(sentences):
    reply = _reply(
        ("The bridge opened to traffic in March 1932.", [(1, "opened to traffic in March 1932")]),
        ("Its steel arch spans 503 metres.", [(2, "steel  ARCH spans 503 metres")]),  # spacing and case differ
    )
    answerer, llm = _answerer(reply)
    answer = answerer.answer(_retrieval(sentences, QUESTION))
    assert not answer.abstained and not answer.fallback and not answer.notice
    assert answer.text == "The bridge opened to traffic in March 1932. [1]\nIts steel arch spans 503 metres. [2]"
    assert [s.verdict for s in answer.sentences] == ["shown", "shown"]
    assert [c.sentence_id for c in answer.citations] == [sentences[0].id, sentences[1].id]
    for citation in answer.citations:
        assert citation.quote in citation.text  # the source's own characters, not the model's
    quote = answer.sentences[1].quotes[0]
    assert TEXT[quote.start : quote.end] == "steel arch spans 503 metres"
    # The model may only cite the markers it was shown.
    schema = llm.kwargs[0]["response_format"]["json_schema"]["schema"]
    marker = schema["properties"]["sentences"]["items"]["properties"]["citations"]["items"]["properties"]["marker"]
    assert marker["enum"] == [1, 2, 3]


@pytest.mark.parametrize(
    ("sentence", "citations", "reason"),
    [
        ("The bridge opened in March 1932.", [(7, "opened to traffic in March 1932")], "not shown"),
        ("The bridge opened in March 1932.", [(1, "opened to the public in March 1932")], "is not in source [1]"),
        ("Its steel arch spans 530 metres.", [(2, "steel arch spans 503 metres")], "number(s) 530"),
        ("Tolls were charged to cyclists.", [(3, "Tolls were not charged to cyclists")], "negation"),
        ("The bridge opened in March 1932 under budget.", [(1, "opened to traffic in March 1932")], "budget"),
        ("The bridge opened in March 1932.", [], "cites no source"),
    ],
    ids=["wrong-marker", "invented-quote", "invented-number", "dropped-negation", "invented-word", "no-citation"],
)
def test_unbacked_sentence_is_dropped_and_recorded(sentences, sentence, citations, reason):
    good = ("Its steel arch spans 503 metres.", [(2, "steel arch spans 503 metres")])
    answerer, _ = _answerer(_reply(good, (sentence, citations)))
    answer = answerer.answer(_retrieval(sentences, QUESTION))
    assert answer.text == "Its steel arch spans 503 metres. [1]"
    dropped = answer.sentences[1]
    assert dropped.verdict == "dropped" and reason in dropped.reason and dropped.markers == []
    assert "1 sentence" in answer.notice


def test_nothing_verified_falls_back_to_the_extractive_answer(sentences):
    answerer, _ = _answerer(_reply(("The bridge cost 9 million.", [(1, "after eight years")])))
    answer = answerer.answer(_retrieval(sentences, QUESTION))
    assert answer.text == "(extractive answer)" and answer.fallback and answer.notice
    assert [s.verdict for s in answer.sentences] == ["dropped"]


def test_the_support_judge_has_the_last_word(sentences):
    judge = StubJudge(supported=False)
    answerer, _ = _answerer(_reply(("Its steel arch spans 503 metres.", [(2, "steel arch spans 503 metres")])), judge=judge)
    answer = answerer.answer(_retrieval(sentences, QUESTION))
    assert answer.fallback and "support judge" in answer.sentences[0].reason
    assert judge.seen == [("Its steel arch spans 503 metres.", [sentences[1].text])]  # the whole cited sentence


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        ("Sure! The bridge opened in 1932.", None, "not an answer in the asked JSON format"),
        ("", httpx.ReadTimeout("timed out"), "did not answer in time"),
        ('{"sentences": [{"text": "The bridge', None, "cut off"),
        ("", httpx.ConnectError("refused"), "cannot reach the model"),
    ],
    ids=["prose", "timeout", "truncated-json", "unreachable"],
)
def test_model_failures_fall_back_with_a_message(sentences, reply, error, message):
    answerer, _ = _answerer(reply, error=error)
    answer = answerer.answer(_retrieval(sentences, QUESTION))
    assert answer.text == "(extractive answer)" and message in answer.fallback
    assert answer.answerer == "generative" and answer.notice


def test_slow_model_is_cut_off_at_the_deadline(sentences):
    reply = _reply(("Its steel arch spans 503 metres.", [(2, "steel arch spans 503 metres")]))
    answerer, _ = _answerer(reply, llm_timeout_s=1e-9)
    answer = answerer.answer(_retrieval(sentences, QUESTION))
    assert "did not finish within" in answer.fallback


def test_silent_sources_abstain_without_asking_the_model(sentences):
    answerer, llm = _answerer(_reply(("Anything.", [(1, "opened")])))
    answer = answerer.answer(_retrieval(sentences, "How many cars cross it?", answerable=False))
    assert answer.abstained and llm.calls == [] and not answer.fallback


def test_the_models_abstention_is_the_abstention(sentences):
    phrase = prompts().get("abstain", "en").strip()
    answerer, llm = _answerer(_reply((phrase, [])))
    answer = answerer.answer(_retrieval(sentences, "How many cars cross it?"))
    assert answer.abstained and answer.text.strip() == phrase
    assert [r.sentence_id for r in answer.related] == [s.id for s in sentences]
    # The model was told that this phrase is a correct answer.
    assert phrase in llm.calls[0]


def test_stream_shows_the_draft_text_then_the_verified_answer(sentences):
    reply = _reply(("Its steel arch spans 503 metres.", [(2, "steel arch spans 503 metres")]), ("Made up 7.", [(1, "x")]))
    answerer, _ = _answerer(reply)
    items = list(answerer.stream(_retrieval(sentences, QUESTION)))
    drafts, final = items[:-1], items[-1]
    assert len(drafts) > 2 and all(isinstance(d, str) for d in drafts)
    assert "".join(drafts) == "Its steel arch spans 503 metres.\nMade up 7."  # no JSON syntax in the draft
    assert isinstance(final, Answer) and final.text == "Its steel arch spans 503 metres. [1]"


def test_draft_text_decodes_escapes_split_across_pieces():
    draft = DraftText()
    pieces = ['{"sentences":[{"text":"caf', "\\u00", 'e9 \\"x\\"', '","citations":[]},{"te', 'xt":"b"}]}']
    assert "".join(draft.feed(p) for p in pieces) == 'café "x"\nb'


def test_chinese_answer_is_checked_with_chinese_words():
    zh = split_document(Document(id="qiao", text="这座海港大桥历经八年建设，于1932年3月通车。钢拱跨越503米。", title="桥"))
    question = "这座桥什么时候通车？"
    good = ("这座桥于1932年3月通车。", [(1, "于1932年3月通车")])
    invented = ("大桥由政府免费开放。", [(1, "于1932年3月通车")])
    answerer, _ = _answerer(_reply(good, invented))
    answer = answerer.answer(_retrieval(zh, question, language="zh"))
    assert answer.text == "这座桥于1932年3月通车。[1]"  # no space before a marker in Chinese
    assert answer.sentences[1].verdict == "dropped" and "neither quoted" in answer.sentences[1].reason


def test_translation_is_cited_beside_the_sentence_the_model_saw():
    english = Sentence(id="b:0", doc_id="b", ordinal=0, text="The bridge opened in 1932.", start=0, end=26, language="en", parallel_id="q:0")
    chinese = Sentence(id="q:0", doc_id="q", ordinal=0, text="大桥于1932年通车。", start=0, end=11, language="zh", parallel_id="b:0")
    retrieval = Retrieval("大桥何时通车？", "大桥何时通车？", "zh", [Evidence(english, chinese, 0.9)], answerable=True)
    answerer, llm = _answerer(_reply(("大桥于1932年通车。", [(1, "大桥于1932年通车")])))
    answer = answerer.answer(retrieval)
    assert "[1] 大桥于1932年通车" in llm.calls[0]  # shown in the question's language
    assert [(c.marker, c.sentence_id, c.parallel_of) for c in answer.citations] == [(1, "q:0", None), (2, "b:0", 1)]
    assert answer.text.endswith("[1][2]")


def test_locate_finds_quotes_verbatim_only():
    text = "Treatment  with high-dose\nsteroids reduced relapse (p = 0.03)."
    assert locate("with high-dose steroids", text) == (11, 34)
    assert locate("treatment … reduced relapse", text) == (0, 50)
    assert locate("duced relapse", text) is None  # not a whole word
    assert locate("reduced relapses", text) is None
    assert locate("…", text) is None


def test_coverage_rules_are_general():
    question = "What reduced relapse?"
    assert coverage_problem("High-dose steroids reduced relapse.", ["high-dose steroids reduced relapse"], question) is None
    assert "number(s) .05 " in coverage_problem("Steroids reduced relapse (p = 0.05).", ["steroids reduced relapse (p = 0.03)"], question)
    assert coverage_problem("Steroids did not reduce relapse.", ["steroids reduced relapse"], question)
    # Words from the question may frame the answer, but not carry most of it.
    assert "question" in coverage_problem("Relapse was reduced by aspirin and steroids.", ["steroids"], "Was relapse reduced by aspirin?")


def test_missing_model_says_how_to_configure_one(sentences):
    with pytest.raises(LLMUnavailable, match="--llm-gguf PATH"):
        load_llm(Settings())
    answerer = GenerativeAnswerer(prompts(), Settings(), Verifier(StubJudge()), FixedAnswerer())
    answer = answerer.answer(_retrieval(sentences, QUESTION))
    assert answer.text == "(extractive answer)" and "--llm-url URL" in answer.fallback


def test_bad_model_file_is_named(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"not a model")
    with pytest.raises(LLMUnavailable, match="not a GGUF model file"):
        load_llm(Settings(llm_gguf=fake))
    with pytest.raises(LLMUnavailable, match="no such model file"):
        load_llm(Settings(llm_gguf=tmp_path / "missing.gguf"))


def test_examples_must_obey_the_quoting_rules(tmp_path):
    from prompts import PROMPTS_DIR

    shutil.copytree(PROMPTS_DIR, tmp_path / "prompts", ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "prompts" / "templates" / "en" / "generate_examples.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"steel arch spans 503 metres"', '"steel arch spans 530 metres"'), encoding="utf-8")
    with pytest.raises(PromptError, match="generate_examples.json: quote 'steel arch spans 530 metres'"):
        GenerativeAnswerer(load_prompts(tmp_path / "prompts"), Settings(), Verifier(StubJudge()), FixedAnswerer())
    (tmp_path / "prompts" / "data" / "answer_schema.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(PromptError, match="answer_schema.json: not valid JSON"):
        load_prompts(tmp_path / "prompts")


def test_assistant_chooses_the_answerer_by_settings_and_falls_back_without_a_model(hash_settings):
    from qa import Assistant

    assistant = Assistant(settings=hash_settings.model_copy(update={"answerer": "generative"}), include_bundled=True)
    extractive = assistant.using("extractive").ask("What is the usual first-line treatment?")
    answer = assistant.ask("What is the usual first-line treatment?")
    assert answer.answerer == "generative" and answer.text == extractive.text
    # Asked only when the sources hold an answer; then the missing model is named.
    assert ("--llm-gguf PATH" in answer.fallback) == (not answer.abstained)
    assert extractive.answerer == "extractive" and not extractive.fallback
