"""The default support judge: a verbatim check, then a small learned scorer.

It needs no LLM and no network.  Its parameters live in ``weights.json`` next
to this file and are produced by ``python -m eval.judge.train``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.judge.base import SupportVerdict
from eval.judge.features import FEATURE_NAMES, Embedder, feature_matrix, minilm_embedder

WEIGHTS_PATH = Path(__file__).resolve().with_name("weights.json")
RETRAIN_COMMAND = "python -m eval.judge.train"

# "[1]", "[12]", "[1, 3]", "[2-4]": the answer's citation markers are not part
# of what the answer claims.
_CITATION_MARKER = re.compile(r"\s*\[\d+(?:\s*[,，;–-]\s*\d+)*\]")
_ELLIPSIS = re.compile(r"…|\.{3}")
_EDGE_PUNCTUATION = " \t\n.,;:!?。，；：！？\"'“”‘’()（）"


def strip_citation_markers(text: str) -> str:
    return " ".join(_CITATION_MARKER.sub("", text).split())


def quoted_fragments(claim: str) -> list[str]:
    """The pieces of a claim that should appear word for word in a quote.

    Citation markers go, ellipses split the claim, and punctuation at the edges
    of a piece is dropped because a quote may end where the source goes on.
    """
    pieces = _ELLIPSIS.split(strip_citation_markers(claim))
    fragments = [" ".join(piece.split()).strip(_EDGE_PUNCTUATION) for piece in pieces]
    return [fragment for fragment in fragments if any(char.isalnum() for char in fragment)]


def _occurs_as_words(fragment: str, text: str) -> bool:
    # Word boundaries keep "reduced" from matching inside "unreduced"; they are
    # only asked for at Latin-script edges, since Chinese has no spaces.
    before = r"(?<![A-Za-z0-9])" if fragment[0].isascii() and fragment[0].isalnum() else ""
    after = r"(?![A-Za-z0-9])" if fragment[-1].isascii() and fragment[-1].isalnum() else ""
    return re.search(before + re.escape(fragment) + after, text) is not None


def is_verbatim(claim: str, evidence: Sequence[str]) -> bool:
    """True when every quoted fragment of the claim occurs in the joined evidence.

    Case is ignored: a quote that opens an answer sentence gains a capital.
    """
    fragments = [fragment.casefold() for fragment in quoted_fragments(claim)]
    joined = " ".join(" ".join(sentence.split()) for sentence in evidence).casefold()
    return bool(fragments) and all(_occurs_as_words(fragment, joined) for fragment in fragments)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


@dataclass(frozen=True)
class LogisticModel:
    """One logistic regression over a named subset of :data:`FEATURE_NAMES`."""

    feature_names: tuple[str, ...]
    coefficients: tuple[float, ...]
    intercept: float

    @classmethod
    def from_json(cls, data: dict, path: Path) -> LogisticModel:
        model = cls(
            feature_names=tuple(data["feature_names"]),
            coefficients=tuple(float(value) for value in data["coefficients"]),
            intercept=float(data["intercept"]),
        )
        # Weights trained on other features would silently score nonsense.
        unknown = set(model.feature_names) - set(FEATURE_NAMES)
        if unknown or len(model.coefficients) != len(model.feature_names):
            raise ValueError(
                f"{path} does not match the features the judge computes ({list(FEATURE_NAMES)}); "
                f"run `{RETRAIN_COMMAND}` to retrain"
            )
        return model

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(positive) for rows of ``features`` laid out as :data:`FEATURE_NAMES`."""
        columns = [FEATURE_NAMES.index(name) for name in self.feature_names]
        return _sigmoid(features[:, columns] @ np.asarray(self.coefficients) + self.intercept)


@dataclass(frozen=True)
class ScorerWeights:
    """The scorer stored in ``weights.json``:
    support = number coverage × P(grounded) × P(consistent).

    ``grounding`` tells whether the evidence is about what the claim says at
    all (a wrong citation scores low); ``consistency`` tells whether on-topic
    evidence agrees with the claim (negation, direction).  Each is fit on the
    data that can teach it; see :mod:`eval.judge.train`.  Numbers are not
    learned but checked: a figure is either in the cited source or made up, so
    the share of the claim's numbers found in the evidence scales the score.
    """

    grounding: LogisticModel
    consistency: LogisticModel
    threshold: float

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> ScorerWeights:
        if not path.is_file():
            raise FileNotFoundError(f"judge weights not found at {path}; run `{RETRAIN_COMMAND}` to create them")
        data = json.loads(path.read_text(encoding="utf-8"))
        try:
            return cls(
                grounding=LogisticModel.from_json(data["models"]["grounding"], path),
                consistency=LogisticModel.from_json(data["models"]["consistency"], path),
                threshold=float(data["threshold"]),
            )
        except KeyError as error:
            raise ValueError(f"{path} lacks {error}; run `{RETRAIN_COMMAND}` to rewrite it") from error

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        number_coverage = features[:, FEATURE_NAMES.index("number_coverage")]
        return number_coverage * self.grounding.probabilities(features) * self.consistency.probabilities(features)


class OfflineJudge:
    """Verbatim quotes are supported outright; everything else is scored.

    ``embed`` replaces the MiniLM encoder (tests pass a deterministic fake); by
    default the encoder is loaded on first use, once per process.
    """

    name = "offline"

    def __init__(self, weights_path: Path = WEIGHTS_PATH, embed: Embedder | None = None) -> None:
        self.weights = ScorerWeights.load(weights_path)
        self._embed = embed

    def judge(self, claim: str, evidence: Sequence[str]) -> SupportVerdict:
        return self.judge_many([(claim, evidence)])[0]

    def judge_many(self, pairs: Sequence[tuple[str, Sequence[str]]]) -> list[SupportVerdict]:
        verdicts: list[SupportVerdict | None] = [self._rule_verdict(claim, evidence) for claim, evidence in pairs]
        to_score = [index for index, verdict in enumerate(verdicts) if verdict is None]
        if to_score:
            claims = [strip_citation_markers(pairs[index][0]) for index in to_score]
            evidences = [" ".join(pairs[index][1]) for index in to_score]
            scores = self.weights.probabilities(feature_matrix(claims, evidences, self._embedder()))
            for index, score in zip(to_score, scores, strict=True):
                verdicts[index] = SupportVerdict(
                    supported=bool(score >= self.weights.threshold),
                    score=float(score),
                    method="offline-scorer",
                )
        return [verdict for verdict in verdicts if verdict is not None]

    def explain(self, claim: str, evidence: Sequence[str]) -> dict[str, float]:
        """Feature values and both model probabilities, for debugging a verdict."""
        features = feature_matrix([strip_citation_markers(claim)], [" ".join(evidence)], self._embedder())
        return {
            **{name: float(value) for name, value in zip(FEATURE_NAMES, features[0], strict=True)},
            "p_grounded": float(self.weights.grounding.probabilities(features)[0]),
            "p_consistent": float(self.weights.consistency.probabilities(features)[0]),
        }

    def _embedder(self) -> Embedder:
        if self._embed is None:
            self._embed = minilm_embedder()
        return self._embed

    @staticmethod
    def _rule_verdict(claim: str, evidence: Sequence[str]) -> SupportVerdict | None:
        # Nothing cited, or nothing claimed, is never support; no score needed.
        if not any(sentence.strip() for sentence in evidence) or not quoted_fragments(claim):
            return SupportVerdict(supported=False, score=0.0, method="verbatim")
        if is_verbatim(claim, evidence):
            return SupportVerdict(supported=True, score=1.0, method="verbatim")
        return None
