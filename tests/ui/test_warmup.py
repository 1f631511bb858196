"""The page is served before the index and model are open, and says so until they are."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from qa import Assistant, Settings
from qa.ui import build_app, serve
from qa.ui.warmup import Warmup
from tests.ui.conftest import _free_loopback_port

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_the_page_answers_while_the_index_loads(browser: Browser, tmp_path: Path) -> None:
    release = threading.Event()

    def open_slowly() -> Assistant:
        release.wait(timeout=120)
        return Assistant(settings=Settings(data_dir=tmp_path / "index", embedding="hash", show_progress=False), include_bundled=True)

    warmup = Warmup(open_slowly)
    app = build_app(warmup)
    port = _free_loopback_port()
    serve(app, "127.0.0.1", port, block=False, quiet=True)
    warmup.start()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
        expect(page.locator("#cq-warmup")).to_contain_text("Loading", timeout=60_000)
        assert not warmup.ready
        release.set()
        expect(page.locator("#cq-warmup")).to_be_hidden(timeout=60_000)
        page.get_by_role("tab", name="Documents · 文献").click()
        expect(page.locator("#cq-documents")).to_contain_text("jdm_treatment_review")
    finally:
        release.set()
        context.close()
        app.close()


def test_a_failed_warmup_is_reported_to_every_caller() -> None:
    def broken() -> Assistant:
        raise OSError("disk full")

    warmup = Warmup(broken)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="disk full"):
            warmup.get()
    assert warmup.ready
