"""Passage first, then the sentence: the document stage multiplies each candidate's ranker
probability by its document's (qa.relevance.with_documents)."""

from __future__ import annotations

from qa.relevance import DOCUMENT_FEATURES, Logistic, document_features, load_relevance_model, with_documents


def _features(bm25_document: float) -> dict[str, float]:
    return {"cover_document": 0.5, "bm25_document": bm25_document}


def test_without_a_stage_the_ranker_orders_alone():
    assert with_documents([0.9, 0.2], ["a", "b"], [_features(0.1), _features(1.0)], None) == [0.9, 0.2]


def test_a_sentence_of_the_stronger_document_overtakes_a_slightly_better_one_of_a_weaker_document():
    stage = Logistic({"bm25_document": 8.0}, -4.0)  # a document the question's terms fill is likely
    relevance = [0.80, 0.70, 0.30]
    documents = ["weak", "strong", "strong"]
    features = [_features(0.1), _features(1.0), _features(1.0)]
    combined = with_documents(relevance, documents, features, stage)
    assert combined[1] > combined[0]
    # Within one document the ranker's order stands, and each document is judged by its best sentence.
    assert combined[1] / combined[2] == relevance[1] / relevance[2]
    assert combined[1] == 0.70 * stage.probability(document_features(0.70, features[1]))


def test_the_document_features_come_from_the_best_candidate():
    values = document_features(0.5, {**_features(0.3), "cos": 0.9})
    assert tuple(values) == DOCUMENT_FEATURES and values["best_logit"] == 0.0 and values["bm25_document"] == 0.3


def test_the_shipped_model_has_a_document_stage_per_language():
    for language in ("en", "zh"):
        assert load_relevance_model().languages[language].document is not None
