"""Command-line options of `python app.py` / `qa serve`."""

from __future__ import annotations

import asyncio

import pytest

from qa.ui.server import exposure_warning, options



def _run(coroutine):
    """asyncio.run in its own thread: a browser test earlier in the session may leave an event loop running in this one."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()

def test_defaults_bind_loopback() -> None:
    args, auth = options([])
    assert (args.host, args.port, auth) == ("127.0.0.1", 7860, None)


def test_username_and_password_give_auth() -> None:
    args, auth = options(["--host", "0.0.0.0", "--username", "ana", "--password", "s3cret", "--data-dir", "/tmp/x"])
    assert auth == ("ana", "s3cret")
    assert str(args.data_dir) == "/tmp/x"
    assert exposure_warning(args.host, auth) is None


def test_half_of_the_credentials_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        options(["--username", "ana"])
    assert "give both or neither" in capsys.readouterr().err


def test_public_bind_without_auth_warns() -> None:
    assert "without --username/--password" in (exposure_warning("0.0.0.0", None) or "")
    assert exposure_warning("localhost", None) is None


def test_options_already_parsed_by_qa_serve_are_accepted() -> None:
    parsed, _ = options(["--port", "7000"])
    assert options(parsed) == (parsed, None)


def test_password_from_the_environment_or_a_file_not_argv(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("CITEQA_PASSWORD", "from-env")
    assert options(["--username", "ana"])[1] == ("ana", "from-env")
    secret = tmp_path / "password"
    secret.write_text("from-file\n", encoding="utf-8")
    assert options(["--username", "ana", "--password-file", str(secret)])[1] == ("ana", "from-file")
    monkeypatch.delenv("CITEQA_PASSWORD")
    assert options(["--username", "ana", "--password", "argv"])[1] == ("ana", "argv")
    assert "visible to every user of this machine" in capsys.readouterr().err


def test_failed_logins_slow_down_further_attempts() -> None:
    import asyncio

    from qa.auth import LoginGuard

    guard = LoginGuard("ana", "right", free_failures=2, max_delay=4.0)
    delays = []
    for _ in range(8):
        delays.append(guard.delay())
        guard.failures += 1  # what a failed attempt does, without waiting for its delay here
    assert delays == [0.0, 0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 4.0]
    guard.failures = 0
    assert not _run(guard.check("ana", "wrong")) and guard.failures == 1
    assert not _run(guard.check("bob", "right"))
    assert _run(guard.check("ana", "right")) and guard.failures == 0
