"""With a password, nothing (page, API, upload, or the library's write events) answers before login."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from qa.settings import Settings
from qa.ui import build_app, serve
from tests.ui.conftest import _free_loopback_port


@pytest.fixture(scope="module")
def protected_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from qa import Assistant

    settings = Settings(data_dir=tmp_path_factory.mktemp("auth-index"), embedding="hash", show_progress=False)
    app = build_app(Assistant(settings=settings, include_bundled=True))
    port = _free_loopback_port()
    serve(app, "127.0.0.1", port, ("ana", "s3cret"), block=False, quiet=True, max_upload_bytes=1000)
    yield f"http://127.0.0.1:{port}"
    app.close()


def _write_events(url: str) -> list[int]:
    """Indexes of the app's upload and remove events, from its config (read after logging in)."""
    with httpx.Client(base_url=url) as client:
        assert client.post("/login", data={"username": "ana", "password": "s3cret"}).status_code == 200
        config = client.get("/config").json()
    return [d["id"] for d in config["dependencies"] if any(t[1] in ("upload", "click") for t in d["targets"])]


def test_every_route_refuses_a_client_that_has_not_logged_in(protected_url: str) -> None:
    with httpx.Client(base_url=protected_url) as client:
        assert client.get("/config").status_code == 401
        assert client.post("/gradio_api/upload", files={"files": ("a.txt", b"Text.")}).status_code == 401
        events = _write_events(protected_url)
        assert len(events) >= 2  # the upload and the remove button at least
        for fn_index in events:
            joined = client.post(
                "/gradio_api/queue/join",
                json={"data": [["r"]], "fn_index": fn_index, "session_hash": "attacker", "event_data": None, "trigger_id": None},
            )
            assert joined.status_code == 401, fn_index
        assert client.post("/gradio_api/call/ask", json={"data": ["What?", []]}).status_code == 401
        assert client.post("/login", data={"username": "ana", "password": "wrong"}).status_code == 400


def test_uploads_over_the_limit_are_refused(protected_url: str) -> None:
    with httpx.Client(base_url=protected_url) as client:
        assert client.post("/login", data={"username": "ana", "password": "s3cret"}).status_code == 200
        refused = client.post("/gradio_api/upload", files={"files": ("big.txt", b"x" * 5000)})
        assert refused.status_code == 413, refused.text
        accepted = client.post("/gradio_api/upload", files={"files": ("small.txt", b"Small text.")})
        assert accepted.status_code == 200 and json.loads(accepted.text)
