"""The second stage: the cross-encoder re-reads the first stage's top candidates (with a scripted
fake here; the real adapter is exercised in tests/integration/test_reranker.py)."""

from __future__ import annotations

import dataclasses

import pytest

from qa.relevance import Logistic, RelevanceModel, Reranked, load_relevance_model
from qa.reranker import passage, reads_context, write_settings


class ScriptedReranker:
    """Scores a sentence by whether it holds a chosen word: the cross-encoder's role, scripted."""

    def __init__(self, word: str, context: bool = False) -> None:
        self.word = word
        self.context = context
        self.calls: list[tuple[str, int]] = []
        self.read: list[tuple[str, ...]] = []

    def scores(self, question, sentences):
        self.calls.append((question, len(sentences)))
        self.read += sentences
        return [5.0 if self.word in text.lower() else -5.0 for text, *_ in sentences]


def _model(plain_gate_bias: float, reranked_gate_bias: float) -> RelevanceModel:
    """The fitted first stage, with a second stage that follows the cross-encoder alone and gates
    that always (or never) answer, so the test can tell which gate decided."""
    base = load_relevance_model()
    languages = {}
    for language, entry in base.languages.items():
        languages[language] = dataclasses.replace(
            entry,
            gate=Logistic({}, plain_gate_bias),
            reranked=Reranked(Logistic({"first_stage": 0.0, "cross": 1.0}, 0.0), Logistic({}, reranked_gate_bias), 0.5),
        )
    return dataclasses.replace(base, version="test", languages=languages)


@pytest.fixture
def reranked(hash_assistant):
    retriever = hash_assistant.retriever
    first = retriever.search("What treatments are used for juvenile dermatomyositis?", top_k=50)
    # A candidate the first stage ranks low within the top six: the fake cross-encoder prefers it.
    target = first.hits[4].sentence
    word = max(target.text.lower().split(), key=len)
    assert sum(word in h.sentence.text.lower() for h in first.hits[:6]) == 1, "pick a word unique to the target"
    retriever._reranker = ScriptedReranker(word)
    retriever._rerank_top = 6
    retriever._model = _model(plain_gate_bias=-50.0, reranked_gate_bias=50.0)
    return retriever, first, target


def test_the_cross_encoder_reorders_the_first_stage_top(reranked):
    retriever, first, target = reranked
    ranking = retriever.search(first.query, top_k=50)
    assert ranking.hits[0].sentence.id == target.id
    assert ranking.hits[0].features["cross"] == 5.0
    assert retriever._reranker.calls == [(first.query, 6)]
    # Only the top six were re-read (the bundled abstract is one document, its translation
    # included: a library of one language); the rest keep their first-stage order, below them.
    assert [h.sentence.id for h in ranking.hits[6:]] == [h.sentence.id for h in first.hits[6:]]
    relevances = [h.relevance for h in ranking.hits]
    assert relevances == sorted(relevances, reverse=True)


def test_the_reranked_gate_decides(reranked):
    retriever, first, _ = reranked
    assert retriever.search(first.query).answer  # the reranked gate answers; the plain one never would
    retriever._reranker = None
    assert not retriever.search(first.query).answer


def test_reranking_is_off_with_another_embedder(hash_assistant):
    assert hash_assistant.retriever._reranker is None


def test_a_context_reading_reranker_gets_each_candidates_preceding_sentence(reranked):
    retriever, first, target = reranked
    retriever._reranker.context = True
    ranking = retriever.search(first.query, top_k=50)
    assert ranking.hits[0].sentence.id == target.id
    catalog = retriever._catalog
    for text, section, before in retriever._reranker.read:
        sentence = next(h.sentence for h in first.hits[:6] if h.sentence.text == text)
        previous = catalog.of_document(sentence.doc_id)[sentence.ordinal - 1] if sentence.ordinal else None
        assert before == (previous.text if previous is not None and previous.language == sentence.language else "")
    assert any(before for *_, before in retriever._reranker.read)


def test_the_preceding_sentence_follows_the_candidate_so_truncation_cuts_it_first():
    assert passage("It fell.", "Prices") == "passage: Prices: It fell."
    assert passage("It fell.", "", "Oil rose.") == "passage: It fell. (context: Oil rose.)"
    assert passage("It fell.", "Prices", "") == passage("It fell.", "Prices")


