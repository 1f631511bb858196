"""The SQuAD-format sets: construction on tiny synthetic files, answer matching, and the CLI options."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from eval import metrics
from eval.dataset import DatasetError
from eval.runner import EvalSet, answer_ceiling, load_set, run_system, summarize
from eval.squad import CMRC_FILE, XQUAD_FILES, build_squad_set, cut_last_sentence
from eval.systems import CitedSource, Passage, RankedUnit, SystemResponse

# --- synthetic files -----------------------------------------------------------------------

ARTICLES = 6  # 4 are left out, as in XQuAD: 2 indexed remain, one per split


def _qa(qid: str, question: str, answer: str) -> dict:
    return {"id": qid, "question": question, "answers": [{"text": answer, "answer_start": 0}]}


def _xquad_article(number: int, language: str) -> dict:
    zh = language == "zh"
    paragraphs = [
        {
            "context": f"文章{number}第一段：山的高度是{number}00米。" if zh else f"Article {number}, part one: the hill is {number}00 metres high.",
            "qas": [_qa(f"a{number}p0", "山有多高？" if zh else "How high is the hill?", f"{number}00米" if zh else f"{number}00 metres")],
        },
        {
            "context": f"文章{number}第二段：河流叫做Blue{number}。" if zh else f"Article {number}, part two: the river is called Blue{number}.",
            "qas": [_qa(f"a{number}p1", "河流叫什么？" if zh else "What is the river called?", f"Blue{number}")],
        },
        {
            "context": f"文章{number}最后一段：城堡建于{1500 + number}年，河流Blue{number}流过。"
            if zh
            else f"Article {number}, last part: the castle was built in {1500 + number}, by the river Blue{number}.",
            "qas": [
                _qa(f"a{number}p2q0", "城堡建于哪一年？" if zh else "When was the castle built?", str(1500 + number)),
                # Its answer also occurs in an indexed paragraph: the index might answer it, so it is excluded.
                _qa(f"a{number}p2q1", "哪条河流过城堡？" if zh else "Which river passes the castle?", f"Blue{number}"),
            ],
        },
    ]
    return {"title": f"Article_{number}", "paragraphs": paragraphs}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for language, name in XQUAD_FILES.items():
        data = {"version": "1.1", "data": [_xquad_article(n, language) for n in range(ARTICLES)]}
        (tmp_path / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    passages = []
    for number in range(12):
        context = f"第{number}号站建于{1900 + number}年。站长是张{number}。车站有{number + 2}个站台。"
        qas = [
            _qa(f"c{number}q0", "车站建于哪一年？", f"{1900 + number}年"),
            _qa(f"c{number}q1", "车站有几个站台？", f"{number + 2}个站台"),  # in the dropped last sentence
            _qa(f"c{number}q2", "站长是谁，有几个站台？", f"张{number}。车站有"),  # crosses the cut
        ]
        passages.append({"id": f"DEV_{number}", "title": f"车站{number}", "paragraphs": [{"id": f"DEV_{number}", "context": context, "qas": qas}]})
    passages.append({"id": "DEV_single", "title": "短", "paragraphs": [{"context": "只有一句话的段落。", "qas": [_qa("s0", "几句话？", "一句话")]}]})
    (tmp_path / CMRC_FILE).write_text(json.dumps({"version": "v1.0", "data": passages}, ensure_ascii=False), encoding="utf-8")
    return tmp_path


# --- construction --------------------------------------------------------------------------


def test_xquad_indexes_articles_without_their_last_paragraph(data_dir):
    squad = build_squad_set("xquad", data_dir=data_dir)
    indexed = [a for a in squad.articles if a.indexed]
    assert len(indexed) == 2 and len(squad.articles) - len(indexed) == 4
    assert len(squad.documents) == 4  # one per language
    for document in squad.documents:
        assert "part two" in document.text or "第二段" in document.text
        assert "last part" not in document.text and "最后一段" not in document.text
        assert document.id.startswith(("xquad-en-article-", "xquad-zh-article-"))


def test_xquad_categories_and_the_answer_nowhere_in_the_index_rule(data_dir):
    squad = build_squad_set("xquad", data_dir=data_dir)
    indexed = {a.title for a in squad.articles if a.indexed}
    by_id = {q.id: q for q in squad.questions}
    number = int(sorted(indexed)[0].split("_")[1])
    assert by_id[f"a{number}p0-en"].category == "answerable" and by_id[f"a{number}p0-zh"].category == "answerable"
    # Either language's answer text counts.
    assert set(by_id[f"a{number}p0-zh"].answers) == {f"{number}00 metres", f"{number}00米"}
    assert by_id[f"a{number}p2q0-en"].category == "on_topic_unanswerable"
    assert f"a{number}p2q1-en" not in by_id and f"a{number}p2q1-zh" not in by_id
    assert squad.excluded == len(indexed) * 2  # per indexed article: one question, in two languages
    left_out = [q for q in squad.questions if q.article not in indexed]
    assert left_out and {q.category for q in left_out} == {"off_topic"}
    assert len(left_out) == 4 * 4 * 2  # 4 articles, 4 questions each, 2 languages


def test_split_is_deterministic_and_halves_indexed_and_left_out_articles(data_dir):
    first, second = build_squad_set("xquad", data_dir=data_dir), build_squad_set("xquad", data_dir=data_dir)
    assert first == second
    for indexed in (True, False):
        splits = sorted(a.split for a in first.articles if a.indexed is indexed)
        assert splits.count("fit") == splits.count("test")
    split_of = {a.title: a.split for a in first.articles}
    assert all(q.split == split_of[q.article] for q in first.questions)
    assert {q.split for q in first.select("test")} == {"test"} and len(first.select("all")) == len(first.questions)


def test_ci_subset_takes_test_articles_only(data_dir):
    squad = build_squad_set("xquad", "ci", data_dir=data_dir)
    assert squad.articles and {a.split for a in squad.articles} == {"test"}
    assert {q.category for q in squad.questions} == {"answerable", "on_topic_unanswerable", "off_topic"}


def test_cmrc_drops_the_last_sentence_of_each_passage(data_dir):
    squad = build_squad_set("cmrc", data_dir=data_dir)
    assert len(squad.articles) == 13 and sum(not a.indexed for a in squad.articles) == 2  # 13 / 6, rounded
    indexed = {a.key for a in squad.articles if a.indexed}
    by_id = {q.id: q for q in squad.questions}
    for key in indexed - {"DEV_single"}:
        number = key.split("_")[1]
        document = next(d for d in squad.documents if d.id == f"cmrc-dev-{number}")
        assert document.text.endswith(f"站长是张{number}。") and "站台" not in document.text
        assert by_id[f"c{number}q0"].category == "answerable"
        assert by_id[f"c{number}q1"].category == "on_topic_unanswerable"
        assert f"c{number}q2" not in by_id  # its answer crosses the cut
    if "DEV_single" in indexed:  # one sentence: nothing to drop, everything answerable
        assert by_id["s0"].category == "answerable"
    assert {q.language for q in squad.questions} == {"zh"}


def test_cut_last_sentence():
    assert cut_last_sentence("一。二！三？") == 4
    assert cut_last_sentence("只有一句。") is None
    assert cut_last_sentence("He said “yes.” Then left.") is None  # Latin full stops are not cut points


def test_bad_file_names_the_problem(tmp_path):
    (tmp_path / CMRC_FILE).write_text('{"data": [{"title": "x"}]}', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"not in SQuAD format at data\.0\.paragraphs"):
        build_squad_set("cmrc", data_dir=tmp_path)
    with pytest.raises(DatasetError, match="cannot read"):
        build_squad_set("xquad", data_dir=tmp_path)


def test_bundled_sets_load():
    xquad = build_squad_set("xquad", "ci")
    assert {q.language for q in xquad.questions} == {"en", "zh"}
    assert {q.category for q in xquad.questions} == {"answerable", "on_topic_unanswerable", "off_topic"}


# --- matching and hits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "text", "found"),
    [
        ("Saxon Garden", "It stood in the  saxon\ngarden.", True),
        ("one", "Someone came.", False),
        ("187", "Built in 1870.", False),
        ("1870", "Built in 1870.", True),
        ("1870 年", "从1870年到1939年", True),
        ("萨克森花园", "位于萨克森 花园中", True),
        ("光荣和ω-force", "由光荣和Ω-FORCE开发", True),
        ("１８７０", "in 1870", True),  # full-width digits fold
        ("河南建业", "河南省的建业", False),
    ],
)
def test_answer_in_text(answer, text, found):
    assert metrics.answer_in_text(answer, text) is found


def test_hit_needs_the_questions_own_article():
    ranked = [("other", "Built in 1870."), ("mine", "It opened in 1870."), ("mine", "Nothing here.")]
    assert metrics.hit_at_k(ranked, frozenset({"mine"}), ["1870"], 1) == 0.0
    assert metrics.hit_at_k(ranked, frozenset({"mine"}), ["1870"], 3) == 1.0
    assert metrics.hit_at_k(ranked, frozenset({"mine"}), [], 3) is None
    assert metrics.cited_hit(None, frozenset({"mine"}), ["1870"]) == 0.0  # an abstention is a miss
    assert metrics.cited_hit(("mine", "于1870年开放"), frozenset({"mine"}), ["1870年"]) == 1.0


class _TopSentenceSystem:
    """Cites the first sentence of the question's article; abstains on off-topic questions."""

    name = "top"

    def __init__(self, evalset: EvalSet) -> None:
        from index.splitting import split_document

        self.sentences = {d.id: split_document(d) for d in evalset.documents}

    def describe(self) -> dict[str, str | int]:
        return {}

    def respond(self, question, depth) -> SystemResponse:
        abstain = question.category == "off_topic"
        doc_id = next(iter(self.sentences))
        first = self.sentences[doc_id][0]
        citations = [] if abstain else [CitedSource(marker=1, doc_id=doc_id, sentence_ids=[first.id], text=first.text)]
        return SystemResponse(
            text="The source does not say." if abstain else f"{first.text} [1]",
            abstained=abstain,
            passages=[] if abstain else [Passage(text=first.text, markers=[1])],
            citations=citations,
            searched_as=question.question,
            ranked_sentences=[first.id],
            ranked_documents=[doc_id],
            ranked_units=[RankedUnit(doc_id=doc_id, text=first.text)],
            latency_ms=1.0,
        )


