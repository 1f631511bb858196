"""`qa eval`: run an evaluation set, write the reports, and optionally gate on thresholds.

`qa.cli` owns the parser; it calls `add_eval_arguments` on its `eval` sub-parser
and `run_eval` with the parsed arguments.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

from eval.baseline import LlamaIndexBaseline
from eval.gate import GATE_PATH, SetThresholds, check, load_gate
from eval.judge.offline import OfflineJudge
from eval.judge.validation import validate_judge
from eval.report import Environment, EvalReport, GateResult, JudgeFigures, SystemSection, summary_table, write_report
from eval.runner import SET_NAMES, EvalSet, by_category, load_set, run_system, summarize
from eval.systems import CiteqaSystem, System
from index.embedding import model_label
from qa import Assistant, Settings
from qa.cli import settings_from_args

DEFAULT_OUT = Path("eval/reports/latest")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="set_name", choices=SET_NAMES, default="jdm",
                        help="jdm: the bundled-corpus gold set (default); pubmedqa: 500 PubMedQA abstracts.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"Directory for report.json, report.md and metrics.png (default: {DEFAULT_OUT}).")
    parser.add_argument("--gate", action="store_true",
                        help=f"Exit with status 1 when a figure breaks its threshold in {GATE_PATH.name}.")
    parser.add_argument("--limit", type=_positive, default=None,
                        help="Ask only the first N questions (the corpus stays whole).")
    parser.add_argument("--no-baseline", action="store_true",
                        help="Skip the llama-index baseline row.")


def _command(args: argparse.Namespace) -> str:
    parts = ["qa", "eval", "--set", args.set_name, "--out", str(args.out)]
    parts += ["--gate"] * args.gate + ["--no-baseline"] * args.no_baseline
    parts += ["--limit", str(args.limit)] if args.limit else []
    for flag in ("answerer", "llm_gguf", "llm_url", "llm_model", "llm_timeout_s", "llm_threads"):
        value = getattr(args, flag, None)
        if value is not None:
            parts += ["--" + flag.removesuffix("_s").replace("_", "-"), str(value)]
    return shlex.join(parts)


def _systems(
    evalset: EvalSet, work_dir: Path, with_baseline: bool, settings: Settings, only: str | None
) -> tuple[Assistant, list[System]]:
    # A fresh index per run: figures never depend on what an earlier run left behind.
    extractive = settings.model_copy(update={"data_dir": work_dir / "citeqa", "answerer": "extractive"})
    assistant = Assistant(data_dir=work_dir / "citeqa", include_bundled=False, settings=extractive)
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
    return assistant, systems


def run_eval(args: argparse.Namespace) -> int:
    """Run `qa eval`; the exit status is 1 when `--gate` finds a figure below its threshold."""
    gate = load_gate()
    thresholds = gate.sets.get(args.set_name, SetThresholds())
    evalset = load_set(args.set_name, args.limit)
    judge = OfflineJudge()
    validation = validate_judge(judge)
    with tempfile.TemporaryDirectory(prefix="citeqa-eval-") as work:
        settings = settings_from_args(args)
        assistant, systems = _systems(evalset, Path(work), not args.no_baseline, settings, getattr(args, "answerer", None))
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
        set=evalset.name,
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
