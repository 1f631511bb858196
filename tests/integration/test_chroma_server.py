"""Server mode: ingest, ask and removal against a real `chroma run` server on a loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.documents import Document
from qa.assistant import Assistant
from qa.settings import Settings

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"


def _chroma_executable() -> str:
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("The `chroma` command is missing; it comes with the chromadb package.")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _heartbeat(port: int) -> bool:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        chromadb.HttpClient(host=HOST, port=port, settings=ChromaSettings(anonymized_telemetry=False)).heartbeat()
        return True
    except Exception:
        return False


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real Chroma server on a free loopback port; always terminated, even if a test fails."""
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("wb")
    process = None
    for _attempt in range(3):  # another process may take the free port between probe and bind
        port = _free_port()
        process = subprocess.Popen(
            [_chroma_executable(), "run", "--path", str(path / "db"), "--host", HOST, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if _heartbeat(port):
                break
            time.sleep(0.2)
        if process.poll() is None and _heartbeat(port):
            break
        process.terminate()
        process.wait(timeout=10)
        process = None
    if process is None:
        log.close()
        pytest.fail(f"`chroma run` did not start; see {path / 'server.log'}:\n{(path / 'server.log').read_text(errors='replace')[-2000:]}")
    try:
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()


def _documents() -> list[Document]:
    return [
        Document(
            id="aspirin",
            text=(
                "Aspirin reduced the risk of stroke by 20 percent in the treated group. "
                "The trial enrolled 4000 adults over five years. "
                "Gastrointestinal bleeding was the most common adverse event."
            ),
            title="Aspirin trial",
        ),
        Document(
            id="statins",
            text=(
                "Statins lowered LDL cholesterol by 40 percent after twelve weeks. "
                "Muscle pain was reported by 5 percent of patients. "
                "The cohort included 1200 patients with diabetes."
            ),
            title="Statin cohort",
        ),
    ]


def _assistant(port: int, data_dir: Path, collection: str, embedding: str = "hash") -> Assistant:
    settings = Settings(embedding=embedding, collection=collection, show_progress=False)
    return Assistant(data_dir=data_dir, chroma_host=HOST, chroma_port=port, settings=settings)


def test_ingest_ask_remove_against_a_server(chroma_server: int, tmp_path: Path) -> None:
    assistant = _assistant(chroma_server, tmp_path, "server-flow")
    report = assistant.add_documents(_documents())
    assert sorted(report.added) == ["aspirin", "statins"]
    assert report.sentences_written == 6
    # Nothing went to the local data directory: the server holds the index.
    assert not (tmp_path / "chroma").exists()

    hits = assistant.retrieve("stroke risk aspirin", top_k=3)
    assert hits and hits[0].sentence.doc_id == "aspirin"

    answer = assistant.ask("What did statins do to LDL cholesterol?")
    assert answer.citations or answer.related
    cited = [c.doc_id for c in answer.citations] or [r.doc_id for r in answer.related]
    assert cited[0] == "statins"

    # A second, independent client sees the same committed index from the server.
    reopened = _assistant(chroma_server, tmp_path / "other", "server-flow")
    assert sorted(d.id for d in reopened.documents()) == ["aspirin", "statins"]
    assert len(reopened.catalog) == 6
    assert reopened.index.count() == 6

    assistant.remove_documents(["aspirin"])
    assert [d.id for d in assistant.documents()] == ["statins"]
    assert all(hit.sentence.doc_id == "statins" for hit in assistant.retrieve("stroke risk aspirin", top_k=5))
    sentence_docs = {meta["doc_id"] for meta in assistant.index.sentences.get(include=["metadatas"])["metadatas"]}
    assert sentence_docs == {"statins"}
    assert assistant.index.documents.get(ids=["aspirin"])["ids"] == []

    # Removal is visible to a fresh process too.
    after = _assistant(chroma_server, tmp_path / "third", "server-flow")
    assert [d.id for d in after.documents()] == ["statins"]
    assert {h.sentence.doc_id for h in after.retrieve("stroke risk aspirin", top_k=5)} == {"statins"}


def test_reingest_against_a_server_is_a_noop(chroma_server: int, tmp_path: Path) -> None:
    assistant = _assistant(chroma_server, tmp_path, "server-noop")
    assistant.add_documents(_documents())
    again = assistant.add_documents(_documents())
    assert sorted(again.unchanged) == ["aspirin", "statins"]
    assert again.sentences_written == 0
    assert assistant.index.count() == 6


def test_real_model_against_a_server(chroma_server: int, tmp_path: Path) -> None:
    """The default embedder end to end through the server: the question is answered from the right sentence.
    (MiniLM until 2026-11-27: the gate is fitted on e5's cosines, qa/relevance.json, and MiniLM's run lower.)"""
    assistant = _assistant(chroma_server, tmp_path, "server-e5", embedding="e5")
    assistant.add_documents(_documents())
    answer = assistant.ask("How much did statins lower LDL cholesterol?")
    assert not answer.abstained
    assert answer.citations[0].doc_id == "statins"
    assert "40 percent" in answer.citations[0].text


def test_unreachable_server_is_reported(tmp_path: Path) -> None:
    from index.store import IndexUnavailableError

    with pytest.raises(IndexUnavailableError, match="chroma run"):
        _assistant(_free_port(), tmp_path, "server-none")


def _index(port: int, tmp_path: Path, collection: str, wait: float = 0.5, lease: float = 2.0):
    from index.store import ChromaIndex, make_client

    return ChromaIndex(make_client(tmp_path, HOST, port), collection, "hash-256", writer_wait_seconds=wait, lease_seconds=lease)


def test_one_writer_at_a_time_through_a_lease_kept_in_chroma(chroma_server: int, tmp_path: Path, capsys) -> None:
    from index.errors import IndexBusyError

    first, second = _index(chroma_server, tmp_path, "server-lock"), _index(chroma_server, tmp_path, "server-lock")
    assert first.writer.acquire(wait=False)
    assert not second.writer.acquire(wait=False)
    with pytest.raises(IndexBusyError, match="CITEQA_WRITER_WAIT_SECONDS"):
        second.writer.acquire()
    assert "another citeqa process is writing to collection 'server-lock' on the Chroma server; waiting…" in capsys.readouterr().err
    first.writer.release()
    assert second.writer.acquire(wait=False)

    # A holder that dies stops renewing its lease; the next writer takes over once it runs out.
    second.writer._stop.set()
    second.writer._renewer.join()
    assert not first.writer.acquire(wait=False)
    deadline = time.monotonic() + 30
    while not first.writer.acquire(wait=False):
        assert time.monotonic() < deadline, "the dead holder's lease never expired"
        time.sleep(0.2)
    first.writer.release()


def test_racing_writers_get_exactly_one_lease(chroma_server: int, tmp_path: Path) -> None:
    import threading

    contenders = [_index(chroma_server, tmp_path, "server-race", lease=30.0) for _ in range(4)]
    start, done = threading.Barrier(len(contenders)), threading.Barrier(len(contenders))
    won = [False] * len(contenders)

    def contend(position: int) -> None:
        start.wait()
        won[position] = contenders[position].writer.acquire(wait=False)
        done.wait()  # all have tried before the winner lets go
        if won[position]:
            contenders[position].writer.release()

    threads = [threading.Thread(target=contend, args=(position,)) for position in range(len(contenders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False, False, False, True]


def test_a_running_assistant_sees_another_clients_writes(chroma_server: int, tmp_path: Path) -> None:
    reader = _assistant(chroma_server, tmp_path, "server-live")
    writer = _assistant(chroma_server, tmp_path / "other", "server-live")
    writer.add_documents(_documents())
    hits = reader.retrieve("stroke risk aspirin", top_k=3)
    assert hits and hits[0].sentence.doc_id == "aspirin"
    writer.remove_documents(["aspirin"])
    assert [d.id for d in reader.documents()] == ["statins"]
    assert all(hit.sentence.doc_id == "statins" for hit in reader.retrieve("stroke risk aspirin", top_k=5))