def test_the_adapter_says_whether_it_reads_context(tmp_path):
    assert not reads_context(tmp_path)  # adapters fitted before the option read none
    write_settings(tmp_path, context=False)
    assert not reads_context(tmp_path)
    write_settings(tmp_path, context=True)
    assert reads_context(tmp_path)


def test_each_candidate_says_whether_it_is_in_another_language_and_the_gate_reads_the_best_ones(hash_assistant):
    # The bundled corpus holds each sentence in English and Chinese: an English question meets both.
    ranking = hash_assistant.retriever.search("What treatments are used for juvenile dermatomyositis?", top_k=50)
    flags = {h.sentence.language: h.features["other_language"] for h in ranking.hits}
    assert flags == {"en": 0.0, "zh": 1.0}
    assert ranking.question_features["top_other_language"] == ranking.hits[0].features["other_language"]


def _skipping(retriever, skip_above: float) -> None:
    model = retriever._model
    retriever._model = dataclasses.replace(
        model,
        version="test",
        languages={lang: dataclasses.replace(e, reranked=dataclasses.replace(e.reranked, skip_above=skip_above)) for lang, e in model.languages.items()},
    )


def test_a_sure_first_stage_skips_the_cross_encoder_and_its_gate_decides(reranked):
    retriever, first, _ = reranked
    _skipping(retriever, skip_above=first.hits[0].relevance)
    ranking = retriever.search(first.query, top_k=50)
    assert retriever._reranker.calls == []
    assert not ranking.reranked
    assert [h.sentence.id for h in ranking.hits] == [h.sentence.id for h in first.hits]
    assert not ranking.answer  # the plain gate (never answers) decided, not the reranked one


def test_an_unsure_first_stage_is_reranked(reranked):
    retriever, first, target = reranked
    _skipping(retriever, skip_above=min(1.0, first.hits[0].relevance + 1e-6))
    ranking = retriever.search(first.query, top_k=50)
    assert ranking.reranked and ranking.answer
    assert ranking.hits[0].sentence.id == target.id


def test_rerank_always_reads_every_question(reranked):
    retriever, first, target = reranked
    _skipping(retriever, skip_above=0.0)
    retriever._rerank_always = True
    ranking = retriever.search(first.query, top_k=50)
    assert ranking.reranked and ranking.hits[0].sentence.id == target.id


def test_the_shipped_model_skips_above_a_fitted_probability():
    for language in ("en", "zh"):
        second = load_relevance_model().languages[language].reranked
        assert second is not None and second.skip_above is not None and 0.5 <= second.skip_above < 1.0


def test_in_a_library_of_two_languages_the_best_candidate_of_the_language_the_top_lacks_is_read_too(tmp_path):
    from qa import Assistant
    from qa.settings import Settings
    from tests.qa.libraries import CHINESE_REPORT, english_reports

    assistant = Assistant(settings=Settings(data_dir=tmp_path / "index", embedding="hash", show_progress=False), include_bundled=False)
    assistant.ingest([*english_reports(4, subjects=1), CHINESE_REPORT])
    retriever = assistant.retriever
    first = retriever.search("When was the northern channel dredged?", top_k=50)
    assert [h.sentence.language for h in first.hits[:3]] == ["en"] * 3
    other = next(h for h in first.hits if h.sentence.language == "zh")
    retriever._reranker = ScriptedReranker("港务局")
    retriever._rerank_top = 3
    retriever._model = _model(plain_gate_bias=-50.0, reranked_gate_bias=50.0)

    ranking = retriever.search(first.query, top_k=50)

    assert retriever._reranker.calls == [(first.query, 4)]
    assert ranking.hits[0].sentence.id == other.sentence.id  # the cross-encoder preferred it
    assert [h.sentence.id for h in ranking.hits if h.features.get("language_best")] == [other.sentence.id]
    rest = [h.sentence.id for h in first.hits[3:] if h.sentence.id != other.sentence.id]
    assert [h.sentence.id for h in ranking.hits[4:]] == rest
