"""Paraphrased questions: a reader asks in their own words, not the text's: `qa eval --paraphrases`.

XQuAD's and CMRC's questions were written by people looking at the paragraph, and most reuse its
words ("What percentage of farmland grows wheat?" over "…wheat is grown on 40% of farmland").
Readers of a paper they have not memorised do not: "Which parts of the body does this illness
attack?" for "…a disease involving muscle, skin, and vessels". The bundled abstract's paraphrase
questions went wrong 8 times in 9 (session 19), and no public set measured why.

This module makes such a set from the dev sets, without writing any question by hand for a
document: `python -m eval.paraphrases generate --gguf MODEL.gguf` has a local instruction model
(llama.cpp through `qa.llm`; Qwen2.5-1.5B-Instruct via `scripts/get-qwen.sh` was used) rewrite each
question with other words for its key terms, and writes `eval/data/paraphrases.tsv`. A rewrite is
kept only when it still asks something (ends in a question mark, not empty), does not give away an
answer text, and shares at most `MAX_OVERLAP` of its content words with the original; the accepted
answer texts stay the hit criterion, so a rewrite that drifted in meaning makes the set harder, not
easier. The file records the model that wrote each row. `qa eval --paraphrases` asks the rewrites
in place of the originals (questions without a kept rewrite are left out), and `eval.fit_relevance`
collects them as `xquad-paraphrased` / `cmrc-paraphrased`, in the split of their original.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from eval.dataset import DATA_DIR, DatasetError, EvalQuestion
from eval.metrics import answer_in_text
from index.tokenize import tokenize

PARAPHRASES_PATH = DATA_DIR / "paraphrases.tsv"
FIELDS = ("set", "id", "language", "paraphrase", "model")
# A rewrite keeping more than this share of the original's content terms is the same question
# reworded in grammar only; the dev sets already measure those.
MAX_OVERLAP = 0.6

# A small model asked for a list of rewrites copies most questions word for word; asked for one
# rewrite after three worked examples (made-up subjects, no dev set's or bundled document's) it
# replaces the key words (session 19 trial: 10 of 12 English rewrites kept against 2 of 12).
_INSTRUCTIONS = {
    "en": "You rewrite questions in other words. Keep the meaning, names, dates and numbers; replace every other key word "
    "with a synonym or a plain description and change the sentence structure. Reply with the rewritten question only.",
    "zh": "你用不同的说法改写问题。意思、人名、日期、数字不变；其余关键词都换成同义词或通俗描述，并改变句式。只回复改写后的问题。",
}
_EXAMPLES = {
    "en": (
        ("What percentage of the farmland is used to grow wheat?", "How much of the agricultural land goes to wheat?"),
        ("When did Acme open its first factory?", "In what year did Acme start manufacturing?"),
        ("Who designed the dome of the cathedral?", "Which architect was behind the church's cupola?"),
    ),
    "zh": (
        ("多大比例的农田用于种植小麦？", "农业用地里有多少是种麦子的？"),
        ("Acme公司何时开设了第一家工厂？", "Acme是哪一年开始生产的？"),
        ("谁设计了大教堂的穹顶？", "那座教堂的圆顶出自哪位建筑师之手？"),
    ),
}
_QUESTION_END = re.compile(r"[?？吗呢]\s*$")


def overlap(original: str, rewrite: str) -> float:
    """Share of the original's content terms (stemmed English words, jieba Chinese words) the rewrite keeps."""
    terms = set(tokenize(original, expand=False))
    if not terms:
        return 0.0
    return len(terms & set(tokenize(rewrite, expand=False))) / len(terms)


def acceptable(original: str, rewrite: str, answers: tuple[str, ...]) -> bool:
    """A kept rewrite asks a question, gives no answer text away and is worded differently."""
    rewrite = rewrite.strip()
    if not rewrite or not _QUESTION_END.search(rewrite):
        return False
    if any(answer_in_text(answer, rewrite) and not answer_in_text(answer, original) for answer in answers):
        return False
    return rewrite != original.strip() and overlap(original, rewrite) <= MAX_OVERLAP


