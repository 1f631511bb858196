"""How well a support judge agrees with human labels on SciFact.

The labelled pairs ship with the project (``eval/data/scifact_rte_train.tsv``);
the held-out split is the one recorded in ``weights.json`` by training, so the
offline judge is never scored on pairs it was fitted to.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.metrics import roc_auc_score

from eval.judge.base import BatchSupportJudge, SupportJudge, SupportVerdict
from eval.judge.offline import RETRAIN_COMMAND, WEIGHTS_PATH

SCIFACT_PATH = Path(__file__).resolve().parents[1] / "data" / "scifact_rte_train.tsv"

Split = Literal["heldout", "train", "all"]


@dataclass(frozen=True)
class LabelledPair:
    """One human-labelled example: does ``evidence`` support ``claim``?"""

    index: int
    claim: str
    evidence: str
    supported: bool


def load_scifact_pairs(path: Path = SCIFACT_PATH) -> list[LabelledPair]:
    """The SciFact RTE pairs: ``sentence1`` is the evidence, ``sentence2`` the claim."""
    if not path.is_file():
        raise FileNotFoundError(f"SciFact pairs not found at {path}; restore eval/data/ from git")
    with path.open(encoding="utf-8", newline="") as handle:
        # The texts contain quote characters that are not CSV quoting.
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        LabelledPair(
            index=int(row["index"]),
            claim=row["sentence2"],
            evidence=row["sentence1"],
            supported=row["entailment"] == "entailment",
        )
        for row in rows
    ]


def recorded_heldout_indices(weights_path: Path = WEIGHTS_PATH) -> frozenset[int]:
    if not weights_path.is_file():
        raise FileNotFoundError(
            f"{weights_path} is missing, so the held-out split is unknown; run `{RETRAIN_COMMAND}`"
        )
    training = json.loads(weights_path.read_text(encoding="utf-8"))["training"]
    return frozenset(training["split"]["heldout_indices"])


def select_split(pairs: Sequence[LabelledPair], split: Split, weights_path: Path = WEIGHTS_PATH) -> list[LabelledPair]:
    if split == "all":
        return list(pairs)
    heldout = recorded_heldout_indices(weights_path)
    if split == "heldout":
        return [pair for pair in pairs if pair.index in heldout]
    if split == "train":
        return [pair for pair in pairs if pair.index not in heldout]
    raise ValueError(f"unknown split {split!r}; use 'heldout', 'train' or 'all'")


@dataclass(frozen=True)
class JudgeValidation:
    """Agreement of a judge with the human labels on one split."""

    judge_name: str
    split: str
    split_description: str
    n: int
    positives: int
    negatives: int
    accuracy: float
    balanced_accuracy: float
    roc_auc: float

    def summary(self) -> str:
        return (
            f"support judge '{self.judge_name}' on {self.split_description}: "
            f"accuracy {self.accuracy:.3f}, balanced accuracy {self.balanced_accuracy:.3f}, "
            f"ROC AUC {self.roc_auc:.3f} (n={self.n}: {self.positives} supported, {self.negatives} not)"
        )


def agreement(labels: Sequence[bool], verdicts: Sequence[SupportVerdict]) -> tuple[float, float, float]:
    """Accuracy, balanced accuracy and ROC AUC of verdicts against labels."""
    truth = np.asarray(labels, dtype=bool)
    predicted = np.asarray([verdict.supported for verdict in verdicts], dtype=bool)
    if truth.all() or not truth.any():
        raise ValueError("ROC AUC and balanced accuracy need both supported and unsupported examples")
    accuracy = float(np.mean(predicted == truth))
    # The mean of the two per-class recalls: SciFact is two-thirds supported,
    # so plain accuracy rewards a judge that says "supported" to everything.
    balanced_accuracy = float((np.mean(predicted[truth]) + np.mean(~predicted[~truth])) / 2)
    roc_auc = float(roc_auc_score(truth, [verdict.score for verdict in verdicts]))
    return accuracy, balanced_accuracy, roc_auc


def validate_judge(
    judge: SupportJudge,
    split: Split = "heldout",
    data_path: Path = SCIFACT_PATH,
    weights_path: Path = WEIGHTS_PATH,
) -> JudgeValidation:
    """Score ``judge`` against the SciFact labels of ``split`` (default: held-out)."""
    all_pairs = load_scifact_pairs(data_path)
    pairs = select_split(all_pairs, split, weights_path)
    questions = [(pair.claim, [pair.evidence]) for pair in pairs]
    if isinstance(judge, BatchSupportJudge):
        verdicts = judge.judge_many(questions)
    else:
        verdicts = [judge.judge(claim, evidence) for claim, evidence in questions]
    labels = [pair.supported for pair in pairs]
    accuracy, balanced_accuracy, roc_auc = agreement(labels, verdicts)
    positives = sum(labels)
    return JudgeValidation(
        judge_name=judge.name,
        split=split,
        split_description=f"SciFact RTE {split} split, {len(pairs)} of {len(all_pairs)} human-labelled pairs",
        n=len(pairs),
        positives=positives,
        negatives=len(pairs) - positives,
        accuracy=accuracy,
        balanced_accuracy=balanced_accuracy,
        roc_auc=roc_auc,
    )
