"""Answers from the real pipeline (multilingual-e5 + Chroma + BM25, calibrated ranker and gate) on the bundled corpus."""

import pytest

from qa import QuestionError

pytestmark = pytest.mark.integration

INITIAL_THERAPY = "jdm_treatment_review:0008:aa84229a"
INITIAL_THERAPY_ZH = "jdm_treatment_review:0016:1bb221a8"
AUTHOR_LINE = "jdm_treatment_review:0000:ae89f9f7"


def assert_citations_point_into_documents(assistant, answer):
    for citation in answer.citations:
        document = assistant.document(citation.doc_id)
        assert document.text[citation.start : citation.end] == citation.text
        assert citation.quote in citation.text
        assert f"[{citation.marker}]" in answer.text


def test_paraphrase_cites_the_sentence_that_answers(real_assistant):
    answer = real_assistant.ask("How do most children respond to their first treatment?")
    assert not answer.abstained
    assert answer.citations[0].text.startswith("Most patients do not fully respond to initial therapy")
    assert answer.citations[1].parallel_of == 1 and answer.citations[1].language == "zh"
    assert answer.text.startswith(answer.citations[0].quote)
    assert answer.prompt_version
    assert_citations_point_into_documents(real_assistant, answer)
    # The gate's probability behind the decision to answer, as the same search computes it.
    assert answer.confidence == round(real_assistant.retriever.search(answer.question).answerable, 4)


@pytest.mark.parametrize("question", ["Who won the 2022 World Cup?", "What is the capital of France?"])
def test_off_topic_questions_abstain_with_related_sentences_only(real_assistant, question):
    answer = real_assistant.ask(question)
    assert answer.abstained
    assert answer.text == "The source does not say."
    assert answer.confidence == round(real_assistant.retriever.search(question).answerable, 4)
    assert answer.citations == []
    assert all(r.doc_id == "jdm_treatment_review" for r in answer.related)


def test_chinese_question_answers_in_chinese_and_cites_the_translation(real_assistant):
    answer = real_assistant.ask("初始治疗通常包括哪些药物？")
    assert not answer.abstained and answer.language == "zh"
    assert [c.sentence_id for c in answer.citations] == [INITIAL_THERAPY_ZH, INITIAL_THERAPY]
    assert answer.citations[1].parallel_of == 1
    assert_citations_point_into_documents(real_assistant, answer)


def test_chinese_abstention_uses_the_chinese_phrase(real_assistant):
    answer = real_assistant.ask("谁赢得了2022年世界杯？")
    assert answer.abstained and answer.text == "来源中没有提及。"


def test_author_line_ranks_first_for_an_authorship_question(real_assistant):
    # The header line is embedded with its role ("Authors: Kim Hanna"), so no word list is needed to find it.
    assert real_assistant.retrieve("Who is the author?", top_k=1)[0].sentence_id == AUTHOR_LINE


def test_follow_up_is_answered_from_the_previous_question_or_alone(real_assistant):
    history = [
        {"role": "user", "content": "What is known about the pathogenesis?"},
        {"role": "assistant", "content": "Pathogenesis is not completely understood…"},
    ]
    answer = real_assistant.ask("And for refractory patients?", history=history)
    # Folded in only when that makes the question more answerable; either way the refractory clause answers.
    assert not answer.abstained
    assert answer.standalone_question in {"And for refractory patients?", "What is the usual first-line treatment? And for refractory patients?"}
    assert "refractory" in answer.citations[0].quote


def test_unrelated_question_after_another_stands_alone(real_assistant):
    history = [{"role": "user", "content": "How long should the bread bake?"}]
    answer = real_assistant.ask("How do most children respond to their first treatment?", history=history)
    assert answer.standalone_question == "How do most children respond to their first treatment?"


def test_ask_and_retrieve_rank_identically(real_assistant):
    question = "Which emerging options target B cells?"
    answer = real_assistant.ask(question)
    assert not answer.abstained
    top = real_assistant.retrieve(question, top_k=1)[0]
    assert top.sentence_id in {c.sentence_id for c in answer.citations[:2]}


def test_retriever_is_a_llama_index_retriever(real_assistant):
    from llama_index.core.base.base_retriever import BaseRetriever

    retriever = real_assistant.as_retriever()
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve("methotrexate and corticosteroids")
    assert nodes[0].node.node_id == INITIAL_THERAPY


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_bad_questions_raise_a_clear_error(real_assistant, question):
    with pytest.raises(QuestionError, match="question"):
        real_assistant.ask(question)
