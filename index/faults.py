"""Named crash points, for tests that kill a write at each phase of its commit.

`CITEQA_CRASH_AT=<name>` makes the process exit at once (`os._exit`, no clean-up, like
a SIGKILL) when a write reaches the point `<name>`; unset, a crash point costs one
environment lookup. The points, in commit order:
- ingest: `journalled`, `sentences-written`, `manifest-switched`, `tidied`;
- removal: `remove-journalled`, `remove-unlisted`, `tidied`.
"""

from __future__ import annotations

import os

CRASH_EXIT_STATUS = 86


def crash_point(name: str) -> None:
    if os.environ.get("CITEQA_CRASH_AT") == name:
        os._exit(CRASH_EXIT_STATUS)
