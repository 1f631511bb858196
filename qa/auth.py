"""The app's login: where the password comes from, and slowing down password guessing.

Kept free of Gradio so that `qa --help` can declare the options without importing it.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import os
import sys
from collections.abc import Callable
from pathlib import Path

PASSWORD_ENV = "CITEQA_PASSWORD"


def add_auth_options(cli: argparse.ArgumentParser) -> None:
    """The login options, shared with `qa serve`."""
    cli.add_argument("--username", help=f"Require this username to open the app (with a password from ${PASSWORD_ENV} or --password-file).")
    cli.add_argument("--password-file", type=Path, help="Read the app's password from the first line of this file.")
    cli.add_argument(
        "--password", help=f"The app's password (visible to other users in `ps`; prefer ${PASSWORD_ENV} or --password-file)."
    )


class LoginGuard:
    """Checks the app's username and password; failed logins slow down every further attempt.

    After `free_failures` failures in a row, each attempt first waits 0.25 s, doubling per
    failure up to `max_delay` s, and attempts are taken one at a time, so guessing in
    parallel gains nothing. A success resets the count. Gradio awaits this on its event
    loop, so the wait holds up no other request.
    """

    def __init__(self, username: str, password: str, free_failures: int = 3, max_delay: float = 30.0) -> None:
        self._username = username.encode("utf-8", "surrogatepass")
        self._password = password.encode("utf-8", "surrogatepass")
        self._free_failures = free_failures
        self._max_delay = max_delay
        self.failures = 0
        self._turn: asyncio.Lock | None = None

    def delay(self) -> float:
        over = self.failures - self._free_failures
        return 0.0 if over < 0 else min(self._max_delay, 0.25 * 2**over)

    async def check(self, username: str, password: str) -> bool:
        self._turn = self._turn or asyncio.Lock()
        async with self._turn:
            await asyncio.sleep(self.delay())
            # Both compared, in constant time, so the timing reveals neither.
            ok = hmac.compare_digest(username.encode("utf-8", "surrogatepass"), self._username)
            ok &= hmac.compare_digest(password.encode("utf-8", "surrogatepass"), self._password)
            self.failures = 0 if ok else self.failures + 1
            return ok


def login(args: argparse.Namespace, fail: Callable[[str], object]) -> tuple[str, str] | None:
    """(username, password) from the options, or None; `fail(message)` reports a bad combination.

    The password comes from --password-file, else $CITEQA_PASSWORD, else --password (which
    other users of the machine can read in `ps`, hence the warning)."""
    password = None
    if getattr(args, "password_file", None):
        try:
            password = args.password_file.read_text(encoding="utf-8").split("\n", 1)[0].rstrip("\r")
        except (OSError, UnicodeDecodeError) as error:
            fail(f"cannot read the password file {args.password_file} ({error}).")
    elif os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
    elif args.password:
        print(
            f"warning: --password is visible to every user of this machine (in `ps`); set ${PASSWORD_ENV} "
            "or use --password-file instead.",
            file=sys.stderr,
        )
        password = args.password
    if bool(args.username) != bool(password):
        fail(f"--username and a password (${PASSWORD_ENV}, --password-file or --password) go together; give both or neither.")
    return (args.username, password) if args.username and password else None
