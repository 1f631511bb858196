"""Command-line options of `python app.py` / `qa serve`."""

from __future__ import annotations

import pytest

from qa.ui.server import exposure_warning, options


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
