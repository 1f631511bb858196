"""Fit the answerer's relevance weights on PubMedQA: `python -m eval.calibration`.

For every other PubMedQA question (the even lines; the odd ones stay unseen), the
best-scoring candidate from the question's own abstract is a relevant example and
the best candidate from any other abstract an irrelevant one. A logistic
regression on (dense cosine, term coverage) gives `RELEVANCE_WEIGHTS` in
qa/answering.py; its 0.5 point is the abstention threshold `min_relevance`. A
second fit on term coverage alone gives `COVERAGE_ONLY_WEIGHTS`, used for questions
the English-only embedder cannot read (Chinese ones).
"""

from __future__ import annotations

import tempfile

import numpy as np

from eval.pubmedqa import load_pubmedqa
from qa import Assistant, Settings
from qa.question import Question


def fit_logistic(features: np.ndarray, labels: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Newton's method for a two-feature logistic regression; small enough not to need a library."""
    design = np.hstack([features, np.ones((len(features), 1))])
    weights = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-design @ weights))
        gradient = design.T @ (labels - p)
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(design.shape[1])
        weights += np.linalg.solve(hessian, gradient)
    return weights


def collect_examples(assistant: Assistant, records) -> tuple[np.ndarray, np.ndarray]:
    features, labels = [], []
    for record in records:
        question = Question.parse(record.question)
        weights = assistant.answerer.term_weights(question, None)
        query_vector = assistant.embed_model.get_query_embedding(record.question)
        hits = assistant.retriever.search(record.question, top_k=10)
        units = assistant.answerer.units(question, hits, weights, query_vector)
        for label, pool in ((1, [u for u in units if u.sentence.doc_id == record.pmid]), (0, [u for u in units if u.sentence.doc_id != record.pmid])):
            if pool:
                features.append([pool[0].cosine, pool[0].coverage])
                labels.append(label)
    return np.array(features), np.array(labels, dtype=float)


def main() -> None:
    records = load_pubmedqa()
    with tempfile.TemporaryDirectory() as data_dir:
        assistant = Assistant(settings=Settings(data_dir=data_dir), include_bundled=False)
        assistant.ingest((r.document() for r in records), total=len(records))
        features, labels = collect_examples(assistant, records[::2])
        held_features, held_labels = collect_examples(assistant, records[1::2])
    print(f"examples: {len(labels)} fit, {len(held_labels)} held out")
    w_dense, w_coverage, bias = fit_logistic(features, labels)
    print(f'RELEVANCE_WEIGHTS = {{"dense": {w_dense:.2f}, "coverage": {w_coverage:.2f}, "bias": {bias:.2f}}}')
    report(held_features @ np.array([w_dense, w_coverage]) + bias, held_labels)
    w_only, bias_only = fit_logistic(features[:, 1:], labels)
    print(f'COVERAGE_ONLY_WEIGHTS = {{"dense": 0.0, "coverage": {w_only:.2f}, "bias": {bias_only:.2f}}}')
    report(held_features[:, 1] * w_only + bias_only, held_labels)


def report(logits: np.ndarray, labels: np.ndarray) -> None:
    predicted = logits >= 0.0
    positives, negatives = labels == 1, labels == 0
    balanced = 0.5 * (predicted[positives].mean() + (~predicted[negatives]).mean())
    print(f"  held-out balanced accuracy at relevance 0.5: {balanced:.3f}")


if __name__ == "__main__":
    main()
