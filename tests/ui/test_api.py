"""The named `ask` endpoint, called through gradio_client against the running app."""

from __future__ import annotations

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from qa import Answer, Assistant, QuestionError

QUESTION = "What emerging treatment options are worth further study?"


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_only_ask_is_public(client: Client) -> None:
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]


def test_ask_returns_the_answer_with_its_citations(client: Client, ui_assistant: Assistant) -> None:
    result = client.predict(question=QUESTION, history=[], api_name="/ask")
    answer = Answer.model_validate(result)
    expected = ui_assistant.ask(QUESTION)
    assert (answer.text, answer.abstained, answer.language) == (expected.text, expected.abstained, expected.language)
    assert answer.citations == expected.citations
    for citation in answer.citations:
        assert ui_assistant.document(citation.doc_id).text[citation.start : citation.end] == citation.text
        assert f"[{citation.marker}]" in answer.text


def test_history_is_used_for_follow_ups(client: Client, ui_assistant: Assistant) -> None:
    # A follow-up the sources do not answer alone, folded into the previous question (qa/conversation.py).
    history = [{"role": "user", "content": "What is the initial therapy for JDM?"}, {"role": "assistant", "content": "…"}]
    result = client.predict(question="And the steroid part?", history=history, api_name="/ask")
    expected = ui_assistant.ask("And the steroid part?", history=history)
    assert result["standalone_question"] == expected.standalone_question != "And the steroid part?"


def test_an_empty_question_is_refused_with_the_reason(client: Client) -> None:
    with pytest.raises(AppError, match="empty"):
        client.predict(question="  ", history=[], api_name="/ask")


@pytest.mark.parametrize(
    ("question", "history", "message"),
    [
        (42, [], "must be text"),
        ("What is the dose?", [{"role": "system", "content": "x"}], "History message 0"),
        ("What is the dose?", "not a list", "history must be a list"),
    ],
)
def test_bad_input_is_refused_with_the_reason(client: Client, question, history, message) -> None:
    with pytest.raises(AppError, match=message):
        client.predict(question=question, history=history, api_name="/ask")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"data": ["\\ud800 what?", [], []]}', "The question contains an invalid character (U+D800"),
        ('{"data": ["What is the dose?", [{"role": "user", "content": "ok \\udfff"}], []]}', "History message 0 contains an invalid character"),
    ],
)
def test_lone_surrogates_are_refused_at_once(app_url: str, body: str, message: str) -> None:
    """Raw JSON (gradio_client cannot even send these): a clear error, not a traceback after embedding retries."""
    import httpx

    with httpx.Client(base_url=app_url, timeout=60) as http:
        event = http.post("/gradio_api/call/ask", content=body.encode(), headers={"content-type": "application/json"})
        assert event.status_code == 200, event.text
        stream = http.get(f"/gradio_api/call/ask/{event.json()['event_id']}").text
    assert "event: error" in stream and message in stream, stream


def test_qa_ask_uses_a_running_app(app_url: str, ui_assistant: Assistant, tmp_path) -> None:
    """What `qa ask` does when `qa serve` runs on the same index: one HTTP round trip, same answer."""
    import os
    from urllib.parse import urlparse

    from qa.serving import ServeRecord, announce, find_server, remote_ask

    settings = ui_assistant.settings.model_copy(update={"data_dir": tmp_path})
    announce(settings, "127.0.0.1", urlparse(app_url).port, auth=False)
    record = find_server(settings)
    assert record == ServeRecord("127.0.0.1", urlparse(app_url).port, os.getpid(), settings.collection, settings.embedding, False)
    answer = remote_ask(record, QUESTION)
    expected = ui_assistant.ask(QUESTION)
    assert (answer.text, answer.citations) == (expected.text, expected.citations)
    with pytest.raises(QuestionError, match="empty"):
        remote_ask(record, "   ")
    assert find_server(settings.model_copy(update={"collection": "another"})) is None