def test_summary_has_per_language_answer_span_figures(data_dir, monkeypatch):
    import eval.runner as runner
    from eval.squad import build_squad_set as build

    monkeypatch.setattr(runner, "build_squad_set", lambda name, subset: build(name, subset, data_dir=data_dir))
    evalset = load_set("xquad", split="all")
    assert evalset.answer_spans and evalset.languages == ["en", "zh"] and "split all" in evalset.variant

    class _Judge:
        name = "yes"

        def judge(self, claim, evidence):
            from eval.judge.base import SupportVerdict

            return SupportVerdict(supported=True, score=1.0, method="verbatim")

    summary = summarize(run_system(_TopSentenceSystem(evalset), evalset, _Judge(), progress=False), evalset)
    for name in ("hit@1", "hit@3", "cited_hit@1", "answered_rate", "abstention_on_topic", "abstention_off_topic"):
        assert name in summary and f"{name}[en]" in summary and f"{name}[zh]" in summary
    assert summary["abstention_off_topic"].value == 1.0 and summary["abstention_on_topic"].value == 0.0
    assert "sentence_citation_precision" not in summary  # no sentence-ID gold on these sets
    ceiling = answer_ceiling(evalset)
    assert ceiling["hit@1_ceiling"].value == 1.0 and ceiling["answers_across_sentences[zh]"].value == 0


