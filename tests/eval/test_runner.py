"""Runner, report and gate with fakes; one end-to-end run of `qa eval` on the real pipeline."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import pytest

from eval.dataset import EvalQuestion
from eval.gate import GateConfig, SetThresholds, check, load_gate
from eval.judge.base import SupportVerdict
from eval.report import Environment, EvalReport, GateResult, JudgeFigures, SystemSection, summary_table, write_report
from eval.runner import EvalSet, by_category, load_set, run_system, score_item, summarize
from eval.systems import CitedSource, Passage, SystemResponse
from index.documents import Document


class SubstringJudge:
    """Supported when the claim, without ellipses, occurs in the joined evidence."""

    name = "substring"

    def judge(self, claim: str, evidence: Sequence[str]) -> SupportVerdict:
        pieces = [piece.strip(" .") for piece in claim.split("…") if piece.strip(" .")]
        joined = " ".join(evidence)
        ok = bool(pieces) and all(piece in joined for piece in pieces)
        return SupportVerdict(supported=ok, score=float(ok), method="verbatim")


DOC = Document(id="doc", text="JDM is rare. Most do not respond. 大多数患者反应不完全。")
S1, S2, Z2 = "doc:0000:a", "doc:0001:b", "doc:0002:c"
QUESTIONS = [
    EvalQuestion(
        id="t-001", category="english", language="en", question="Do most respond?", answerable=True,
        gold_sentences=[frozenset({S2, Z2})], acceptable_sentences=frozenset({S2, Z2}),
        gold_documents=[frozenset({"doc"})], key_facts=[["do not respond", "反应不完全"], ["never"]],
    ),
    EvalQuestion(id="t-002", category="unanswerable", language="en", question="Dose?", answerable=False),
]
EVALSET = EvalSet(name="jdm", source="test", source_sha256="0" * 64, level="sentence", questions=QUESTIONS, documents=[DOC])


class FakeSystem:
    """Answers the first question by quoting S2 with its translation, and abstains on the rest."""

    name = "fake"

    def describe(self) -> dict[str, str | int]:
        return {"answerer": "fake"}

    def respond(self, question: EvalQuestion, depth: int) -> SystemResponse:
        if not question.answerable:
            return SystemResponse(
                text="The source does not say.", abstained=True, passages=[], citations=[], searched_as=question.question,
                ranked_sentences=[S1], ranked_documents=["doc"], latency_ms=5.0,
            )
        return SystemResponse(
            text="(Quoted from a Chinese source.) Most do not respond. [1][2]\n\nJDM is rare. [3]",
            abstained=False,
            passages=[Passage(text="Most do not respond.", markers=[1, 2]), Passage(text="JDM is rare.", markers=[3])],
            citations=[
                CitedSource(marker=1, doc_id="doc", sentence_ids=[S2], text="Most do not respond."),
                CitedSource(marker=2, doc_id="doc", sentence_ids=[Z2], text="大多数患者反应不完全。", parallel_of=1),
                CitedSource(marker=3, doc_id="doc", sentence_ids=[S1], text="JDM is rare."),
            ],
            searched_as=question.question,
            ranked_sentences=[S1, Z2, S2],
            ranked_documents=["doc"],
            latency_ms=15.0,
        )


def test_statements_group_translations_with_their_original():
    response = FakeSystem().respond(QUESTIONS[0], 5)
    statements = response.statements()
    assert [s.text for s in statements] == ["Most do not respond.", "JDM is rare."]
    assert statements[0].units == (("Most do not respond.", "大多数患者反应不完全。"),)
    assert statements[1].units == (("JDM is rare.",),)


def test_response_rejects_a_marker_without_citation():
    response = FakeSystem().respond(QUESTIONS[0], 5)
    with pytest.raises(ValueError, match=r"cites \[7\] but no citation has that marker"):
        SystemResponse.model_validate({**response.model_dump(), "passages": [{"text": "x", "markers": [7]}]})


def test_score_item_against_gold():
    question = QUESTIONS[0]
    response = FakeSystem().respond(question, 5)
    item = score_item(question, response, EVALSET, SubstringJudge(), {"doc": DOC.text})
    m = item.metrics
    assert m.recall_at == {1: 0.0, 3: 1.0, 5: 1.0} and m.mrr == 0.5
    assert m.citation_precision == pytest.approx(2 / 3) and m.citation_recall == 1.0
    assert m.alce_citation_recall == 1.0 and m.alce_citation_precision == 1.0 and m.faithfulness == 1.0
    assert m.answer_correctness == 0.5
    assert [j.supported for j in item.judgements] == [True, True]


def test_run_summarize_and_categories():
    run = run_system(FakeSystem(), EVALSET, SubstringJudge(), progress=False)
    summary = summarize(run, EVALSET)
    assert summary["abstention_precision"].value == 1.0 and summary["abstention_recall"].value == 1.0
    assert summary["sentence_recall@3"].value == 1.0 and summary["sentence_recall@3"].n == 1
    assert summary["latency_p50_ms"].value == 10.0
    assert "answer_correctness" in summary and summary["answer_correctness"].n == 1
    categories = by_category(run)
    assert categories["unanswerable"].behaved == 1.0 and categories["english"].answer_correctness == 0.5


def _report(tmp_path) -> EvalReport:
    run = run_system(FakeSystem(), EVALSET, SubstringJudge(), progress=False)
    section = SystemSection(
        name="fake", description=FakeSystem().describe(), summary=summarize(run, EVALSET),
        categories=by_category(run), items=run.items,
    )
    return EvalReport(
        set="jdm", source="test", source_sha256="0" * 64, questions=2, documents=1,
        environment=Environment(
            embedding_model="fake", prompt_version="0", settings={"max_citations": 3}, gate_version="0", command="qa eval",
        ),
        judge=JudgeFigures(name="substring", validated_on="nothing", n=1, accuracy=0.9, balanced_accuracy=0.8, roc_auc=0.7),
        systems=[section, section.model_copy(update={"name": "peer"})],
        gate=GateResult(checked=False, failures=[]),
    )


def test_report_files(tmp_path):
    report = _report(tmp_path)
    paths = write_report(report, tmp_path / "out")
    data = json.loads(paths.json_path.read_text(encoding="utf-8"))
    item = data["systems"][0]["items"][0]
    assert item["question"] == "Do most respond?" and item["citations"][1]["parallel_of"] == 1
    assert item["judgements"][0]["verdict"]["method"] == "verbatim"
    assert data["environment"]["packages"]["llama-index-core"] != "not installed"
    assert EvalReport.model_validate(data).systems[0].summary == report.systems[0].summary
    markdown = paths.markdown_path.read_text(encoding="utf-8")
    assert "| sentence_citation_precision | 0.667 | 1 | 0.667 | 1 |" in markdown
    assert "- ALCE citation precision: share of citations" in markdown and "![main metrics](metrics.png)" in markdown
    assert paths.plot_path.read_bytes().startswith(b"\x89PNG")
    table = summary_table(report)
    assert "fake" in table and "peer" in table and "balanced accuracy 0.800" in table


def test_gate_check_names_metric_value_and_threshold(tmp_path):
    figures = _report(tmp_path).figures("fake")
    thresholds = SetThresholds(min={"sentence_mrr": 0.9, "judge_roc_auc": 0.5, "missing": 0.1}, max={"latency_p95_ms": 1.0})
    failures = check(figures, thresholds)
    messages = [failure.message() for failure in failures]
    assert "sentence_mrr = 0.5 is below the minimum 0.9" in messages
    assert "missing was not measured (threshold min 0.1)" in messages
    assert any(m.startswith("latency_p95_ms = ") and "above the maximum 1" in m for m in messages)
    assert len(failures) == 3


def test_gate_file_is_valid_and_names_real_metrics(tmp_path):
    gate = load_gate()
    assert gate.version and "jdm" in gate.sets
    known = set(_report(tmp_path).figures("fake")) | {"abstention_f1"}
    known |= {f"document_recall@{k}" for k in (1, 5, 10)} | {
        "document_mrr", "document_citation_precision", "document_citation_recall"}
    span_names = ["hit@1", "hit@3", "cited_hit@1", "quoted_hit@1", "answered_rate", "abstention_on_topic", "abstention_off_topic"]
    known |= {f"{name}{suffix}" for name in span_names for suffix in ("", "[en]", "[zh]")}
    for thresholds in gate.sets.values():
        assert set(thresholds.min) | set(thresholds.max) <= known


def test_gate_file_errors(tmp_path):
    bad = tmp_path / "gate.toml"
    bad.write_text("version = '1'\n[jdm.min]\nsentence_recall@3 = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_gate(bad)
    bad.write_text("version = '1'\n[jdm.min]\nx = 'high'\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"jdm\.min\.x: Input should be a valid number"):
        load_gate(bad)


def test_limit_keeps_the_whole_corpus():
    evalset = load_set("jdm", limit=3)
    assert len(evalset.questions) == 3 and len(evalset.documents) == 1 and evalset.level == "sentence"


@pytest.mark.integration
def test_qa_eval_end_to_end_with_gate(tmp_path, monkeypatch, capsys):
    """The real assistant, baseline and judge on three questions; an impossible threshold fails the gate."""
    from eval import cli

    impossible = GateConfig(version="test", sets={"jdm": SetThresholds(min={"sentence_recall@5": 1.01})})
    monkeypatch.setattr(cli, "load_gate", lambda: impossible)
    monkeypatch.setenv("CITEQA_EVAL_CACHE", str(tmp_path / "cache"))
    parser = argparse.ArgumentParser()
    cli.add_eval_arguments(parser)
    args = parser.parse_args(["--limit", "3", "--out", str(tmp_path / "report"), "--gate", "--no-peers"])
    assert cli.run_eval(args) == 1
    captured = capsys.readouterr()
    assert "sentence_recall@5 = 1 is below the minimum 1.01" in captured.err
    assert "citeqa" in captured.out and "llama-index baseline" in captured.out
    report = EvalReport.model_validate_json((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert [s.name for s in report.systems] == ["citeqa", "llama-index baseline"]
    assert report.questions == 3 and all(len(s.items) == 3 for s in report.systems)
    assert 0.0 <= report.judge.roc_auc <= 1.0 and report.gate.failures[0].metric == "sentence_recall@5"
    assert report.environment.settings["embedding"] and report.environment.prompt_version
    assert (tmp_path / "report" / "metrics.png").stat().st_size > 0
