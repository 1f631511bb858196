"""A reader's own short report, in English (written for this test: neither the bundled abstract
nor the data the models were fitted on). The gate was fitted on large collections; it must not
read "most of this question's words are not in the collection" as "off-topic" when the collection
is six sentences long (qa.relevance.QUESTION_FEATURES), and unrelated questions, in English or
Chinese, must still be refused."""

from __future__ import annotations

import pytest

from index.documents import Document

pytestmark = pytest.mark.integration

REPORT = """The renovation of the Kalamaja branch library in Tallinn took eleven months and reopened in October 2023.
Visitor numbers rose by 48 percent in the first quarter after reopening.
The new reading room seats ninety people.

A leaking roof delayed the work by six weeks in the spring.

The city will renovate two more branches in 2025, paid for by a European regional grant.
"""
ANSWERED = {
    "How much did visitor numbers rise?": "48 percent",
    "How long did the renovation take?": "eleven months",
    "What delayed the work?": "leaking roof",
}
# Not yet: Chinese questions about this English report ("访客人数增加了多少?") abstain, and not only
# at the gate: across languages in so small a collection the cross-encoder ranks another sentence
# first (issue 8's closing note, 2026-11-27).


@pytest.fixture(scope="module")
def report_assistant(tmp_path_factory):
    from qa import Assistant, Settings

    assistant = Assistant(settings=Settings(data_dir=tmp_path_factory.mktemp("report"), show_progress=False), include_bundled=False)
    assistant.add_documents([Document(id="library", text=REPORT)], show_progress=False)
    return assistant


@pytest.mark.parametrize(("question", "answer"), ANSWERED.items())
def test_a_question_about_a_short_report_is_answered_from_the_right_sentence(report_assistant, question, answer):
    result = report_assistant.ask(question)
    assert not result.abstained, question
    assert answer in result.citations[0].text


@pytest.mark.parametrize("question", ["What is the capital of France?", "法国的首都是哪里?"])
def test_an_unrelated_question_still_abstains(report_assistant, question):
    assert report_assistant.ask(question).abstained
