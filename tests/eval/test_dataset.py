"""The bundled evaluation set is valid, covers every category, and matches the live corpus."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from eval.dataset import DatasetError, GoldItem, corpus_mismatches, load_gold_set
from index.corpus import bundled_document
from index.splitting import detect_language, split_document

CATEGORIES = GoldItem.model_fields["category"].annotation.__args__


@pytest.fixture(scope="module")
def gold():
    return load_gold_set()


@pytest.fixture(scope="module")
def sentences():
    return split_document(bundled_document())


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def test_size_and_coverage(gold):
    items = gold.items
    assert len(items) >= 80
    assert sum(not item.answerable for item in items) >= 20
    counts = Counter(item.category for item in items)
    assert set(counts) == set(CATEGORIES), f"categories without items: {set(CATEGORIES) - set(counts)}"
    assert all(count >= 5 for count in counts.values()), counts
    assert {item.language for item in items} == {"en", "zh"}
    assert any("fully respond to initial therapy" in item.question and not item.answerable for item in items)


def test_every_gold_reference_matches_the_current_split(gold, sentences):
    assert corpus_mismatches(gold.items, sentences) == []


def test_gold_groups_pair_each_sentence_with_its_translation(gold, sentences):
    by_id = {s.id: s for s in sentences}
    for item in gold.items:
        for group in item.gold:
            first = by_id[group[0].sentence_id]
            expected = {first.id} | ({first.parallel_id} if first.parallel_id else set())
            assert {ref.sentence_id for ref in group} == expected, item.id


def test_every_key_fact_is_stated_in_the_gold_evidence(gold):
    """A fact no gold sentence states would make answer correctness unreachable."""
    for item in gold.items:
        evidence = _norm(" ".join(ref.text for group in item.gold for ref in group))
        for fact in item.key_facts:
            assert any(_norm(alias) in evidence for alias in fact), f"{item.id}: {fact} not in its gold sentences"


def test_question_language_is_detected_as_declared(gold):
    for item in gold.items:
        if item.category != "cross_lingual":
            assert detect_language(item.question) == item.language, item.id


def test_gold_and_also_relevant_do_not_overlap(gold):
    for item in gold.items:
        gold_ids = {ref.sentence_id for group in item.gold for ref in group}
        assert not gold_ids & {ref.sentence_id for ref in item.also_relevant}, item.id


def test_corpus_mismatch_names_the_item_and_sentence(gold, sentences):
    item = next(item for item in gold.items if item.answerable)
    ref = item.gold[0][0]
    stale = item.model_copy(update={"gold": [[ref.model_copy(update={"text": ref.text + " (edited)"})]]})
    unknown = item.model_copy(update={"gold": [[ref.model_copy(update={"sentence_id": "jdm:9999:deadbeef"})]]})
    problems = corpus_mismatches([stale, unknown], sentences)
    assert problems[0].startswith(f"{item.id}: text beside {ref.sentence_id!r}")
    assert "unknown sentence id 'jdm:9999:deadbeef'" in problems[1]


def _write(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


VALID = {
    "id": "t-001",
    "category": "english",
    "language": "en",
    "question": "What is JDM?",
    "answerable": True,
    "gold": [[{"sentence_id": "d:0000:00000000", "text": "JDM is rare."}]],
    "key_facts": [["rare"]],
}


def test_loader_names_file_line_and_field(tmp_path):
    bad = {**VALID, "id": "t-002", "category": "unknown"}
    path = _write(tmp_path, VALID, bad)
    with pytest.raises(DatasetError, match=rf"{path}:2: invalid item \(category:"):
        load_gold_set(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gold": [], "key_facts": []}, "needs at least one `gold` group"),
        ({"answerable": False}, "unanswerable item has no `gold`"),
        ({"category": "follow_up"}, "`history` is required"),
        ({"category": "false_premise", "answerable": False, "gold": [], "key_facts": []}, None),
        ({"extra_field": 1}, "extra_field"),
        ({"key_facts": [[]]}, "empty fact"),
    ],
)
def test_item_rules(tmp_path, change, message):
    path = _write(tmp_path, {**VALID, **change})
    if message is None:
        assert load_gold_set(path).items[0].category == "false_premise"
    else:
        with pytest.raises(DatasetError, match=rf"{path}:1: .*{message}"):
            load_gold_set(path)


def test_loader_rejects_bad_json_duplicates_and_empty_files(tmp_path):
    with pytest.raises(DatasetError, match=r":2: not valid JSON"):
        load_gold_set(_write(tmp_path, VALID, "{oops"))
    with pytest.raises(DatasetError, match=r":2: duplicate id 't-001' \(first used on line 1\)"):
        load_gold_set(_write(tmp_path, VALID, VALID))
    with pytest.raises(DatasetError, match="is empty"):
        load_gold_set(_write(tmp_path, ""))
    with pytest.raises(DatasetError, match="cannot read"):
        load_gold_set(tmp_path / "missing.jsonl")


def test_pubmedqa_records_become_documents_and_queries():
    from eval.pubmedqa import load_pubmedqa
    from index.splitting import split_document

    records = load_pubmedqa()
    assert len(records) == 500 and len({r.pmid for r in records}) == 500
    record = records[0]
    document = record.document()
    assert document.id == record.pmid and document.title == f"PMID {record.pmid}"
    assert record.contexts[-1].strip() in document.text
    assert record.question not in document.text
    sentences = split_document(document)
    assert len(sentences) >= len(record.contexts)
    question = record.eval_question()
    assert question.gold_documents == [frozenset({record.pmid})] and question.answerable
    assert question.gold_sentences == [] and question.key_facts == []


def test_pubmedqa_loader_names_the_bad_line(tmp_path):
    from eval.pubmedqa import load_pubmedqa

    good = {"pmid": "1", "question": "Q?", "contexts": ["C."], "final_decision": "yes"}
    path = _write(tmp_path, good, {**good, "pmid": "2", "final_decision": "perhaps"})
    with pytest.raises(DatasetError, match=rf"{path}:2: invalid PubMedQA record \(final_decision:"):
        load_pubmedqa(path)


@pytest.mark.parametrize("name", ["PAPER_QUESTIONS_PATH", "WRITTEN_PAPER_QUESTIONS_PATH"])
def test_paper_questions_are_asked_of_bundled_abstracts_and_hold_their_answers(name):
    import eval.pubmedqa
    from eval.pubmedqa import load_paper_questions, load_pubmedqa

    records = load_pubmedqa()
    questions = load_paper_questions(records, getattr(eval.pubmedqa, name))
    texts = {r.pmid: r.document().text for r in records}
    assert {q.language for q in questions} == {"en", "zh"}
    assert any(not q.answer for q in questions) and all(q.answer in texts[q.pmid] for q in questions)


def test_written_paper_questions_are_about_other_abstracts_than_the_measured_ones_and_the_fitted_sample():
    from eval.fit_relevance import corpora

    found = {c.name: c for c in corpora()}
    written, measured = found["papers-written"], found["papers"]
    assert written.scoped and {q[2] for q in written.questions} == {"reranker", "test"}
    abstracts = {d.id for d in written.documents}
    assert not abstracts & {d.id for d in measured.documents}
    assert not abstracts & {d.id for d in found["pubmedqa"].documents}
    # Held out by abstract: no abstract has questions in both parts.
    parts = {}
    for question in written.questions:
        parts.setdefault(next(iter(question[5])), set()).add(question[2])
    assert all(len(split) == 1 for split in parts.values())


def test_paper_question_loader_names_the_bad_line(tmp_path):
    from eval.pubmedqa import PubMedQARecord, load_paper_questions

    record = PubMedQARecord(pmid="1", question="Q?", contexts=["We enrolled 40 children."], final_decision="yes")
    path = tmp_path / "questions.tsv"
    path.write_text("# comment\n1\ten\tHow many children?\t40 children\n1\ten\tWhere?\tin Nepal\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=rf"{path}:3: the answer 'in Nepal' is not in abstract 1"):
        load_paper_questions([record], path)
    path.write_text("2\ten\tHow many children?\t\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="PMID 2 is not in the PubMedQA set"):
        load_paper_questions([record], path)
    path.write_text("1\tfr\tCombien?\t\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=rf"{path}:1: invalid question \(language: Input should be 'en' or 'zh'\)"):
        load_paper_questions([record], path)


def test_the_relevance_fit_asks_paper_questions_within_their_own_abstract():
    from eval.fit_relevance import corpora

    papers = next(c for c in corpora() if c.name == "papers")
    # Measured, never fitted on.
    assert papers.scoped and {q[2] for q in papers.questions} == {"test"}
    assert all(len(q[5]) == 1 and q[5] <= {d.id for d in papers.documents} for q in papers.questions)


def test_xquad_questions_are_also_asked_of_the_other_languages_articles_only():
    from eval.fit_relevance import corpora

    found = {c.name: c for c in corpora()}
    across, plain = found["xquad-across"], found["xquad"]
    assert across.scoped and {q[2] for q in across.questions} == {"fit", "test"}
    language = {q[0]: q[0].rsplit("-", 1)[1] for q in plain.questions}
    for question_id, _, _, _, _, scope in across.questions[:50]:
        asked_in = language[question_id.removesuffix("-across")]
        assert scope and all(not d.startswith(f"xquad-{asked_in}-") for d in scope)


def test_the_gate_threshold_answers_the_promised_share_of_each_promised_set_and_ignores_the_others():
    import numpy as np

    from eval.fit_relevance import ANSWERED_SHARE, _gate, _probabilities

    rng = np.random.default_rng(0)
    # An easy promised set, a harder promised set, unanswerable rows and a set not promised (lower still).
    gx = np.vstack([rng.normal(3, 1, (300, 1)), rng.normal(1, 1, (100, 1)), rng.normal(-2, 1, (200, 1)), rng.normal(-1, 1, (100, 1))])
    gy = np.array([1] * 400 + [0] * 200 + [1] * 100)
    sets = np.array(["cmrc"] * 300 + ["xquad"] * 100 + ["xquad"] * 200 + ["xquad-across"] * 100)
    gate, threshold = _gate(gx, gy, ("x",), sets)

    def answered(rows: slice) -> float:
        return float((_probabilities(gate, gx[rows], ("x",)) >= threshold).mean())

    # The harder set gets its share, not just the pooled answerable questions; the set not promised
    # does not pull the threshold down to its level.
    assert answered(slice(300, 400)) >= ANSWERED_SHARE and answered(slice(0, 300)) >= ANSWERED_SHARE
    assert answered(slice(600, 700)) < ANSWERED_SHARE


def test_the_cascade_skips_the_cross_encoder_only_where_no_set_loses_a_correct_decision():
    import numpy as np

    from eval.fit_relevance import cascade_threshold

    # Set a: the first stage is as right as reranking above 0.6, wrong below. Set b: wrong at 0.85
    # and 0.72, where reranking is right, so b alone asks for more than a does.
    relevance = np.array([0.95, 0.9, 0.8, 0.75, 0.6, 0.55, 0.92, 0.85, 0.72, 0.99])
    first = np.array([1, 1, 1, 1, 0, 0, 1, 0, 0, 1], dtype=bool)
    full = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], dtype=bool)
    sets = np.array(["a"] * 6 + ["b"] * 4)
    assert cascade_threshold(relevance, first, full, sets) == 0.86
    assert cascade_threshold(relevance[:6], first[:6], full[:6], sets[:6]) == 0.61
    # A first stage wrong everywhere: even the top of the grid skips a question it gets wrong.
    assert cascade_threshold(relevance, np.zeros(10, dtype=bool), full, sets) is None
    # A tie low on the grid is no evidence: wrong at 0.70 and right at 0.55, where reranking is
    # wrong too, skipping from 0.50 ties with reranking; only from 0.71 up does every value.
    relevance = np.array([0.95, 0.70, 0.55])
    first, full = np.array([1, 0, 1], dtype=bool), np.array([1, 1, 0], dtype=bool)
    assert cascade_threshold(relevance, first, full, np.array(["a"] * 3)) == 0.71


def test_xquad_test_questions_are_also_asked_of_a_mixed_library_holding_each_article_in_one_language():
    from collections import Counter

    from eval.fit_relevance import corpora

    found = {c.name: c for c in corpora()}
    mixed, across = found["xquad-mixed"], found["xquad-across"]
    # Measured only: the test half, as asked of the other language's articles.
    assert mixed.scoped and len(mixed.questions) == sum(q[2] == "test" for q in across.questions)
    assert {q[2] for q in mixed.questions} == {"test"}
    libraries = {q[5] for q in mixed.questions}
    assert len(libraries) == 1  # one library for every question, in both languages
    library = libraries.pop()
    articles = Counter(d.split("-", 2)[2] for d in library)
    assert set(articles.values()) == {1} and len(articles) == len({d.id.split("-", 2)[2] for d in mixed.documents})
    languages = Counter(d.split("-", 2)[1] for d in library)
    assert languages["en"] == languages["zh"]


def test_the_document_stage_learns_from_the_questions_language_only_and_reorders_the_first_stage():
    import numpy as np

    from eval.fit_relevance import Example, document_rows, first_stage
    from qa.relevance import DOCUMENT_FEATURES, SENTENCE_FEATURES

    columns = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    pool = np.zeros((5, len(SENTENCE_FEATURES)))
    pool[:, columns["cos"]] = [0.90, 0.85, 0.80, 0.70, 0.88]
    pool[:, columns["bm25_document"]] = [0.2, 1.0, 1.0, 0.1, 0.3]
    example = Example(
        "xquad", "fit", "en", True, ("1932",), pool,
        labels=np.array([0, 1, 0, 0, 1]), doc_hits=np.zeros(5, dtype=int), best_cos=0.9,
        other_language=np.array([0, 0, 0, 0, 1]), documents=np.array([0, 1, 1, 2, 3]),
    )
    ranker = {"weights": dict.fromkeys(SENTENCE_FEATURES, 0.0) | {"cos": 10.0}, "bias": -8.0}
    x, y = document_rows(ranker, example)
    # Documents 0-2 (the translation, document 3, holds the answer too but is not a row); document 1 is gold.
    assert x.shape == (3, len(DOCUMENT_FEATURES)) and y.tolist() == [0, 1, 0]
    plain = first_stage({"ranker": ranker}, example)
    assert int(np.argmax(plain)) == 0
    stage = {"weights": {"best_logit": 1.0, "cover_document": 0.0, "bm25_document": 10.0}, "bias": -5.0}
    assert int(np.argmax(first_stage({"ranker": ranker, "document": stage}, example))) == 1


def test_the_second_stage_is_fitted_on_the_candidates_read_as_the_first_stages_top():
    import numpy as np

    from eval.fit_relevance import Example, _read_as_top
    from qa.relevance import SENTENCE_FEATURES

    pool = np.zeros((5, len(SENTENCE_FEATURES)))
    example = Example(
        "xquad", "fit", "en", True, ("1932",), pool, labels=np.array([0, 1, 0, 1, 0]), doc_hits=np.zeros(5, dtype=int),
        best_cos=0.9, cross=np.array([1.0, 2.0, 0.5, 3.0, np.nan]), other_language=np.array([0, 0, 0, 1, 1]),
        language_best=np.array([0, 0, 0, 1, 0]),
    )
    read = np.flatnonzero(np.isfinite(example.cross))
    # Candidate 3, the best of the other language (XQuAD: the answer's translation), is no row.
    assert read[_read_as_top(example, read)].tolist() == [0, 1, 2]
    # Features saved before the marker existed: every read candidate is a row.
    assert _read_as_top(Example(**{**example.__dict__, "language_best": None}), read).all()


def test_written_documents_hold_each_answer_once_and_are_held_out_by_document():
    from eval.fit_relevance import corpora
    from eval.written import load_written_documents

    documents = load_written_documents()
    assert {d.language for d in documents} == {"en", "zh"}
    kinds = {q.kind for d in documents for q in d.questions}
    assert kinds == {"named", "paraphrase", "across", "unanswerable"}
    assert all(d.text.count(q.answer) == 1 for d in documents for q in d.questions if q.answer)
    corpus = next(c for c in corpora() if c.name == "documents-written")
    # Searched over the whole library, as a user's collection is.
    assert not corpus.scoped and len(corpus.documents) == len(documents)
    parts = {}
    for question in corpus.questions:
        parts.setdefault(next(iter(question[5])), set()).add(question[2])
    assert all(len(split) == 1 for split in parts.values())
    assert set().union(*parts.values()) == {"reranker", "test"}


def test_written_document_loader_names_the_bad_line(tmp_path):
    from eval.written import load_written_documents

    good = {"id": "wd-1-01", "language": "en", "title": "Bridge", "text": "The bridge opened in 1932. It was repainted in 1990.",
            "questions": [{"kind": "named", "language": "en", "question": "When did the bridge open?", "answer": "1932"}]}
    twice = {**good, "id": "wd-1-02", "questions": [{"kind": "named", "language": "en", "question": "When?", "answer": "in 19"}]}
    path = _write(tmp_path, good, twice)
    with pytest.raises(DatasetError, match=rf"{path}:2: the answer 'in 19' to 'When\?' occurs 2 times in wd-1-02"):
        load_written_documents(path)
    unanswered = {**good, "questions": [{"kind": "unanswerable", "language": "zh", "question": "谁设计了这座桥？", "answer": "1932"}]}
    path = _write(tmp_path, unanswered)
    with pytest.raises(DatasetError, match=rf"{path}:1: invalid written document \(questions.0: Value error, an unanswerable question has an empty answer"):
        load_written_documents(path)
    path = _write(tmp_path, good, good)
    with pytest.raises(DatasetError, match=r":2: duplicate id 'wd-1-01' \(first used on line 1\)"):
        load_written_documents(path)
