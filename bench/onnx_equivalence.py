"""Do the ONNX exports (index/onnx_models.py) compute what sentence-transformers computes, and how fast?

    HF_HUB_OFFLINE=1 .venv/bin/python bench/onnx_equivalence.py [--xquad /work/shared/data/xquad_dev] [--sentences 300]

On XQuAD contexts split into sentences (English and Chinese) and XQuAD questions, both runtimes in
this process (the exports are made first if missing):
  embedder   cosine(ONNX vector, sentence-transformers vector) per text, passage and query prompts;
             top-1 sentence of each question over its language's sentences, both runtimes
  reranker   each question against the sentences of its own paragraph (up to --candidates, the
             product reranks 6): largest |logit difference|, and whether the order is identical
  speed      load time (models only, libraries already imported) and single-query embed / one
             rerank batch p50, ONNX ÷ sentence-transformers, both at 1 thread, interleaved
XQuAD is read from the shared data folder by this script only (the product never reads it).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from common import REPO  # noqa: F401  (puts the repository on sys.path, sets HF_HUB_OFFLINE)
from e5_equivalence import xquad

from index.embedding import OnnxEmbedding, load_embed_model
from qa.reranker import OnnxReranker, SentenceTransformersReranker

RUNTIMES = ("sentence-transformers", "onnx")


def timed(make):
    started = time.perf_counter()
    made = make()
    return made, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xquad", type=Path, default=Path("/work/shared/data/xquad_dev"))
    parser.add_argument("--sentences", type=int, default=300, help="sentences per language")
    parser.add_argument("--questions", type=int, default=50, help="questions per language")
    parser.add_argument("--candidates", type=int, default=6, help="most sentences reranked per question")
    args = parser.parse_args()

    from index.onnx_models import embedder_export
    from qa.reranker import reranker_export

    import torch  # imported before the timed loads, so they time the models, not the libraries
    import sentence_transformers  # noqa: F401

    _, export_s = timed(lambda: (embedder_export(), reranker_export()))
    print(f"exports ready in {export_s:.1f} s (0 if they existed); torch {torch.__version__}")
    embedders, loads = {}, {}
    for runtime in RUNTIMES:
        embedders[runtime], loads[f"embedder {runtime}"] = timed(lambda: load_embed_model("e5", 64, runtime))
    rerankers = {}
    rerankers["sentence-transformers"], loads["reranker sentence-transformers"] = timed(SentenceTransformersReranker)
    rerankers["onnx"], loads["reranker onnx"] = timed(OnnxReranker)
    assert isinstance(embedders["onnx"], OnnxEmbedding)
    print("load s: " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in loads.items()))

    # -- embedder ------------------------------------------------------------------------------
    corpora = {lang: xquad(args.xquad, lang) for lang in ("en", "zh")}
    worst = 1.0
    for lang, (sentences, questions) in corpora.items():
        chosen = sentences[: args.sentences]
        asked = [q for q, _ in questions[:: max(1, len(questions) // args.questions)][: args.questions]]
        passages = {rt: np.asarray(embedders[rt].get_text_embedding_batch(chosen)) for rt in RUNTIMES}
        queries = {rt: np.asarray([embedders[rt].get_query_embedding(q) for q in asked]) for rt in RUNTIMES}
        for prompt, vectors in (("passage", passages), ("query", queries)):
            cos = (vectors["onnx"] * vectors["sentence-transformers"]).sum(axis=1)
            worst = min(worst, float(cos.min()))
            print(f"cosine {lang} {prompt:7s} n={len(cos)}: min {cos.min():.8f}  mean {cos.mean():.8f}")
        tops = {rt: (queries[rt] @ passages[rt].T).argmax(1) for rt in RUNTIMES}
        print(f"top-1 {lang}: same sentence for {int((tops['onnx'] == tops['sentence-transformers']).sum())}/{len(asked)} questions")

    # -- reranker ------------------------------------------------------------------------------
    largest, same_order, sets = 0.0, 0, 0
    for lang, (_, questions) in corpora.items():
        boundary = "。" if lang == "zh" else ". "
        for question, context in questions[:: max(1, len(questions) // args.questions)][: args.questions]:
            candidates = [(s.strip(), "") for s in context.split(boundary) if len(s.strip()) > 3][: args.candidates]
            logits = {rt: np.asarray(rerankers[rt].scores(question, candidates)) for rt in RUNTIMES}
            largest = max(largest, float(np.abs(logits["onnx"] - logits["sentence-transformers"]).max()))
            same_order += np.argsort(logits["onnx"]).tolist() == np.argsort(logits["sentence-transformers"]).tolist()
            sets += 1
    print(f"reranker: {sets} question sets, largest |logit difference| {largest:.2e}, identical order in {same_order}/{sets}")

    # -- speed ---------------------------------------------------------------------------------
    questions = [q for lang in corpora for q, _ in corpora[lang][1][: args.questions]]
    embed_ms = {rt: [] for rt in RUNTIMES}
    rerank_ms = {rt: [] for rt in RUNTIMES}
    for question, (_, context) in zip(questions, [pair for lang in corpora for pair in corpora[lang][1]], strict=False):
        candidates = [(s.strip(), "") for s in context.split(". ")][: args.candidates]
        for rt in RUNTIMES:  # interleaved: a load change hits both
            _, seconds = timed(lambda: embedders[rt].get_query_embedding(question))
            embed_ms[rt].append(1000 * seconds)
            _, seconds = timed(lambda: rerankers[rt].scores(question, candidates))
            rerank_ms[rt].append(1000 * seconds)
    for name, table in (("query embed", embed_ms), (f"rerank ≤{args.candidates} pairs", rerank_ms)):
        st, ox = statistics.median(table["sentence-transformers"]), statistics.median(table["onnx"])
        print(f"{name:<20} p50 ms: sentence-transformers {st:.1f}, onnx {ox:.1f}, onnx ÷ st {ox / st:.2f}")
    print(f"targets: embeddings cosine >= 0.9999 ({'met' if worst >= 0.9999 else 'NOT met'}: min {worst:.8f}); "
          f"logits within 1e-3 ({'met' if largest <= 1e-3 else 'NOT met'}), identical order "
          f"({'met' if same_order == sets else 'NOT met'})")


if __name__ == "__main__":
    main()
