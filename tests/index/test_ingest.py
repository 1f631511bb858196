"""Ingest through the real Chroma store with the deterministic hash embedder."""

import json

import pytest

from index.documents import Document
from index.loaders import DocumentError


def test_reingest_of_unchanged_documents_is_a_no_op(hash_assistant):
    before = hash_assistant.index.count()
    from index.corpus import bundled_document

    report = hash_assistant.add_documents([bundled_document()])
    assert report.unchanged == ["jdm_treatment_review"] and report.sentences_written == 0
    assert hash_assistant.index.count() == before == 19


def test_changed_document_replaces_its_sentences(hash_assistant):
    doc = Document(id="notes", text="Alpha is first. Beta is second. Gamma is third.")
    hash_assistant.add_documents([doc])
    old_ids = set(hash_assistant.index.sentence_ids("notes"))
    changed = doc.model_copy(update={"text": "Alpha is first. Delta replaced beta."})
    report = hash_assistant.add_documents([changed])
    assert report.replaced == ["notes"]
    new_ids = set(hash_assistant.index.sentence_ids("notes"))
    # The new version is written under new IDs and the old one's sentences are gone (index/store.py).
    assert len(new_ids) == 2 and not old_ids & new_ids
    assert [s.text for s in hash_assistant.catalog.of_document("notes")] == ["Alpha is first.", "Delta replaced beta."]


def test_removal_deletes_sentences_and_document(hash_assistant):
    hash_assistant.add_documents([Document(id="gone", text="Zebrafish models of myositis exist.")])
    hash_assistant.remove_documents(["gone"])
    assert hash_assistant.index.sentence_ids("gone") == []
    assert "gone" not in {d.id for d in hash_assistant.documents()}
    assert all(hit.sentence.doc_id != "gone" for hit in hash_assistant.retrieve("zebrafish myositis"))
    with pytest.raises(DocumentError, match="No indexed document with ID 'gone'"):
        hash_assistant.remove_documents(["gone"])


def test_a_bad_file_in_a_batch_writes_nothing(hash_assistant, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Good text about dermatomyositis.", encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n", encoding="utf-8")
    before = hash_assistant.index.count()
    with pytest.raises(DocumentError, match="bad.jsonl:1"):
        hash_assistant.add_documents([good, bad])
    assert hash_assistant.index.count() == before
    assert "good" not in {d.id for d in hash_assistant.documents()}


def test_index_reopens_with_the_same_content(hash_settings, hash_assistant):
    from qa import Assistant

    reopened = Assistant(settings=hash_settings, include_bundled=False)
    assert [s.id for s in reopened.catalog.sentences] == [s.id for s in hash_assistant.catalog.sentences]
    assert reopened.document("jdm_treatment_review").doi == "10.1007/s40272-024-00658-2"


def test_orphan_sentences_of_an_unfinished_ingest_are_ignored(hash_assistant):
    from index.splitting import split_document
    from index.store import sentence_node

    doc = Document(id="half", text="Orphaned sentence about lupus.")
    [sentence] = split_document(doc)
    hash_assistant.index.write_nodes([sentence_node(sentence, doc, sentence.text, [1.0] + [0.0] * 255)])
    from qa import Assistant

    reopened = Assistant(settings=hash_assistant.settings, include_bundled=False)
    assert reopened.catalog.get(sentence.id) is None
    assert all(h.sentence.doc_id != "half" for h in reopened.retrieve("lupus"))


def test_a_bad_record_after_many_good_ones_writes_nothing(hash_assistant, tmp_path):
    """The whole file is checked first: 200 good records, then one with a lone surrogate."""
    path = tmp_path / "corpus.jsonl"
    lines = [json.dumps({"id": f"doc{i}", "text": f"Record {i} is valid."}) for i in range(200)]
    lines.append('{"id": "bad", "text": "Broken \\ud800 text."}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = (hash_assistant.index.count(), hash_assistant.index.document_hashes(), hash_assistant.index.revision())
    with pytest.raises(DocumentError, match=r"corpus.jsonl:201: field 'text': invalid Unicode"):
        hash_assistant.add_documents([path])
    assert (hash_assistant.index.count(), hash_assistant.index.document_hashes(), hash_assistant.index.revision()) == before


def test_the_embedding_worker_gets_the_ingest_threads(hash_settings, monkeypatch):
    import threading

    import index.ingest
    from qa.assistant import Assistant

    seen = []
    monkeypatch.setattr(index.ingest, "embedding_threads", lambda threads: seen.append((threading.current_thread().name, threads)))
    assistant = Assistant(settings=hash_settings.model_copy(update={"ingest_threads": 3}), include_bundled=False)
    assistant.add_documents([Document(id="threads", text="Ingest embeds in a worker thread. It may use every core.")])
    assert len(seen) == 1 and seen[0][0].startswith("citeqa-embed") and seen[0][1] == 3


def test_ingest_threads_leave_the_question_threads_alone():
    import threading

    import torch

    from index.embedding import embedding_threads

    before = torch.get_num_threads()
    worker = threading.Thread(target=embedding_threads, args=(before + 1,))
    worker.start()
    worker.join()
    # OpenMP keeps the count per thread: questions answered on other threads keep theirs.
    assert torch.get_num_threads() == before
