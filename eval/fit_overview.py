"""Fit the overview detector: `python -m eval.fit_overview`.

Writes `qa/overview.json` (read by `qa.overview`): a logistic regression on the default
embedder's query vector that tells a question about the documents as a whole ("What is this
about?", "总结一下") from a question about one thing in them.

Data, split in halves by a stable hash within each source, language and kind (fit on one,
figures on the other):
- `eval/data/overview_questions.tsv`: questions written for this (overview ones, and specific
  ones worded like them: "Give me an overview of the treatment options");
- the public dev sets' questions, all specific: XQuAD (English and Chinese), CMRC 2018,
  PubMedQA (up to `--per-set` each). The bundled abstract's gold questions are never fitted on;
  they are only counted, as further specific questions, in the held-out figures.

Threshold: the lowest probability at which no fit-half specific question is taken for an
overview, raised to at least 0.5 (an overview answer to a specific question quotes the
documents' opening instead of the answer, so false positives are the costly error).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from eval.dataset import load_gold_set
from eval.pubmedqa import load_pubmedqa
from eval.squad import build_squad_set, stable_hash
from index.embedding import load_embed_model, model_label
from index.splitting import detect_language
from qa.overview import OVERVIEW_PATH

WRITTEN = Path(__file__).parent / "data" / "overview_questions.tsv"
MIN_THRESHOLD = 0.5


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    source: str
    overview: bool

    @property
    def group(self) -> tuple[str, str, bool]:
        return self.source, self.language, self.overview


def fit_half(questions: list[Question]) -> list[bool]:
    """Half of each group (source, language, kind) by stable hash, so both halves hold every kind."""
    chosen: set[int] = set()
    for group in dict.fromkeys(q.group for q in questions):
        members = sorted((i for i, q in enumerate(questions) if q.group == group), key=lambda i: stable_hash("overview", questions[i].text))
        chosen.update(members[: len(members) // 2])
    return [i in chosen for i in range(len(questions))]


def written_questions(path: Path = WRITTEN) -> list[Question]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, language, text = line.split("\t")
            questions.append(Question(text, language, "written", kind == "overview"))
    return questions


def dev_questions(per_set: int) -> list[Question]:
    """Specific questions from the public dev sets, a stable sample of `per_set` per set and language."""
    found: list[Question] = []
    for name in ("xquad", "cmrc"):
        squad = build_squad_set(name)  # type: ignore[arg-type]
        for language in sorted({q.language for q in squad.questions}):
            texts = sorted({q.question for q in squad.questions if q.language == language}, key=lambda t: stable_hash("sample", t))
            found += [Question(t, language, name, False) for t in texts[:per_set]]
    texts = sorted({r.question for r in load_pubmedqa()}, key=lambda t: stable_hash("sample", t))
    found += [Question(t, detect_language(t), "pubmedqa", False) for t in texts[:per_set]]
    return found


def _rates(p: np.ndarray, questions: list[Question], threshold: float) -> dict:
    """Per source and language: how many questions, and the share taken for overviews."""
    groups: dict[str, list[bool]] = {}
    for probability, question in zip(p, questions):
        kind = "overview" if question.overview else "specific"
        groups.setdefault(f"{question.source} {kind} [{question.language}]", []).append(bool(probability >= threshold))
    return {name: {"n": len(flags), "taken_for_overview": round(sum(flags) / len(flags), 4)} for name, flags in sorted(groups.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedding", default="e5")
    parser.add_argument("--runtime", default="onnx", help="How the embedder runs (same vectors either way; onnx is faster).")
    parser.add_argument("--per-set", type=int, default=800, help="Dev-set questions per set and language.")
    parser.add_argument("--out", type=Path, default=OVERVIEW_PATH)
    args = parser.parse_args(argv)

    questions = written_questions() + dev_questions(args.per_set)
    jdm = [Question(item.question, detect_language(item.question), "jdm", False) for item in load_gold_set().items]
    embedder = load_embed_model(args.embedding, runtime=args.runtime)
    every = questions + jdm
    vectors = np.array([embedder.get_query_embedding(q.text) for q in tqdm(every, desc="questions", unit="q")], dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    x, x_jdm = vectors[: len(questions)], vectors[len(questions) :]
    y = np.array([q.overview for q in questions])
    fit = np.array(fit_half(questions))

    # The vector is already unit length: no scaling, so the stored weights apply to it as is.
    model = LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced").fit(x[fit], y[fit])
    weights, bias = model.coef_[0], float(model.intercept_[0])
    p = 1.0 / (1.0 + np.exp(-(x @ weights + bias)))
    p_jdm = 1.0 / (1.0 + np.exp(-(x_jdm @ weights + bias)))
    threshold = max(MIN_THRESHOLD, float(np.nextafter(p[fit & ~y].max(), 1.0)))
    test = [q for q, f in zip(questions, fit) if not f]
    out = {
        "version": "written by python -m eval.fit_overview; do not edit",
        "embedding": model_label(args.embedding),
        "weights": [round(float(w), 7) for w in weights],
        "bias": round(bias, 7),
        "threshold": round(threshold, 6),
        "fitted_on": {"overview": int((y & fit).sum()), "specific": int((~y & fit).sum())},
        "validation": {
            "test": _rates(p[~fit], test, threshold),
            "jdm (never fitted on)": _rates(p_jdm, jdm, threshold),
            "fit": _rates(p[fit], [q for q, f in zip(questions, fit) if f], threshold),
        },
        "missed_test_overviews": [q.text for q, prob in zip(test, p[~fit]) if q.overview and prob < threshold],
        "test_specific_taken": [q.text for q, prob in zip(test, p[~fit]) if not q.overview and prob >= threshold],
    }
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k not in ("weights",)}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
