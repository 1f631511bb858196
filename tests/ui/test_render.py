"""The HTML builders: everything from a document or a user is escaped; markers link to citations."""

from __future__ import annotations

from index.documents import Document
from prompts import prompts
from qa.types import Answer, Citation, RelatedSentence
from qa.ui import render
from qa.ui.phrases import phrases
from qa.ui.session import Selection, Turn, history

SCRIPT = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
SENTENCE = "The lanternfish protocol uses [12] copper flasks & <b>no</b> glass."
TEXT = f"{SCRIPT}\n{SENTENCE}"
DOCUMENT = Document(id="notes", text=TEXT, title=SCRIPT, authors=("A <i>B</i>",), journal="J", year=2025, doi="10.1/x<y")
EN = phrases(prompts(), "en")


def _citation(marker: int, start: int, end: int, parallel_of: int | None = None) -> Citation:
    return Citation(
        marker=marker,
        sentence_id=f"notes:{marker}",
        doc_id="notes",
        text=TEXT[start:end],
        start=start,
        end=end,
        score=0.8,
        language="en",
        parallel_of=parallel_of,
    )


def _answer() -> Answer:
    start = TEXT.index(SENTENCE)
    return Answer(
        question="What does the <lanternfish> protocol use?",
        text=f"{SENTENCE} [1][2]",
        abstained=False,
        citations=[_citation(1, start, len(TEXT)), _citation(2, 0, len(SCRIPT), parallel_of=1)],
        language="en",
    )


def _turn() -> Turn:
    answer = _answer()
    return Turn(question=answer.question, answer=answer, shown=len(answer.text))


def test_answer_links_only_trailing_markers_and_escapes_the_quote() -> None:
    html = render.answer_message(0, _turn(), EN)
    assert '<a class="cq-marker" href="#cq-0:1">[1]</a>' in html
    assert '<a class="cq-marker cq-marker-parallel" href="#cq-0:2">[2]</a>' in html
    assert "uses [12] copper" in html  # a bracketed number inside the quote is not a marker
    assert "&lt;b&gt;no&lt;/b&gt;" in html and "<b>" not in html
    assert "\n\n" not in html  # one raw HTML block for the chat's Markdown renderer


def test_partial_answer_is_marked_streaming() -> None:
    turn = _turn()
    turn.shown = 10
    assert "cq-streaming" in render.answer_message(0, turn, EN)
    assert "cq-streaming" not in render.answer_message(0, _turn(), EN)


def test_the_answer_says_what_was_searched_only_when_it_is_not_the_question_as_typed() -> None:
    assert "cq-searched" not in render.answer_message(0, _turn(), EN)
    turn = _turn()
    turn.answer = turn.answer.model_copy(update={"standalone_question": "What does the <lanternfish> protocol use?"})
    assert "cq-searched" not in render.answer_message(0, turn, EN)
    turn.answer = turn.answer.model_copy(update={"question": "What does the <lanternfsh> protocol use?"})
    assert "Searched for: What does the &lt;lanternfish&gt; protocol use?" in render.answer_message(0, turn, EN)
    abstained = Answer(question="Wher?", text=EN.abstain, abstained=True, language="zh", standalone_question="Where?")
    assert "检索的问题：Where?" in render.answer_message(0, Turn(question="Wher?", answer=abstained, shown=0), phrases(prompts(), "zh"))


def test_user_message_is_escaped() -> None:
    assert "<img" not in render.user_message(SCRIPT)


def test_source_panel_escapes_the_document_and_highlights_citations() -> None:
    html = render.source_panel(0, _turn(), 2, lambda doc_id: DOCUMENT, EN)
    assert "<script" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert '<mark class="cq-cited" data-cq-select="0:1">' in html
    assert '<mark class="cq-parallel cq-selected" data-cq-select="0:2">' in html
    assert 'href="https://doi.org/10.1/x&lt;y"' in html
    assert EN.translation_of.format(marker=1) in html


def test_abstention_lists_related_sentences_as_not_evidence() -> None:
    start = TEXT.index(SENTENCE)
    related = RelatedSentence(
        sentence_id="notes:1", doc_id="notes", text=SENTENCE, start=start, end=len(TEXT), score=0.2, language="en"
    )
    answer = Answer(question="q", text=EN.abstain, abstained=True, related=[related], language="en")
    turn = Turn(question="q", answer=answer, shown=len(answer.text))
    message = render.answer_message(0, turn, EN)
    panel = render.source_panel(0, turn, None, lambda doc_id: DOCUMENT, EN)
    for html in (message, panel):
        assert EN.abstain in html and EN.not_evidence in html and EN.related_heading in html
    assert '<mark class="cq-related">' in panel
    assert "cq-marker" not in message


def test_removed_document_still_shows_the_citations() -> None:
    html = render.source_panel(0, _turn(), None, lambda doc_id: None, EN)
    assert "cq-cite-item" in html and "cq-doc-text" not in html


def test_selection_token_round_trip_and_history() -> None:
    assert Selection.parse(Selection(3, 2).token) == Selection(3, 2)
    assert Selection.parse("3:x") is None
    turns = [_turn(), Turn(question="pending")]
    assert [(t.role, t.content) for t in history(turns)] == [("user", _answer().question), ("assistant", _answer().text)]


def test_chinese_phrases_come_from_the_prompt_templates() -> None:
    zh = phrases(prompts(), "zh")
    assert zh.abstain == prompts().get("abstain", "zh").strip()
    assert zh.disclaimer in render.disclaimer(zh, medical=False)
    assert zh.disclaimer_medical in render.disclaimer(zh, medical=True) and "医疗" in zh.disclaimer_medical


def test_pdf_citations_show_their_page_and_markdown_names_title_page_and_doi() -> None:
    from qa.ui.export import turn_markdown

    answer = _answer()
    paged = answer.model_copy(update={"citations": [answer.citations[0].model_copy(update={"page": 4}), answer.citations[1]]})
    turn = Turn(question=paged.question, answer=paged, shown=len(paged.text))
    panel = render.source_panel(0, turn, 1, lambda _: DOCUMENT, EN)
    assert '<span class="cq-page">p. 4</span>' in panel
    assert panel.count("cq-page") == 1  # the unpaged citation has none
    markdown = turn_markdown(turn, lambda _: DOCUMENT, EN)
    assert f"[1] “{SENTENCE}” — {SCRIPT}, p. 4, doi:10.1/x<y (https://doi.org/10.1/x<y)" in markdown
    assert markdown.startswith(f"**{paged.question}**")


def test_source_panel_shows_the_answer_confidence_when_known() -> None:
    assert "cq-confidence" not in render.source_panel(0, _turn(), None, lambda _: DOCUMENT, EN)
    answer = _answer().model_copy(update={"confidence": 0.93})
    html = render.source_panel(0, Turn(question=answer.question, answer=answer, shown=len(answer.text)), None, lambda _: DOCUMENT, EN)
    assert '<div class="cq-confidence"><span class="cq-score" title="answer confidence 0.930">' in html
    assert "answer confidence 0.93</span>" in html
