"""Questions about the documents as a whole: "What is this about?", "Summarize the report", "总结一下".

No single sentence answers such a question, so the relevance gate rightly finds none that does
and the assistant used to abstain; yet the documents answer it with their opening sentences.
A logistic regression on the question's own embedding (the vector the dense search computes
anyway: the check costs one dot product) tells these from questions about one thing in the
documents. It is fitted by `python -m eval.fit_overview` on questions written for it and on the
public dev sets' questions; the weights, threshold and held-out figures live in `qa/overview.json`.
It exists for the embedder it was fitted on only (another embedder's vectors mean something else).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

OVERVIEW_PATH = Path(__file__).with_name("overview.json")


@dataclass(frozen=True)
class OverviewDetector:
    weights: np.ndarray
    bias: float
    threshold: float
    """Probability at or above which a question is taken to be about the documents as a whole."""

    def probability(self, vector: list[float] | np.ndarray) -> float:
        v = np.asarray(vector, dtype=np.float64)
        v = v / (np.linalg.norm(v) or 1.0)
        return float(1.0 / (1.0 + np.exp(-(v @ self.weights + self.bias))))

    def is_overview(self, vector: list[float] | np.ndarray) -> bool:
        return self.probability(vector) >= self.threshold


@lru_cache(maxsize=4)
def load_overview_detector(embedding_label: str, path: Path = OVERVIEW_PATH) -> OverviewDetector | None:
    """The detector fitted for this embedder (its `model_label`), or None when there is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if data["embedding"] != embedding_label:
        return None
    return OverviewDetector(np.asarray(data["weights"], dtype=np.float64), float(data["bias"]), float(data["threshold"]))
