"""The catalog snapshot (index/snapshot.py): reused while current, caught up when stale, never trusted when damaged."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from index.catalog import Catalog
from index.documents import Document
from index.snapshot import read_snapshot
from index.store import ChromaIndex
from qa.assistant import Assistant
from qa.settings import Settings

TOPICS = ["aspirin stroke", "statin cholesterol", "insulin glucose", "warfarin bleeding", "metformin weight"]
QUESTIONS = ["warfarin bleeding risk", "statin cholesterol finding", "What did the insulin glucose study report?", "蛋白尿"]


def paper(i: int, topic: str, extra: str = "") -> Document:
    text = " ".join(f"The {topic} study {i} reported finding number {j} in its cohort." for j in range(4)) + extra
    return Document(id=f"paper{i}", text=text, title=f"Paper {i}")


def corpus() -> list[Document]:
    return [paper(i, topic) for i, topic in enumerate(TOPICS)] + [
        Document(id="zh", text="肾病患者常有蛋白尿。治疗以控制血压为主。", title="中文")
    ]


def open_assistant(data_dir: Path) -> Assistant:
    settings = Settings(data_dir=data_dir, embedding="hash", show_progress=False, collection="snapshots")
    return Assistant(settings=settings, include_bundled=False)


class SentenceReads:
    """Counts the documents whose sentences are read from Chroma, and the catching up by content hash."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.documents: list[str] = []
        self.catch_ups = 0
        real = ChromaIndex.load_sentences
        real_refreshed = Catalog.refreshed

        def refreshed(catalog: Catalog, index: ChromaIndex):
            self.catch_ups += 1
            return real_refreshed(catalog, index)

        monkeypatch.setattr(Catalog, "refreshed", refreshed)

        def counting(index: ChromaIndex, hashes: dict[str, str]):
            self.documents.extend(hashes)
            return real(index, hashes)

        monkeypatch.setattr(ChromaIndex, "load_sentences", counting)


def view(assistant: Assistant) -> tuple:
    """Everything a question sees, comparable across instances."""
    catalog = assistant.catalog
    hits = [[(h.sentence.id, h.relevance, h.features) for h in assistant.retrieve(q, top_k=5)] for q in QUESTIONS]
    answers = [[c.sentence_id for c in assistant.ask(q).citations] for q in QUESTIONS]
    return (
        sorted(catalog.documents.items()),
        catalog.hashes,
        catalog.sentences,
        catalog.terms.vocabulary,
        catalog.terms.ids.tolist(),
        catalog.idf,
        hits,
        answers,
    )


def test_current_snapshot_is_used_without_reading_sentences(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = open_assistant(tmp_path)
    writer.ingest(corpus())
    snapshot = writer._snapshot
    stored = read_snapshot(snapshot, writer.index)
    assert stored is not None and stored[1] == writer.index.revision()  # written by the writer, under its lock

    reads = SentenceReads(monkeypatch)
    reopened = open_assistant(tmp_path)
    assert reads.documents == [] and reads.catch_ups == 0
    assert view(reopened) == view(writer)


@pytest.mark.parametrize("collector_on", [True, False])
def test_catalogs_are_built_without_the_garbage_collector_and_its_state_is_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_on: bool
) -> None:
    """Building 100k sentence objects with the collector on cost 1.2-3.0 s instead of 0.6 s (index/gc_pause.py)."""
    open_assistant(tmp_path).ingest(corpus())
    during: list[bool] = []
    real = Catalog.__init__

    def recording(self, *args, **kwargs):
        during.append(gc.isenabled())
        real(self, *args, **kwargs)

    monkeypatch.setattr(Catalog, "__init__", recording)
    (gc.enable if collector_on else gc.disable)()
    try:
        reopened = open_assistant(tmp_path)  # from the snapshot
        reopened._snapshot.unlink()
        open_assistant(tmp_path)  # from Chroma
        reopened.ingest([paper(9, "vitamin bone")])  # an update builds a new view
        assert gc.isenabled() == collector_on
    finally:
        gc.enable()
    assert len(during) >= 3 and not any(during)


def test_results_are_identical_with_and_without_a_snapshot(tmp_path: Path) -> None:
    open_assistant(tmp_path).ingest(corpus())
    with_snapshot = open_assistant(tmp_path)
    snapshot = with_snapshot._snapshot
    snapshot.unlink()
    without = open_assistant(tmp_path)  # built from Chroma, and writes the snapshot again
    assert snapshot.exists()
    assert view(without) == view(with_snapshot)


def test_stale_snapshot_is_caught_up_reading_only_changed_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = open_assistant(tmp_path)
    first.ingest(corpus())
    snapshot = first._snapshot
    old = tmp_path / "old.npz"
    shutil.copy(snapshot, old)
    # Another instance changes one document, adds one and removes one; its snapshot is then lost
    # (as after `qa remove` through the store alone, or a writer killed before writing it).
    other = open_assistant(tmp_path)
    other.ingest([paper(2, "insulin glucose", " A follow-up found lower glucose variability."), paper(7, "heparin clots")])
    other.remove_documents(["paper3"])
    shutil.copy(old, snapshot)

    reads = SentenceReads(monkeypatch)
    caught_up = open_assistant(tmp_path)
    assert sorted(reads.documents) == ["paper2", "paper7"] and reads.catch_ups == 1
    assert "paper3" not in caught_up.catalog.documents
    assert caught_up.retrieve("glucose variability follow-up", top_k=1)[0].sentence.text == "A follow-up found lower glucose variability."
    stored = read_snapshot(snapshot, caught_up.index)
    assert stored is not None and stored[1] == caught_up.index.revision()  # rewritten at the current revision

    monkeypatch.undo()
    snapshot.unlink()
    assert view(caught_up) == view(open_assistant(tmp_path))  # the same as a full load


