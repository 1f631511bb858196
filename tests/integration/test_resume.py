"""Interrupted ingests: after a kill at any point, a re-run finishes the job exactly.

Two ways to interrupt: an embedder that raises after N batches (in process, at many
points, including in the middle of replacing changed documents), and a real SIGKILL
of a child process running a large ingest. After the re-run, Chroma's sentence IDs
must be exactly the expected split of every document: none missing, none extra,
none twice, and every document committed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from index.documents import Document
from index.embedding import HashEmbedding
from index.splitting import split_document
from qa.assistant import Assistant
from qa.settings import Settings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


class Interrupted(RuntimeError):
    pass


class FlakyHashEmbedding(HashEmbedding):
    """The hash embedder, failing on its `fail_after`+1-th batch call (a crash mid-ingest)."""

    fail_after: int | None = None
    calls: int = 0
    delay: float = 0.0
    announce: bool = False

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise Interrupted(f"killed after {self.calls} batches")
        time.sleep(self.delay)
        self.calls += 1
        vectors = [self._vector(text) for text in texts]
        if self.announce:
            print("batch", self.calls, flush=True)
        return vectors


def corpus(count: int, version: int = 0) -> list[Document]:
    """`count` documents of 3-9 sentences; `version` changes every third document's text."""
    documents = []
    for d in range(count):
        sentences = [
            f"Study {d} measured outcome {s} in cohort {d * 7 + s} with marker m{(d * 31 + s) % 97}."
            for s in range(3 + d % 7)
        ]
        if version and d % 3 == 0:
            sentences = sentences[: len(sentences) - 1 - d % 2] + [f"Revision {version} of study {d} found effect {s}." for s in range(2)]
        documents.append(Document(id=f"doc{d:04d}", text=" ".join(sentences), title=f"Study {d}"))
    return documents


def expected_ids(documents: list[Document]) -> set[str]:
    return {s.id for d in documents for s in split_document(d)}


def assert_exact(assistant: Assistant, documents: list[Document]) -> None:
    records = assistant.index.sentences.get(include=["metadatas", "documents"])
    ids = records["ids"]
    assert len(ids) == len(set(ids))
    expected = expected_ids(documents)
    assert not expected - set(ids), "missing sentences"
    assert not set(ids) - expected, "extra (stale or duplicate) sentences"
    positions = Counter((m["doc_id"], m["ordinal"]) for m in records["metadatas"])
    assert max(positions.values()) == 1, "two sentences at one position"
    assert sorted(assistant.index.document_hashes()) == sorted(d.id for d in documents)
    assert assistant.index.document_hashes() == {d.id: d.content_hash for d in documents}
    # The assistant's view after the re-run, and a fresh process's view, are the same exact state.
    assert {s.id for s in assistant.catalog.sentences} == expected
    assert len(assistant.catalog) == len(expected)


def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, embedding="hash", show_progress=False, write_batch_size=32, collection="resume")


@pytest.mark.parametrize("fail_after", [0, 1, 4, 9])
def test_rerun_after_a_crash_finishes_exactly(tmp_path: Path, fail_after: int) -> None:
    documents = corpus(60)
    flaky = FlakyHashEmbedding(model_name="hash-256", fail_after=fail_after)
    with pytest.raises(Interrupted):
        Assistant(settings=settings(tmp_path), embed_model=flaky, include_bundled=False).ingest(documents, total=len(documents))

    rerun = Assistant(settings=settings(tmp_path), embed_model=FlakyHashEmbedding(model_name="hash-256"), include_bundled=False)
    committed_before = len(rerun.index.document_hashes())
    assert committed_before < len(documents)
    report = rerun.ingest(documents, total=len(documents))
    assert len(report.unchanged) == committed_before
    assert len(report.added) == len(documents) - committed_before
    assert_exact(rerun, documents)
    assert_exact(Assistant(settings=settings(tmp_path), embed_model=FlakyHashEmbedding(model_name="hash-256"), include_bundled=False), documents)


@pytest.mark.parametrize("fail_after", [0, 2, 5])
def test_rerun_after_a_crash_while_replacing_changed_documents(tmp_path: Path, fail_after: int) -> None:
    old, new = corpus(60), corpus(60, version=1)
    Assistant(settings=settings(tmp_path), embed_model=FlakyHashEmbedding(model_name="hash-256"), include_bundled=False).ingest(old)
    flaky = FlakyHashEmbedding(model_name="hash-256", fail_after=fail_after)
    with pytest.raises(Interrupted):
        Assistant(settings=settings(tmp_path), embed_model=flaky, include_bundled=False).ingest(new, total=len(new))

    # Meanwhile, every document is answered from one complete version, never a mix.
    between = Assistant(settings=settings(tmp_path), embed_model=FlakyHashEmbedding(model_name="hash-256"), include_bundled=False)
    for document in new:
        version = document if between.index.document_hashes()[document.id] == document.content_hash else old[int(document.id[3:])]
        assert [s.id for s in between.catalog.of_document(document.id)] == [s.id for s in split_document(version)]

    between.ingest(new)
    assert_exact(between, new)


_CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from tests.integration.test_resume import FlakyHashEmbedding, corpus, settings
    from qa.assistant import Assistant
    from pathlib import Path

    documents = corpus({count})
    assistant = Assistant(settings=settings(Path({path!r})), embed_model=FlakyHashEmbedding(model_name="hash-256", delay=0.05, announce=True), include_bundled=False)
    print("ready", flush=True)
    assistant.ingest(documents, total=len(documents))
    print("done", flush=True)
    """
)


@pytest.mark.parametrize("kill_after_batches", [1, 7])
def test_rerun_after_sigkill_finishes_exactly(tmp_path: Path, kill_after_batches: int) -> None:
    """A real kill -9 of a process in the middle of a large ingest (Chroma writes in flight)."""
    count = 300
    script = _CHILD.format(repo=str(REPO), count=count, path=str(tmp_path))
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"},
    )
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 240
        for line in child.stdout:
            if line.startswith("batch") and int(line.split()[1]) >= kill_after_batches:
                time.sleep(0.02)  # land somewhere inside the Chroma write that follows
                break
            assert time.monotonic() < deadline, "the child ingest did not start"
            assert line.strip() != "done", "the child finished before it could be killed"
        else:
            pytest.fail(f"the child exited early with {child.wait()}")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        if child.stdout:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    documents = corpus(count)
    rerun = Assistant(settings=settings(tmp_path), embed_model=FlakyHashEmbedding(model_name="hash-256"), include_bundled=False)
    committed_before = len(rerun.index.document_hashes())
    assert 0 <= committed_before < count
    report = rerun.ingest(documents, total=count)
    assert len(report.unchanged) == committed_before
    assert_exact(rerun, documents)
