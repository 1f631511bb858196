"""Answers from the real pipeline (MiniLM + Chroma + BM25) on the bundled corpus."""

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


def test_first_line_treatment_quotes_the_initial_therapy_clause(real_assistant):
    answer = real_assistant.ask("What is the usual first-line treatment?")
    assert not answer.abstained
    assert [c.sentence_id for c in answer.citations] == [INITIAL_THERAPY, INITIAL_THERAPY_ZH]
    first, parallel = answer.citations
    assert first.marker == 1 and first.language == "en"
    assert parallel.parallel_of == 1 and parallel.language == "zh"
    assert "corticosteroids" in first.quote and "methotrexate" in first.quote
    assert "refractory" not in first.quote  # trimmed to the clause that answers
    assert answer.text.startswith(first.quote)
    assert answer.prompt_version
    assert_citations_point_into_documents(real_assistant, answer)


@pytest.mark.parametrize(
    "question",
    [
        "What is the recommended methotrexate dose?",
        "Who won the 2022 World Cup?",
        "Why do most patients fully respond to initial therapy?",
        "Why is juvenile dermatomyositis so common in children?",
    ],
)
def test_unanswerable_questions_abstain_with_related_sentences_only(real_assistant, question):
    answer = real_assistant.ask(question)
    assert answer.abstained
    assert answer.text == "The source does not say."
    assert answer.citations == []


def test_abstention_lists_related_sentences_not_citations(real_assistant):
    answer = real_assistant.ask("What is the recommended methotrexate dose?")
    assert answer.related and answer.related[0].sentence_id == INITIAL_THERAPY


def test_chinese_question_answers_in_chinese_and_cites_the_translation(real_assistant):
    answer = real_assistant.ask("难治性患者的治疗指南有什么特点？")
    assert not answer.abstained and answer.language == "zh"
    assert [c.sentence_id for c in answer.citations] == [INITIAL_THERAPY_ZH, INITIAL_THERAPY]
    assert answer.citations[1].parallel_of == 1
    assert_citations_point_into_documents(real_assistant, answer)


def test_cross_lingual_metadata_question(real_assistant):
    answer = real_assistant.ask("这篇文章的DOI是多少?")
    assert not answer.abstained and answer.language == "zh"
    assert "10.1007/s40272-024-00658-2" in answer.citations[0].text
    assert answer.text.startswith("（以下为英文原文摘录）")


def test_chinese_abstention_uses_the_chinese_phrase(real_assistant):
    answer = real_assistant.ask("谁赢得了2022年世界杯？")
    assert answer.abstained and answer.text == "来源中没有提及。"


def test_who_wrote_this_cites_the_author_line(real_assistant):
    answer = real_assistant.ask("Who wrote this?")
    assert [c.sentence_id for c in answer.citations] == [AUTHOR_LINE]
    assert answer.citations[0].text == "Kim Hanna"


def test_typos_are_repaired_against_the_corpus(real_assistant):
    answer = real_assistant.ask("Who is the auther of this artcle?")
    assert answer.citations[0].sentence_id == AUTHOR_LINE
    assert "author" in answer.standalone_question


def test_follow_up_uses_the_previous_question(real_assistant):
    history = [
        {"role": "user", "content": "What is the usual first-line treatment?"},
        {"role": "assistant", "content": "While initial therapy is more standard…"},
    ]
    answer = real_assistant.ask("And for refractory patients?", history=history)
    assert not answer.abstained
    assert answer.standalone_question.startswith("What is the usual first-line treatment?")
    assert any("refractory" in c.text for c in answer.citations)


def test_multi_part_question_cites_each_part(real_assistant):
    answer = real_assistant.ask("What do most patients experience after initial therapy, and which emerging options target B cells?")
    cited = {c.sentence_id.split(":")[1] for c in answer.citations if c.parallel_of is None}
    assert {"0004", "0010"} <= cited


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
