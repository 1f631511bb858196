"""Questions about a document rather than about what it says: its content as a whole ("What is this
about?", "总结一下") or its bibliographic record ("Who wrote this?", "Where do the authors work?", "Which journal
published it?").

Neither has a sentence that answers it the way the relevance gate was fitted to recognise (on
Wikipedia and PubMedQA questions about content), so the assistant abstained, yet the documents do
answer them: with their opening sentences, and with their header lines (authors, affiliation,
citation line: the intent says which). A multinomial
logistic regression on the question's own embedding (the vector the dense search computes anyway:
the check costs two small matrix products) tells these two kinds from questions about one thing in the
documents, and a second one tells which header line a bibliographic question asks for. Both are
fitted by `python -m eval.fit_intent` on questions written for it and on the
public dev sets' questions; the weights, thresholds and held-out figures live in `qa/intent.json`.
It exists for the embedder it was fitted on only (another embedder's vectors mean something else).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from index.splitting import AFFILIATION, AUTHORS, CITATION

INTENT_PATH = Path(__file__).with_name("intent.json")
Intent = Literal["specific", "overview", "authors", "affiliation", "publication"]
# The kinds the first regression tells apart; a "bibliographic" question's kind is then one of ROLES.
KINDS = ("specific", "overview", "bibliographic")
ROLES: tuple[Intent, ...] = ("authors", "affiliation", "publication")
# The header line (index.splitting.split_document's `section` of a metadata sentence) that answers
# each bibliographic intent.
HEADER_ROLE: dict[str, str] = {"authors": AUTHORS, "affiliation": AFFILIATION, "publication": CITATION}


@dataclass(frozen=True)
class IntentDetector:
    weights: np.ndarray
    """One row per kind of `KINDS` (a multinomial logistic regression), over the unit-length query vector."""
    biases: np.ndarray
    thresholds: dict[str, float]
    """For "overview" and "bibliographic": the probability at or above which a question is taken for it."""
    role_weights: np.ndarray
    """One row per role of `ROLES`: which header line a bibliographic question asks for."""
    role_biases: np.ndarray

    def probabilities(self, vector: list[float] | np.ndarray) -> dict[str, float]:
        return dict(zip(KINDS, _softmax(self.weights @ _unit(vector) + self.biases)))

    def intent(self, vector: list[float] | np.ndarray) -> tuple[Intent, float]:
        """The question's intent and the probability of its kind."""
        kind, probability = decide(self.probabilities(vector), self.thresholds)
        if kind == "bibliographic":
            return ROLES[int(np.argmax(self.role_weights @ _unit(vector) + self.role_biases))], probability
        return kind, probability  # type: ignore[return-value]


def decide(probabilities: dict[str, float], thresholds: dict[str, float]) -> tuple[str, float]:
    """The most probable kind if it is "specific" or clears its threshold; else "specific"."""
    best = max(probabilities, key=probabilities.__getitem__)
    if best != "specific" and probabilities[best] >= thresholds[best]:
        return best, probabilities[best]
    return "specific", probabilities["specific"]


def _unit(vector: list[float] | np.ndarray) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float64)
    return v / (np.linalg.norm(v) or 1.0)


def _softmax(z: np.ndarray) -> list[float]:
    e = np.exp(z - z.max())
    return (e / e.sum()).tolist()


@lru_cache(maxsize=4)
def load_intent_detector(embedding_label: str, path: Path = INTENT_PATH) -> IntentDetector | None:
    """The detector fitted for this embedder (its `model_label`), or None when there is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if data["embedding"] != embedding_label:
        return None
    if tuple(data["kinds"]) != KINDS or tuple(data["roles"]) != ROLES:
        raise ValueError(f"{path} was fitted for other kinds of question; re-run python -m eval.fit_intent")
    return IntentDetector(
        np.asarray(data["weights"], dtype=np.float64),
        np.asarray(data["biases"], dtype=np.float64),
        data["thresholds"],
        np.asarray(data["role_weights"], dtype=np.float64),
        np.asarray(data["role_biases"], dtype=np.float64),
    )
