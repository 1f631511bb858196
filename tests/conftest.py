"""Shared fixtures: no network, deterministic fakes, and one real-model assistant per session."""

from __future__ import annotations

import os
import socket

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

_LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost", "0.0.0.0", ""}
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX paths
        return True
    host = address[0] if isinstance(address, tuple) and address else ""
    return host in _LOOPBACK_HOSTS or str(host).startswith("127.")


def _guarded(real):
    def connect(self, address, *args, **kwargs):
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"network blocked in tests: {address!r}")
        return real(self, address, *args, **kwargs)

    return connect


@pytest.fixture(autouse=True)
def block_network(monkeypatch):
    """Only loopback connections: the product must never need the internet."""
    monkeypatch.setattr(socket.socket, "connect", _guarded(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(_real_connect_ex))


@pytest.fixture
def hash_settings(tmp_path):
    """Settings for a fresh index with the deterministic no-model embedder."""
    from qa.settings import Settings

    return Settings(data_dir=tmp_path / "index", embedding="hash", show_progress=False)


@pytest.fixture
def hash_assistant(hash_settings):
    from qa import Assistant

    return Assistant(settings=hash_settings, include_bundled=True)


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory):
    """The real pipeline (MiniLM) on the bundled corpus, built once for the session."""
    from qa import Assistant, Settings

    data_dir = tmp_path_factory.mktemp("real-index")
    return Assistant(settings=Settings(data_dir=data_dir, show_progress=False), include_bundled=True)
