"""The app's one `Assistant`, opened in a background thread so the page is served before the model loads.

Importing llama-index and loading the embedding model take most of a cold start (10–20 s
on a small machine); the page needs neither to appear. `qa serve` starts the server first,
then `start()`s the warm-up; callbacks that need the assistant wait for it with `get()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.assistant import Assistant


class Warmup:
    def __init__(self, open_assistant: Callable[[], Assistant]) -> None:
        self._open = open_assistant
        self._done = threading.Event()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None
        self._assistant: Assistant | None = None
        self._error: BaseException | None = None

    @classmethod
    def of(cls, assistant: Assistant) -> Warmup:
        """An already open assistant (tests, programs that embed the app)."""
        warmup = cls(lambda: assistant)
        warmup._assistant = assistant
        warmup._done.set()
        return warmup

    def start(self) -> None:
        """Begin opening the assistant in the background (once)."""
        with self._started:
            if self._thread is None and not self._done.is_set():
                self._thread = threading.Thread(target=self._run, name="citeqa-warmup", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            self._assistant = self._open()
        except BaseException as error:  # reported to every caller of get(), not lost in the thread
            self._error = error
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def get(self) -> Assistant:
        """The assistant, waiting for the warm-up if needed; raises what stopped it from opening."""
        self.start()
        self._done.wait()
        if self._error is not None:
            raise RuntimeError(f"The index could not be opened: {self._error}") from self._error
        assert self._assistant is not None
        return self._assistant
