"""One writer per index across processes.

Every write (ingest, removal, an upload in the app) runs inside `WriterLock`; readers
never take it. Two kinds, one interface:

- `FileWriterLock`, for an embedded index: an OS lock (`filelock`) on a file in the data
  directory. The OS releases it when its process dies, so a killed ingest never leaves
  the index locked.
- `ChromaLeaseLock`, for a Chroma server, which other machines may share: a lease record
  in the index's state collection. Chroma has no compare-and-swap, but `add` keeps the
  first record with a given ID, so a writer claims lease number n+1 by adding the record
  `lock-<n+1>` and reading back whose it is: of several racing writers exactly one wins.
  The holder renews the lease while it works; a crashed holder's lease expires after
  `lease_seconds` and the next writer takes over.

A writer that finds the lock taken prints one line (`another citeqa process is writing
to …; waiting…`) and waits up to `timeout` seconds, then raises `IndexBusyError`.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from index.errors import IndexBusyError

# Lease records share the state collection with the revision and the journal.
_LEASE_KIND = "writer-lease"
_POLL_SECONDS = 0.2


def announce(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class WriterLock:
    """Re-entrant in one thread (a write may call another write); exclusive across threads and processes."""

    def __init__(self, where: str, timeout: float, on_wait: Callable[[str], None] = announce) -> None:
        self.where = where
        self.timeout = timeout
        self.on_wait = on_wait
        self._threads = threading.RLock()
        self._depth = 0

    # Whether a reader must hold this lock while it rereads the index: an embedded index's
    # vector files are rewritten in place by a writer; a server serves consistent reads.
    guards_reads = False

    def __enter__(self) -> WriterLock:
        self.acquire(wait=True)
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def acquire(self, wait: bool = True) -> bool:
        """Take the lock; without `wait`, return False at once if another thread or process has it."""
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout if wait else 0):
            if wait:
                raise self._busy()
            return False
        try:
            if self._depth == 0 and not self._try_acquire():
                if not wait:
                    self._threads.release()
                    return False
                self.on_wait(f"another citeqa process is writing to {self.where}; waiting…")
                while not self._try_acquire():
                    if time.monotonic() >= deadline:
                        raise self._busy()
                    time.sleep(_POLL_SECONDS)
            self._depth += 1
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                self._release()
        finally:
            self._threads.release()

    def _busy(self) -> IndexBusyError:
        return IndexBusyError(
            f"Another citeqa process has been writing to {self.where} for over {self.timeout:.0f} s. "
            "Wait for it to finish, or raise CITEQA_WRITER_WAIT_SECONDS."
        )

    def _try_acquire(self) -> bool:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError


class FileWriterLock(WriterLock):
    guards_reads = True

    def __init__(self, data_dir: Path, timeout: float, on_wait: Callable[[str], None] = announce) -> None:
        super().__init__(str(data_dir), timeout, on_wait)
        data_dir.mkdir(parents=True, exist_ok=True)
        # thread_local=False: the RLock above already keeps threads apart; the OS lock is per process.
        self._file = filelock.FileLock(data_dir / "writer.lock", thread_local=False)

    def _try_acquire(self) -> bool:
        try:
            self._file.acquire(timeout=0)
        except filelock.Timeout:
            return False
        return True

    def _release(self) -> None:
        self._file.release()


class ChromaLeaseLock(WriterLock):
    """A renewed lease in a Chroma collection (see the module docstring)."""

    def __init__(
        self, collection, where: str, timeout: float, lease_seconds: float, on_wait: Callable[[str], None] = announce
    ) -> None:
        super().__init__(where, timeout, on_wait)
        self._collection = collection
        self._lease_seconds = lease_seconds
        self._held: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _leases(self) -> list[tuple[str, dict]]:
        found = self._collection.get(where={"kind": _LEASE_KIND}, include=["metadatas"])
        return sorted(zip(found["ids"], found["metadatas"], strict=True), key=lambda record: record[1]["number"])

    def _try_acquire(self) -> bool:
        leases = self._leases()
        if leases:
            _, latest = leases[-1]
            if not latest["released"] and latest["expires"] > time.time():
                return False
        number = leases[-1][1]["number"] + 1 if leases else 1
        lease_id = f"lock-{number:012d}"
        owner = uuid.uuid4().hex
        # `add` keeps the first record with this ID: of racing writers, one owns lease `number`.
        self._collection.add(
            ids=[lease_id],
            embeddings=[[1.0]],
            metadatas=[{"kind": _LEASE_KIND, "number": number, "owner": owner, "expires": time.time() + self._lease_seconds, "released": False}],
        )
        stored = self._collection.get(ids=[lease_id], include=["metadatas"])["metadatas"]
        if not stored or stored[0]["owner"] != owner:
            return False
        if leases:
            self._collection.delete(ids=[lease_id for lease_id, _ in leases])
        self._held = lease_id
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, args=(lease_id,), name="citeqa-lease", daemon=True)
        self._renewer.start()
        return True

    def _renew(self, lease_id: str) -> None:
        while not self._stop.wait(self._lease_seconds / 3):
            self._collection.update(ids=[lease_id], metadatas=[{"expires": time.time() + self._lease_seconds}])

    def _release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if self._held is not None:
            self._collection.update(ids=[self._held], metadatas=[{"released": True}])
            self._held = None


class ViewLock:
    """In one process: many readers of the in-memory view at once, or one thread swapping it.

    A waiting swap goes before new readers (so a stream of questions cannot starve it), and a
    thread already reading may read again (an answer may look up a document) without waiting.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._swapping = False
        self._waiting_swaps = 0
        self._mine = threading.local()

    def held_by_me(self) -> bool:
        """Whether this thread is reading (and so must not wait for a swap)."""
        return getattr(self._mine, "depth", 0) > 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        depth = getattr(self._mine, "depth", 0)
        if depth == 0:
            with self._condition:
                while self._swapping or self._waiting_swaps:
                    self._condition.wait()
                self._readers += 1
        self._mine.depth = depth + 1
        try:
            yield
        finally:
            self._mine.depth = depth
            if depth == 0:
                with self._condition:
                    self._readers -= 1
                    self._condition.notify_all()

    @contextmanager
    def swapping(self) -> Iterator[None]:
        with self._condition:
            self._waiting_swaps += 1
            while self._swapping or self._readers:
                self._condition.wait()
            self._waiting_swaps -= 1
            self._swapping = True
        try:
            yield
        finally:
            with self._condition:
                self._swapping = False
                self._condition.notify_all()
