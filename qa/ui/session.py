"""One browser session's conversation: its turns, how they are kept in the browser, and how a clicked marker names a citation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError

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


def saved(turns: list[Turn]) -> list[dict]:
    """The answered turns as JSON for the browser's storage, so the conversation survives a reload."""
    return [{"question": t.question, "answer": t.answer.model_dump(mode="json")} for t in turns if t.answer is not None]


def restored(data: object) -> list[Turn]:
    """Turns back from the browser's storage; anything unreadable (an older format, a hand edit) is dropped."""
    turns: list[Turn] = []
    for item in data if isinstance(data, list) else []:
        try:
            answer = Answer.model_validate(item["answer"])
            turns.append(Turn(question=str(item["question"]), answer=answer, shown=len(answer.text)))
        except (KeyError, TypeError, ValidationError):
            continue
    return turns


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
