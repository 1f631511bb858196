"""Nothing indexed is lost or corrupted: concurrent writers, kills at each commit phase, a live reader.

Every write here runs in a real `qa` process (the hash embedder keeps them quick); the
test process reads the same data directory meanwhile, as a running app would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from index.documents import Document
from index.faults import CRASH_EXIT_STATUS
from index.splitting import split_document
from qa.assistant import Assistant
from qa.settings import Settings
from qa.types import QuestionError

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def corpus(prefix: str, count: int, version: int = 0) -> list[Document]:
    """`count` documents of 3-6 sentences with words of their own; `version` rewrites every other one."""
    documents = []
    for d in range(count):
        sentences = [f"Study {prefix}{d} of topic{prefix}{d} measured outcome {s} in cohort {d * 7 + s}." for s in range(3 + d % 4)]
        if version and d % 2 == 0:
            sentences = [f"Revision {version} of study {prefix}{d} found effect {s} on topic{prefix}{d}." for s in range(2 + d % 3)]
        documents.append(Document(id=f"{prefix}{d:03d}", text=" ".join(sentences), title=f"Study {prefix}{d}"))
    return documents


def write_jsonl(path: Path, documents: list[Document]) -> Path:
    lines = [json.dumps({"id": d.id, "title": d.title, "text": d.text}) for d in documents]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, embedding="hash", show_progress=False, write_batch_size=16)


def qa_process(*args: str, data_dir: Path, crash_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "CITEQA_EMBEDDING": "hash", "CITEQA_SHOW_PROGRESS": "false", "CITEQA_WRITE_BATCH_SIZE": "16"}
    env.pop("CITEQA_CRASH_AT", None)
    if crash_at:
        env["CITEQA_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "qa.cli", *args, "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )


def run_qa(*args: str, data_dir: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    process = qa_process(*args, data_dir=data_dir, crash_at=crash_at)
    stdout, stderr = process.communicate(timeout=240)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def assert_consistent(assistant: Assistant, versions: dict[str, list[Document]]) -> dict[str, Document]:
    """Every listed document is one of its `versions`, complete, with exact offsets; returns which one."""
    chosen: dict[str, Document] = {}
    for document in assistant.documents():
        candidates = [v for v in versions[document.id] if v.content_hash == document.content_hash]
        assert candidates, f"{document.id} is neither version"
        chosen[document.id] = candidates[0]
        expected = [s.id for s in split_document(candidates[0])]
        sentences = assistant.catalog.of_document(document.id)
        assert [s.id for s in sentences] == expected, f"{document.id}: sentences missing, extra or of another version"
        assert all(document.text[s.start : s.end] == s.text for s in sentences)
    return chosen


def assert_exact(data_dir: Path, documents: list[Document]) -> None:
    """The stored index is exactly `documents`: no sentence missing, extra (orphan) or twice."""
    fresh = Assistant(settings=settings(data_dir), include_bundled=False)
    ids = fresh.index.sentences.get(include=[])["ids"]
    assert len(ids) == len(set(ids)), "a sentence stored twice"
    assert sorted(ids) == sorted(s.id for d in documents for s in split_document(d))
    assert fresh.index.document_hashes() == {d.id: d.content_hash for d in documents}
    assert fresh.index.state.get(where={"kind": "journal"})["ids"] == [], "an unfinished change is left"


def test_two_concurrent_ingests_and_an_ask_loop(tmp_path: Path) -> None:
    data_dir = tmp_path / "index"
    left, right = corpus("a", 60), corpus("b", 60)
    reader = Assistant(settings=settings(data_dir), include_bundled=False)
    errors: list[BaseException] = []
    answered: list[int] = []
    stop = threading.Event()

    def ask_loop() -> None:
        while not stop.is_set():
            try:
                answer = reader.ask("What did study a7 of topica7 measure?")
                for citation in answer.citations:
                    assert reader.document(citation.doc_id).text[citation.start : citation.end] == citation.text
                answered.append(len(reader.documents()))
            except BaseException as error:  # noqa: BLE001 - every failure is reported below
                errors.append(error)
                return

    asker = threading.Thread(target=ask_loop)
    asker.start()
    processes = [
        qa_process("ingest", str(write_jsonl(tmp_path / f"{name}.jsonl", docs)), data_dir=data_dir)
        for name, docs in (("left", left), ("right", right))
    ]
    try:
        outputs = [process.communicate(timeout=240) for process in processes]
    finally:
        stop.set()
        asker.join(timeout=60)
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    assert not errors, errors
    assert answered, "the ask loop never answered"

    assert_exact(data_dir, left + right)
    # The reader that ran beside both writers catches up with both.
    assert len(reader.documents()) == 120
    # Ranking, not the answer: the hash test embedder is not what the answer/abstain gate is fitted for.
    assert reader.retrieve("What did study b12 of topicb12 measure?", top_k=1)[0].sentence.doc_id == "b012"


UPDATE_PHASES = ["journalled", "sentences-written", "manifest-switched", "tidied"]
REMOVE_PHASES = ["remove-journalled", "remove-unlisted", "tidied"]


@pytest.mark.parametrize("phase", UPDATE_PHASES)
def test_a_kill_at_each_phase_of_an_update_leaves_old_or_new_complete(tmp_path: Path, phase: str) -> None:
    data_dir = tmp_path / "index"
    old, new = corpus("c", 40), corpus("c", 40, version=1)
    Assistant(settings=settings(data_dir), include_bundled=False).ingest(old)
    killed = run_qa("ingest", str(write_jsonl(tmp_path / "new.jsonl", new)), data_dir=data_dir, crash_at=phase)
    assert killed.returncode == CRASH_EXIT_STATUS, killed.stderr

    between = Assistant(settings=settings(data_dir), include_bundled=False)
    versions = {d.id: [d, n] for d, n in zip(old, new, strict=True)}
    chosen = assert_consistent(between, versions)
    assert set(chosen) == {d.id for d in old}, "a document vanished"
    if phase in ("manifest-switched", "tidied"):
        assert any(chosen[d.id] is n for d, n in zip(old, new, strict=True) if d != n), "the first batch was not committed"

    between.add_documents([tmp_path / "new.jsonl"])  # the re-run
    assert_exact(data_dir, new)


@pytest.mark.parametrize("phase", REMOVE_PHASES)
def test_a_kill_at_each_phase_of_a_removal_leaves_it_listed_complete_or_gone(tmp_path: Path, phase: str) -> None:
    data_dir = tmp_path / "index"
    documents = corpus("r", 12)
    Assistant(settings=settings(data_dir), include_bundled=False).ingest(documents)
    gone = ["r003", "r007"]
    killed = run_qa("remove", *gone, data_dir=data_dir, crash_at=phase)
    assert killed.returncode == CRASH_EXIT_STATUS, killed.stderr

    between = Assistant(settings=settings(data_dir), include_bundled=False)
    chosen = assert_consistent(between, {d.id: [d] for d in documents})
    if phase != "remove-journalled":
        assert not set(gone) & set(chosen)
    for hit in between.retrieve("Study r3 of topicr3 measured outcome", top_k=20):
        assert hit.sentence.doc_id in chosen

    # The next write finishes the job: here, removing what is still listed and one more document.
    between.remove_documents([doc_id for doc_id in gone if doc_id in chosen] + ["r000"])
    assert_exact(data_dir, [d for d in documents if d.id not in [*gone, "r000"]])


def test_the_running_assistant_sees_other_processes_writes(tmp_path: Path) -> None:
    data_dir = tmp_path / "index"
    live = Assistant(settings=settings(data_dir), include_bundled=False)
    live.ingest(corpus("l", 3))
    revision = live.index.revision()

    added = run_qa("ingest", str(write_jsonl(tmp_path / "more.jsonl", corpus("m", 4))), data_dir=data_dir)
    assert added.returncode == 0, added.stderr
    assert live.retrieve("What did study m2 of topicm2 measure?", top_k=1)[0].sentence.doc_id == "m002"
    assert live.index.revision() > revision

    removed = run_qa("remove", "m002", data_dir=data_dir)
    assert removed.returncode == 0, removed.stderr
    answer = live.ask("What did study m2 of topicm2 measure?")
    assert all(c.doc_id != "m002" for c in answer.citations) and all(r.doc_id != "m002" for r in answer.related)
    assert "m002" not in {d.id for d in live.documents()}
    assert all(hit.sentence.doc_id != "m002" for hit in live.retrieve("study m2 topicm2", top_k=30))


def test_a_second_writer_waits_with_a_message(tmp_path: Path) -> None:
    data_dir = tmp_path / "index"
    holder = Assistant(settings=settings(data_dir), include_bundled=False)
    with holder.index.writer:
        waiting = qa_process("ingest", str(write_jsonl(tmp_path / "w.jsonl", corpus("w", 2))), data_dir=data_dir)
        # The waiting process says so on stderr, then keeps waiting.
        lines = []
        while not any("another citeqa process is writing to" in line for line in lines):
            line = waiting.stderr.readline()
            assert line, f"the second writer exited: {''.join(lines)}"
            lines.append(line)
        assert "waiting" in lines[-1]
        assert waiting.poll() is None
        # Readers are not held up by the writer lock.
        assert holder.documents() == []
    stdout, stderr = waiting.communicate(timeout=240)
    assert waiting.returncode == 0, stderr
    assert "2 added" in stdout


def test_a_bad_question_is_refused_before_any_model_call(tmp_path: Path) -> None:
    assistant = Assistant(settings=settings(tmp_path / "index"), include_bundled=False)
    for question in ["\ud800 what?", 42, None, ["q"]]:
        with pytest.raises(QuestionError):
            assistant.ask(question)  # type: ignore[arg-type]
    for history in ["text", [{"role": "system", "content": "x"}], [{"role": "user", "content": 3}], [{"role": "user"}],
                    [{"role": "user", "content": "\udfff"}], 5]:
        with pytest.raises(QuestionError, match="[Hh]istory"):
            assistant.ask("What was measured?", history=history)  # type: ignore[arg-type]


def test_questions_from_many_threads_while_this_process_writes(tmp_path: Path) -> None:
    """The app's case: sessions ask at once (no global lock) while an upload or removal runs."""
    assistant = Assistant(settings=settings(tmp_path / "index"), include_bundled=False)
    assistant.ingest(corpus("t", 6))
    versions = corpus("t", 6) + corpus("t", 6, version=1) + corpus("t", 6, version=2)
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask_loop(number: int) -> None:
        while not stop.is_set():
            try:
                answer = assistant.ask(f"What did study t{number} of topict{number} find?")
                for citation in answer.citations:
                    # The cited sentence is, at its offsets, in one whole version of its document.
                    assert any(v.id == citation.doc_id and v.text[citation.start : citation.end] == citation.text for v in versions)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
                return

    askers = [threading.Thread(target=ask_loop, args=(n,)) for n in range(4)]
    for thread in askers:
        thread.start()
    try:
        for version in (1, 2, 0, 1):
            assistant.ingest(corpus("t", 6, version=version))
            assistant.remove_documents(["t005"])
            assistant.ingest(corpus("t", 6, version=version)[5:])
    finally:
        stop.set()
        for thread in askers:
            thread.join(timeout=60)
    assert not errors, errors
    assert_exact(tmp_path / "index", corpus("t", 6, version=1))
