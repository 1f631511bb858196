"""Fit the question-intent detector: `python -m eval.fit_intent`.

Writes `qa/intent.json` (read by `qa.intent`): a multinomial logistic regression on the default
embedder's query vector that tells a question about the documents as a whole ("What is this
about?", "总结一下": overview) or about their bibliographic record (who wrote them: authors;
where the authors work: affiliation; where and when they were published: publication) from a
question about one thing in them (specific); a second regression, fitted on the bibliographic
questions only, tells which of the three a bibliographic question is (which header line answers it).
Both choose their regularisation by 5-fold cross-validation on the fit half.

Data, split in halves by a stable hash within each source, language and kind (fit on one,
figures on the other):
- `eval/data/document_questions.tsv`: questions written for this (overview and bibliographic
  ones of each kind, and specific ones worded like them: "Give me an overview of the treatment options",
  "Who wrote the Magna Carta?");
- the public dev sets' questions, all specific: XQuAD (English and Chinese), CMRC 2018,
  PubMedQA (up to `--per-set` each). The bundled abstract's gold questions are never fitted on;
  they are only counted, as further specific questions, in the held-out figures.

Thresholds, for overview and bibliographic: the lowest probability at which no fit-half question
of another kind is taken for it, raised to at least 0.5 (an overview or header-line answer to a specific question
quotes the documents' opening or header instead of the answer: false positives are the costly
error).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegressionCV
from tqdm import tqdm

from eval.dataset import load_gold_set
from eval.pubmedqa import load_pubmedqa
from eval.squad import build_squad_set, stable_hash
from index.embedding import load_embed_model, model_label
from index.splitting import detect_language
from qa.intent import INTENT_PATH, KINDS, ROLES, IntentDetector

WRITTEN = Path(__file__).parent / "data" / "document_questions.tsv"
MIN_THRESHOLD = 0.5
CS = [0.3, 1.0, 3.0, 10.0, 30.0, 100.0]


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    source: str
    intent: str

    @property
    def group(self) -> tuple[str, str, str]:
        return self.source, self.language, self.intent

    @property
    def kind(self) -> str:
        return "bibliographic" if self.intent in ROLES else self.intent


def fit_half(questions: list[Question]) -> list[bool]:
    """Half of each group (source, language, kind) by stable hash, so both halves hold every kind."""
    chosen: set[int] = set()
    for group in dict.fromkeys(q.group for q in questions):
        members = sorted((i for i, q in enumerate(questions) if q.group == group), key=lambda i: stable_hash("intent", questions[i].text))
        chosen.update(members[: len(members) // 2])
    return [i in chosen for i in range(len(questions))]


def written_questions(path: Path = WRITTEN) -> list[Question]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, language, text = line.split("\t")
            if kind not in (*KINDS, *ROLES) or kind == "bibliographic":
                raise ValueError(f"{path}: unknown kind {kind!r} in {line!r}")
            questions.append(Question(text, language, "written", kind))
    return questions


def dev_questions(per_set: int) -> list[Question]:
    """Specific questions from the public dev sets, a stable sample of `per_set` per set and language."""
    found: list[Question] = []
    for name in ("xquad", "cmrc"):
        squad = build_squad_set(name)  # type: ignore[arg-type]
        for language in sorted({q.language for q in squad.questions}):
            texts = sorted({q.question for q in squad.questions if q.language == language}, key=lambda t: stable_hash("sample", t))
            found += [Question(t, language, name, "specific") for t in texts[:per_set]]
    texts = sorted({r.question for r in load_pubmedqa()}, key=lambda t: stable_hash("sample", t))
    found += [Question(t, detect_language(t), "pubmedqa", "specific") for t in texts[:per_set]]
    return found


def _rates(taken: list[str], questions: list[Question]) -> dict:
    """Per source, intent and language: how many questions, and the share taken for each intent."""
    groups: dict[str, list[str]] = {}
    for intent, question in zip(taken, questions):
        groups.setdefault(f"{question.source} {question.intent} [{question.language}]", []).append(intent)
    return {
        name: {"n": len(found), **{f"taken_for_{i}": round(found.count(i) / len(found), 4) for i in ("overview", *ROLES) if found.count(i)}}
        for name, found in sorted(groups.items())
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedding", default="e5")
    parser.add_argument("--runtime", default="onnx", help="How the embedder runs (same vectors either way; onnx is faster).")
    parser.add_argument("--per-set", type=int, default=800, help="Dev-set questions per set and language.")
    parser.add_argument("--out", type=Path, default=INTENT_PATH)
    args = parser.parse_args(argv)

    questions = written_questions() + dev_questions(args.per_set)
    jdm = [Question(item.question, detect_language(item.question), "jdm", "specific") for item in load_gold_set().items]
    embedder = load_embed_model(args.embedding, runtime=args.runtime)
    every = questions + jdm
    vectors = np.array([embedder.get_query_embedding(q.text) for q in tqdm(every, desc="questions", unit="q")], dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    x, x_jdm = vectors[: len(questions)], vectors[len(questions) :]
    y = np.array([KINDS.index(q.kind) for q in questions])
    fit = np.array(fit_half(questions))

    # The vectors are unit length: no scaling, so the stored weights apply to them as they are.
    # (A single regression over all five intents was measured on the same halves and recognised
    # fewer: held-out overview 0.70 / 0.52 and publication 0.40 / 0.33, en / zh.)
    # Regularisation chosen by 5-fold cross-validation on the fit half (unit-length vectors give
    # small logits: the default C=1 under-fits them).
    model = LogisticRegressionCV(Cs=CS, cv=5, max_iter=5000, class_weight="balanced", scoring="neg_log_loss").fit(x[fit], y[fit])
    assert list(model.classes_) == list(range(len(KINDS)))
    p = model.predict_proba(x)
    thresholds = {}
    for k, kind in enumerate(KINDS[1:], start=1):
        # Other kinds of fit-half question that this kind would otherwise take.
        others = fit & (y != k) & (p.argmax(axis=1) == k)
        thresholds[kind] = round(max(MIN_THRESHOLD, float(np.nextafter(p[others, k].max(), 1.0)) if others.any() else MIN_THRESHOLD), 6)
    bibliographic = np.array([q.kind == "bibliographic" for q in questions])
    roles = LogisticRegressionCV(Cs=CS, cv=5, max_iter=5000, class_weight="balanced", scoring="neg_log_loss").fit(x[fit & bibliographic], [ROLES.index(q.intent) for q, f, b in zip(questions, fit, bibliographic) if f and b])
    detector = IntentDetector(model.coef_, model.intercept_, thresholds, roles.coef_, roles.intercept_)
    taken = [detector.intent(v)[0] for v in x]
    taken_jdm = [detector.intent(v)[0] for v in x_jdm]
    test = [i for i, f in enumerate(fit) if not f]
    out = {
        "version": "written by python -m eval.fit_intent; do not edit",
        "embedding": model_label(args.embedding),
        "kinds": list(KINDS),
        "weights": [[round(float(w), 7) for w in row] for row in model.coef_],
        "biases": [round(float(b), 7) for b in model.intercept_],
        "thresholds": thresholds,
        "regularisation_C": {"kinds": float(model.C_[0]), "roles": float(roles.C_[0])},
        "roles": list(ROLES),
        "role_weights": [[round(float(w), 7) for w in row] for row in roles.coef_],
        "role_biases": [round(float(b), 7) for b in roles.intercept_],
        "fitted_on": {intent: sum(q.intent == intent for q, f in zip(questions, fit) if f) for intent in ("specific", "overview", *ROLES)},
        "validation": {
            "test": _rates([taken[i] for i in test], [questions[i] for i in test]),
            "jdm (never fitted on)": _rates(taken_jdm, jdm),
            "fit": _rates([t for t, f in zip(taken, fit) if f], [q for q, f in zip(questions, fit) if f]),
        },
        "test_mistaken": [f"{questions[i].intent} -> {taken[i]}: {questions[i].text}" for i in test if taken[i] != questions[i].intent],
        "jdm_taken": [f"{intent}: {q.text}" for q, intent in zip(jdm, taken_jdm) if intent != "specific"],
    }
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if "weights" not in k and "biases" not in k}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
