"""What a question asks for: a number, and whether the sentence the gate reads holds one (qa.answer_type)."""

import dataclasses

import numpy as np
import pytest

from qa.answer_type import NumericQuestion, has_numeral
from qa.relevance import gate_features, load_relevance_model


@pytest.mark.parametrize(
    "text",
    ["It opened in 1998.", "About twenty percent responded.", "Hundreds attended.", "治疗持续两年。", "共有３５名患者。", "A dose of 15 mg/m2 weekly."],
)
def test_numerals_are_found_as_digits_or_number_words_of_either_language(text):
    assert has_numeral(text)


@pytest.mark.parametrize("text", ["One of the treatments is methotrexate.", "这些药物一起使用。", "The someone said nothing.", ""])
def test_pronoun_one_common_chinese_yi_and_words_containing_number_words_are_not_numerals(text):
    assert not has_numeral(text)


def test_the_numeric_question_probability_reads_the_unit_length_query_vector():
    model = NumericQuestion(np.array([4.0, 0.0]), 0.0)
    assert model.probability([10.0, 0.0]) == pytest.approx(model.probability([1.0, 0.0]))
    assert model.probability([1.0, 0.0]) > 0.95 and model.probability([-1.0, 0.0]) < 0.05


def test_the_gate_reads_the_numeric_probability_only_when_its_best_candidate_holds_no_numeral():
    top = {"cos": 0.8, "cover_context": 0.5, "other_language": 0.0}
    assert gate_features(0.9, top, 0.8, numeric=0.7, top_numeral=False)["numeral_missing"] == 0.7
    assert gate_features(0.9, top, 0.8, numeric=0.7, top_numeral=True)["numeral_missing"] == 0.0


def test_the_fitted_numeric_model_serves_only_the_embedder_it_was_fitted_on():
    model = load_relevance_model()
    assert model.numeric_for(model.embedding) is model.numeric
    assert model.numeric_for("minilm") is None
    assert len(dataclasses.replace(model).numeric.weights) == 384  # multilingual-e5-small's vectors


def test_a_question_through_another_embedder_gives_the_gate_no_numeric_evidence(hash_assistant):
    ranking = hash_assistant.retriever.search("How many children have juvenile dermatomyositis?")
    assert ranking.question_features["numeral_missing"] == 0.0