@lru_cache(maxsize=2)
def load_paraphrases(path: Path = PARAPHRASES_PATH) -> dict[tuple[str, str], str]:
    """(set, question ID) → the kept rewrite; a malformed row names its line."""
    found: dict[tuple[str, str], str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise DatasetError(f"{path}: the header must be {' '.join(FIELDS)} (tab-separated), not {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            if not row["paraphrase"] or not row["id"] or row["language"] not in _INSTRUCTIONS:
                raise DatasetError(f"{path}:{line}: each row needs an ID, a language (en or zh) and a paraphrase")
            found[(row["set"], row["id"])] = row["paraphrase"]
    return found


def with_paraphrases(set_name: str, questions: list[EvalQuestion], path: Path = PARAPHRASES_PATH) -> list[EvalQuestion]:
    """Each question with a kept rewrite, asked in its rewritten words (same ID, answers and category)."""
    rewrites = load_paraphrases(path)
    return [
        question.model_copy(update={"question": rewrites[(set_name, question.id)]})
        for question in questions
        if (set_name, question.id) in rewrites
    ]


def _rewrite(llm, language: str, text: str) -> str:
    from llama_index.core.llms import ChatMessage

    from qa.llm import stream_chat

    messages = [ChatMessage(role="system", content=_INSTRUCTIONS[language])]
    for original, rewrite in _EXAMPLES[language]:
        messages += [ChatMessage(role="user", content=original), ChatMessage(role="assistant", content=rewrite)]
    messages.append(ChatMessage(role="user", content=text))
    return "".join(stream_chat(llm, messages, None)).strip()


def generate(set_name: str, gguf: Path, out: Path, threads: int, parallel: int, limit: int | None, share: float, reranker_part: bool = False) -> None:
    """Rewrite the set's questions not yet in `out` (resumable) and append the kept ones; `share` < 1
    keeps the questions of that share of the documents, the sample `eval.fit_relevance` fits on;
    `reranker_part` only the cross-encoder's training part of the fit half (`trains_reranker`)."""
    from tqdm import tqdm

    # Here, not at the top: eval.fit_relevance reads this module's rewrites.
    from eval.fit_relevance import in_sample, trains_reranker
    from eval.squad import build_squad_set
    from qa.llm import local_server
    from qa.settings import Settings

    squad = build_squad_set(set_name)  # type: ignore[arg-type]
    done = set(load_paraphrases(out)) if out.exists() else set()
    load_paraphrases.cache_clear()
    todo = [
        q
        for q in squad.questions
        if (set_name, q.id) not in done
        and all(in_sample(d, share) for d in q.doc_ids)
        and (not reranker_part or (q.split == "fit" and trains_reranker(set_name, q.doc_ids)))
    ][:limit]
    server = local_server(gguf, threads, 1024 * parallel, parallel)
    llm = server.llm(Settings(llm_max_tokens=80, llm_timeout_s=600))
    new = not out.exists()
    with out.open("a", encoding="utf-8", newline="") as handle, ThreadPoolExecutor(parallel) as pool:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        if new:
            writer.writerow(FIELDS)
        kept = asked = 0
        progress = tqdm(total=len(todo), unit="q", desc=f"paraphrases · {set_name}")
        for question, rewrite in zip(todo, pool.map(lambda q: _rewrite(llm, q.language, q.question), todo)):
            asked += 1
            if acceptable(question.question, rewrite, question.answers):
                kept += 1
                writer.writerow((set_name, question.id, question.language, " ".join(rewrite.split()), server.name))
                handle.flush()
            progress.update()
            progress.set_postfix(kept=f"{kept}/{asked}")
    print(f"{set_name}: kept {kept} of {asked} rewrites → {out}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("generate",))
    parser.add_argument("--set", dest="set_name", choices=("xquad", "cmrc"), required=True)
    parser.add_argument("--gguf", type=Path, required=True, help="An instruction model as a GGUF file (scripts/get-qwen.sh).")
    parser.add_argument("--out", type=Path, default=PARAPHRASES_PATH)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=4, help="Requests decoded together (llama.cpp slots).")
    parser.add_argument("--limit", type=int, default=None, help="Rewrite at most this many questions (a trial run).")
    parser.add_argument("--share", type=float, default=1.0, help="Only the questions of this share of the documents (eval.fit_relevance's stable sample).")
    parser.add_argument("--reranker-part", action="store_true", help="Only the questions that train the cross-encoder (eval.fit_relevance.trains_reranker).")
    args = parser.parse_args(argv)
    generate(args.set_name, args.gguf, args.out, args.threads, args.parallel, args.limit, args.share, args.reranker_part)
    return 0


if __name__ == "__main__":
    sys.exit(main())
