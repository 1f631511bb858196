"""Finding a running `qa serve` on the same index, so `qa ask` answers in about a second.

A new `qa ask` process would spend 10–20 s importing llama-index and loading the model
before its first answer. `qa serve` has both loaded, so it writes `serve.json` (host, port,
pid, collection, embedding model) into its data directory while it runs; `qa ask` reads
it, checks that the process is alive and serves this index with these settings, and calls
the app's `ask` endpoint over plain HTTP (Gradio's REST protocol through urllib: importing
gradio_client alone takes seconds). Anything unexpected falls back to answering in-process.
"""

from __future__ import annotations

import atexit
import json
import os
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.settings import Settings
from qa.types import Answer, ChatTurn, QuestionError

RECORD_NAME = "serve.json"
# The server answers in well under a second once warm; while it is still loading the model it
# may take as long as loading it here would, which is still no slower than falling back.
ASK_TIMEOUT_S = 120.0
_CONNECT_TIMEOUT_S = 2.0


class ServerUnavailable(RuntimeError):
    """No usable server: the caller answers in-process instead."""


@dataclass(frozen=True)
class ServeRecord:
    host: str
    port: int
    pid: int
    collection: str
    embedding: str
    auth: bool

    @property
    def url(self) -> str:
        # A server bound to every interface is reached on loopback from this machine.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"


def record_path(settings: Settings) -> Path:
    return settings.data_dir / RECORD_NAME


def announce(settings: Settings, host: str, port: int, auth: bool) -> None:
    """Write this server's record (for an embedded index) and remove it when the process exits."""
    if settings.chroma_host is not None:
        return
    path = record_path(settings)
    record = ServeRecord(host, port, os.getpid(), settings.collection, settings.embedding, auth)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(record)), encoding="utf-8")
    os.replace(temporary, path)  # readers never see half a record

    def withdraw() -> None:
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass

    atexit.register(withdraw)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, though probably not ours to use
        return True
    return True


def find_server(settings: Settings) -> ServeRecord | None:
    """The running server for this index and these settings, or None."""
    if settings.chroma_host is not None:
        return None
    try:
        record = ServeRecord(**json.loads(record_path(settings).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if record.auth or not _alive(record.pid):  # a password-protected app is not ours to call unasked
        return None
    if (record.collection, record.embedding) != (settings.collection, settings.embedding):
        return None
    return record


def _request(url: str, payload: dict | None = None, timeout: float = _CONNECT_TIMEOUT_S) -> bytes:
    data = json.dumps(payload).encode("utf-8") if payload is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise ServerUnavailable(f"{url}: {error}") from error


def remote_ask(record: ServeRecord, question: str, history: list[ChatTurn] | None = None) -> Answer:
    """Ask the running app; QuestionError for a refused question, ServerUnavailable for anything else."""
    endpoint = f"{record.url}/gradio_api/call/ask"
    started = json.loads(_request(endpoint, {"data": [question, [t.model_dump() for t in history or []], []]}))
    event = None
    for line in _request(f"{endpoint}/{started['event_id']}", timeout=ASK_TIMEOUT_S).decode("utf-8").splitlines():
        if line.startswith("event:"):
            event = line.partition(":")[2].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            data = json.loads(line.partition(":")[2])
            if event == "error":
                # The app's own message (empty question, no documents…), as the in-process path would say it.
                raise QuestionError(str(data) if data else "the server could not answer")
            return Answer.model_validate(data[0])
    raise ServerUnavailable(f"{endpoint}: no answer in the server's reply")
