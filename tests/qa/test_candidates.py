"""Which sentences the ranker sees (qa.retrieval: the vector search per language, BM25, neighbours)."""

from __future__ import annotations

from index.documents import Document
from qa import Assistant
from qa.settings import Settings
from tests.qa.libraries import CHINESE_REPORT, english_reports


def test_each_language_of_the_library_brings_its_nearest_sentences(tmp_path):
    # Many English documents and one Chinese one: a mixed vector search of three would return
    # English sentences only; searched per language, the Chinese report's nearest come too.
    settings = Settings(data_dir=tmp_path / "index", embedding="hash", show_progress=False, dense_top_k=3)
    assistant = Assistant(settings=settings, include_bundled=False)
    assistant.ingest([*english_reports(8), CHINESE_REPORT])

    ranking = assistant.retriever.search("When was the northern channel dredged?", top_k=100)

    found = sorted((h for h in ranking.hits if h.features["dense_rank"] > 0), key=lambda h: -h.features["dense_rank"])
    assert sorted(h.sentence.language for h in found) == ["en"] * 3 + ["zh"] * 3
    # Ranked by similarity across languages, as one mixed search would rank them.
    cosines = [h.features["cos"] for h in found]
    assert cosines == sorted(cosines, reverse=True)


def test_a_library_in_one_language_is_searched_once(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path / "index", embedding="hash", show_progress=False)
    assistant = Assistant(settings=settings, include_bundled=False)
    assistant.ingest(english_reports(4))
    store = type(assistant.retriever._index.vector_store)
    queries = []
    real = store.query
    monkeypatch.setattr(store, "query", lambda self, query, **kw: queries.append(query) or real(self, query, **kw))

    assistant.retriever.search("When was the northern channel dredged?")

    assert len(queries) == 1 and queries[0].filters is None


def test_the_languages_of_a_library_are_those_its_documents_are_mostly_written_in(tmp_path):
    settings = Settings(data_dir=tmp_path / "index", embedding="hash", show_progress=False)
    assistant = Assistant(settings=settings, include_bundled=False)
    # A Chinese report with one English line is still a Chinese document.
    assistant.ingest([Document(id="zh-report", text="港务局在去年疏浚了北航道。\n\nThe report was checked by the board of directors in March 2025.\n\n渡轮现在停靠新码头。货运量保持稳定。")])
    assert {s.language for s in assistant.catalog.sentences} == {"en", "zh"}
    assert assistant.catalog.languages == ["zh"]
    assistant.ingest(english_reports(1))
    assert assistant.catalog.languages == ["en", "zh"]
