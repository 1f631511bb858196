"""One browser session's conversation: its turns, and how a clicked marker names a citation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.types import Answer, ChatTurn


@dataclass
class Turn:
    """A question and, once retrieved, its answer; `shown` is how much of the answer has streamed in,
    `draft` what a generative answerer's model has written so far (replaced by the verified answer)."""

    question: str
    answer: Answer | None = None
    shown: int = 0
    draft: str = ""

    @property
    def visible_text(self) -> str:
        return self.answer.text[: self.shown] if self.answer else ""


def history(turns: list[Turn]) -> list[ChatTurn]:
    """The finished turns as the assistant's `history` (the plain answer text, not its HTML)."""
    return [
        message
        for turn in turns
        if turn.answer is not None
        for message in (ChatTurn(role="user", content=turn.question), ChatTurn(role="assistant", content=turn.answer.text))
    ]


@dataclass(frozen=True)
class Selection:
    """A citation the user clicked: answer `turn`, marker `marker`."""

    turn: int
    marker: int

    _TOKEN = re.compile(r"^(\d+):(\d+)$")

    @property
    def token(self) -> str:
        """How the browser names this selection (in marker links and the hidden selection box)."""
        return f"{self.turn}:{self.marker}"

    @classmethod
    def parse(cls, token: str) -> Selection | None:
        match = cls._TOKEN.match(token.strip())
        return cls(int(match.group(1)), int(match.group(2))) if match else None
