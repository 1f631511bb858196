"""Fuzzed questions, histories and files through the Python API: an answer or a clear error, never
a traceback; after an error the index is exactly as it was.

1,000 examples in all, quick with the hash embedder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.loaders import DocumentError
from qa.assistant import Assistant
from qa.settings import Settings
from qa.types import Answer, QuestionError

# Any code point, lone surrogates included (Hypothesis leaves them out of text() by default).
ANY_CHARACTER = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
WORDS = st.sampled_from(["rituximab", "dose", "JDM", "皮肌炎", "treatment", "?", "\u200b", "\ud800", "NaN", " ", "\x00"])
TEXT = st.one_of(
    st.text(ANY_CHARACTER, max_size=40),
    st.lists(WORDS, max_size=12).map(" ".join),
    st.text(max_size=3000).filter(lambda t: len(t) > 1990),  # around the length limit
)
QUESTION = st.one_of(TEXT, st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=2), st.floats())
TURN = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": TEXT}),
    st.fixed_dictionaries({"role": st.one_of(st.text(max_size=8), st.integers()), "content": st.one_of(TEXT, st.integers(), st.none())}),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
    st.text(max_size=8),
    st.integers(),
)
HISTORY = st.one_of(st.none(), st.lists(TURN, max_size=4), st.text(max_size=10), st.integers(), st.dictionaries(st.text(max_size=3), st.text(max_size=3)))



def fast(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    data_dir = tmp_path_factory.mktemp("fuzz-index")
    return Assistant(settings=Settings(data_dir=data_dir, embedding="hash", show_progress=False), include_bundled=True)


def snapshot(assistant: Assistant) -> tuple:
    return assistant.index.count(), assistant.index.document_hashes(), assistant.index.revision()


def check_answer(assistant: Assistant, answer: Answer) -> None:
    assert isinstance(answer, Answer) and answer.text
    for citation in answer.citations:
        assert assistant.document(citation.doc_id).text[citation.start : citation.end] == citation.text


@fast(550)
@given(question=QUESTION)
def test_fuzzed_questions(assistant: Assistant, question: object) -> None:
    try:
        answer = assistant.ask(question)  # type: ignore[arg-type]
    except QuestionError as error:
        assert str(error)
        return
    check_answer(assistant, answer)


@fast(300)
@given(history=HISTORY)
def test_fuzzed_histories(assistant: Assistant, history: object) -> None:
    try:
        answer = assistant.ask("What is the usual first-line treatment?", history=history)  # type: ignore[arg-type]
    except QuestionError as error:
        assert "istory" in str(error)
        return
    check_answer(assistant, answer)


SCALAR = st.one_of(st.text(ANY_CHARACTER, max_size=20), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none())
JSON_VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(ANY_CHARACTER, max_size=5), inner, max_size=3)), max_leaves=8)
RECORD = st.fixed_dictionaries(
    {"id": st.one_of(st.text(ANY_CHARACTER, min_size=1, max_size=12), st.integers()), "text": st.one_of(TEXT, st.integers(), st.none())},
    optional={"title": st.one_of(st.text(ANY_CHARACTER, max_size=12), st.integers()), "metadata": st.one_of(JSON_VALUE, st.dictionaries(st.sampled_from(["authors", "year", "doi", "journal", "score"]), JSON_VALUE, max_size=3))},
)


def jsonl_line(record: object) -> str:
    # allow_nan writes NaN/Infinity as JSON does not allow, as a careless exporter would;
    # ensure_ascii writes lone surrogates as \ud800 escapes.
    return json.dumps(record, allow_nan=True)


@fast(150)
@given(records=st.lists(RECORD, min_size=1, max_size=4), suffix=st.sampled_from([".jsonl", ".txt"]))
def test_fuzzed_files(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory, records: list[dict], suffix: str) -> None:
    path = tmp_path_factory.mktemp("fuzz-file") / f"upload{suffix}"
    if suffix == ".jsonl":
        path.write_text("\n".join(jsonl_line(r) for r in records) + "\n", encoding="utf-8")
    else:
        text = str(records[0].get("text"))
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
    before = snapshot(assistant)
    try:
        report = assistant.add_documents([path], show_progress=False)
    except DocumentError as error:
        assert str(path.name) in str(error)
        assert snapshot(assistant) == before
        return
    for doc_id in report.added + report.replaced:
        document = assistant.document(doc_id)
        sentences = assistant.catalog.of_document(doc_id)
        assert sentences and all(document.text[s.start : s.end] == s.text for s in sentences)
    added = [doc_id for doc_id in report.added if doc_id != "jdm_treatment_review"]
    if added:
        assistant.remove_documents(added)