def test_a_running_instance_updates_only_new_sentences_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = open_assistant(tmp_path)
    writer = open_assistant(tmp_path)
    writer.ingest(corpus())
    reader.refresh()
    tokenized: list[str] = []
    import index.catalog

    real = index.catalog.tokenize
    monkeypatch.setattr(index.catalog, "tokenize", lambda text, *a, **k: tokenized.append(text) or real(text, *a, **k))
    writer.ingest([paper(8, "heparin clots")])
    assert reader.refresh()
    assert len(tokenized) == 2 * 4  # the new document's 4 sentences, once in each instance
    assert view(reader) == view(writer)


@pytest.mark.parametrize(
    "damage",
    ["truncated", "garbage", "empty", "bad header", "token ids out of range", "sentences of another catalog"],
)
def test_damaged_snapshot_is_rebuilt_with_correct_answers(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = open_assistant(tmp_path)
    writer.ingest(corpus())
    expected = view(writer)
    snapshot = writer._snapshot
    data = snapshot.read_bytes()
    if damage == "truncated":
        snapshot.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        snapshot.write_bytes(b"\x00garbage" * 1000)
    elif damage == "empty":
        snapshot.write_bytes(b"")
    else:
        with np.load(snapshot, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        if damage == "bad header":
            arrays["header"] = np.frombuffer(b"{not json", dtype=np.uint8)
        elif damage == "token ids out of range":
            arrays["token_ids"] = arrays["token_ids"] + 10_000
        else:
            arrays["sentences"] = np.frombuffer(b"[]", dtype=np.uint8)
        with open(snapshot, "wb") as out:
            np.savez(out, **arrays)

    reads = SentenceReads(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="index.snapshot"):
        reopened = open_assistant(tmp_path)
    assert "unreadable" in caplog.text
    assert sorted(reads.documents) == sorted(d.id for d in corpus())  # rebuilt from Chroma
    assert view(reopened) == expected
    stored = read_snapshot(snapshot, reopened.index)
    assert stored is not None and stored[1] == reopened.index.revision()  # and written again, whole


def test_snapshot_of_a_recreated_collection_is_not_used(tmp_path: Path) -> None:
    first = open_assistant(tmp_path)
    first.ingest(corpus())
    snapshot = first._snapshot
    kept = snapshot.read_bytes()
    for name in ("snapshots", "snapshots-documents", "snapshots-state"):
        first.index._client.delete_collection(name)
    recreated = open_assistant(tmp_path)
    recreated.ingest([paper(9, "vitamin d fractures")])  # the same revision as the snapshot's
    snapshot.write_bytes(kept)
    reopened = open_assistant(tmp_path)
    assert sorted(reopened.catalog.documents) == ["paper9"]


def test_unwritable_snapshot_directory_does_not_break_writes(tmp_path: Path) -> None:
    (tmp_path / "catalog-cache").write_text("a file where the directory should be")
    assistant = open_assistant(tmp_path)
    assistant.ingest(corpus())
    assert assistant.retrieve("warfarin bleeding", top_k=1)[0].sentence.doc_id == "paper3"
    assert sorted(open_assistant(tmp_path).catalog.documents) == sorted(d.id for d in corpus())


def test_a_write_killed_before_its_revision_bump_is_never_hidden_by_a_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    early = open_assistant(tmp_path)
    early.ingest(corpus())  # snapshot at revision R
    crashing = open_assistant(tmp_path)

    def killed(index: ChromaIndex) -> int:
        raise KeyboardInterrupt  # the process dies after committing, before counting the write

    monkeypatch.setattr(ChromaIndex, "bump_revision", killed)
    with pytest.raises(KeyboardInterrupt):
        crashing.ingest([paper(7, "heparin clots")])
    monkeypatch.undo()
    assert early.index.revision() == read_snapshot(early._snapshot, early.index)[1]  # the same revision...
    assert "paper7" in open_assistant(tmp_path).catalog.documents  # ...but unsettled: caught up by hash

    # A writer whose view predates the killed write catches up first, and its snapshot holds both.
    early.ingest([paper(8, "vitamin d fractures")])
    assert {"paper7", "paper8"} <= set(early.catalog.documents)
    reads = SentenceReads(monkeypatch)
    fresh = open_assistant(tmp_path)
    assert reads.documents == [] and reads.catch_ups == 0
    assert {"paper7", "paper8"} <= set(fresh.catalog.documents)
    assert view(fresh) == view(early)


def test_a_write_clears_temporary_files_of_killed_writers(tmp_path: Path) -> None:
    assistant = open_assistant(tmp_path)
    snapshot = assistant._snapshot
    abandoned = snapshot.with_name(f".{snapshot.name}.999999.1.tmp")
    recent = snapshot.with_name(f".{snapshot.name}.999998.1.tmp")
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    abandoned.write_bytes(b"half a snapshot")
    recent.write_bytes(b"another writer at work")
    os.utime(abandoned, (time.time() - 3600, time.time() - 3600))
    assistant.ingest(corpus())
    assert not abandoned.exists() and recent.exists() and snapshot.exists()