# --- command line --------------------------------------------------------------------------


def test_cli_options():
    from eval.cli import _command, add_eval_arguments, report_label, set_label

    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    args = parser.parse_args(["--set", "xquad", "--subset", "ci", "--split", "fit", "--no-peers"])
    assert (args.set_name, args.subset, args.split, args.no_peers) == ("xquad", "ci", "fit", True)
    assert set_label(args) == report_label(args) == "xquad-ci"
    typos = parser.parse_args(["--set", "xquad", "--subset", "ci", "--typos"])
    # Misspelt questions over the same corpus: reported (and gated) apart, indexed once.
    assert (set_label(typos), report_label(typos)) == ("xquad-ci", "xquad-ci-typos") and "--typos" in _command(typos)
    topics = parser.parse_args(["--set", "cmrc", "--topics"])
    # Topic questions over the same corpus, likewise.
    assert (set_label(topics), report_label(topics)) == ("cmrc", "cmrc-topics") and "--topics" in _command(topics)
    paraphrased = parser.parse_args(["--set", "xquad", "--paraphrases"])
    assert (set_label(paraphrased), report_label(paraphrased)) == ("xquad", "xquad-paraphrased") and "--paraphrases" in _command(paraphrased)
    defaults = parser.parse_args([])
    assert (defaults.set_name, defaults.subset, defaults.split) == ("jdm", "full", "test") and set_label(defaults) == "jdm"
    with pytest.raises(SystemExit):
        parser.parse_args(["--set", "cmrc", "--split", "dev"])
    with pytest.raises(ValueError, match="applies to xquad, cmrc only"):
        load_set("jdm", subset="ci")


def test_bare_embedder_ranks_by_cosine_and_caches_vectors(tmp_path):
    from eval.bare import BareEmbedderSystem
    from eval.dataset import EvalQuestion
    from index.documents import Document
    from index.embedding import load_embed_model

    documents = [Document(id="d", text="The castle was built in 1510. The river is called Blue.")]
    cache = tmp_path / "vectors.npy"
    system = BareEmbedderSystem("hash", "hash-256", load_embed_model("hash"), documents, cache)
    question = EvalQuestion(id="q", category="answerable", language="en", question="What is the river called?", answerable=True)
    response = system.respond(question, 2)
    assert not response.abstained and response.ranked_units[0].text == "The river is called Blue."
    assert response.citations[0].text == response.ranked_units[0].text and cache.exists()
    again = BareEmbedderSystem("hash", "hash-256", load_embed_model("hash"), documents, cache)
    assert (again.matrix == system.matrix).all()


def test_empty_split_is_a_clear_error():
    with pytest.raises(ValueError, match="no fit-split questions"):
        load_set("xquad", subset="ci", split="fit")


def test_bare_embedder_reuses_stored_vectors_only_when_they_match(tmp_path):
    from eval.bare import BareEmbedderSystem
    from index.documents import Document
    from index.embedding import load_embed_model
    from index.splitting import split_document

    model = load_embed_model("hash")
    documents = [Document(id="d", text="The castle was built in 1510. The river is called Blue. It flows north.")]
    sentences = split_document(documents[0])
    same = {s.id: model.get_text_embedding(s.text) for s in sentences}
    other = {s.id: model.get_text_embedding("context: " + s.text) for s in sentences}
    asked: list[int] = []

    def stored(vectors):
        return lambda ids: asked.append(len(ids)) or {i: vectors[i] for i in ids}

    reused = BareEmbedderSystem("hash", "hash-256", model, documents, tmp_path / "a.npy", stored(same))
    assert asked == [3] and np.allclose(reused.matrix[0], np.asarray(same[sentences[0].id]))
    fresh = BareEmbedderSystem("hash", "hash-256", model, documents, tmp_path / "b.npy", stored(other))
    assert np.allclose(fresh.matrix, reused.matrix)  # re-embedded: the stored vectors were not plain sentences


def test_topic_questions_need_a_set_with_answer_texts(capsys):
    from eval.cli import add_eval_arguments, run_eval

    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    assert run_eval(parser.parse_args(["--set", "jdm", "--topics"])) == 2
    assert "--topics needs a set with answer texts (xquad, cmrc), not jdm" in capsys.readouterr().err
    assert run_eval(parser.parse_args(["--set", "jdm", "--paraphrases"])) == 2
    assert "--paraphrases needs a set with answer texts (xquad, cmrc), not jdm" in capsys.readouterr().err
    assert run_eval(parser.parse_args(["--set", "xquad", "--subset", "ci", "--paraphrases", "--topics"])) == 2
    assert "choose one" in capsys.readouterr().err
