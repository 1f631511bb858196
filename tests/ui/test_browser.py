"""End to end in headless Chromium: ask, click a citation, see it highlighted; upload; script injection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from prompts import prompts
from qa import Assistant

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ANSWER_TIMEOUT_MS = 60_000
INJECTION = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    expect(page.locator("#cq-question textarea")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    yield page
    context.close()


def ask(page: Page, question: str) -> None:
    """Ask in the chat and wait until the answer has finished streaming."""
    # The page's load events fill the example questions: until then an Enter may go unheard.
    expect(page.locator("#cq-examples")).to_contain_text("?", timeout=ANSWER_TIMEOUT_MS)
    finished = page.locator("#cq-chat .cq-answer:not(.cq-pending):not(.cq-streaming)")
    before = finished.count()
    page.locator("#cq-question textarea").fill(question)
    page.locator("#cq-question textarea").press("Enter")
    expect(finished).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)


def upload(page: Page, path: Path) -> None:
    page.get_by_role("tab", name="Documents · 文献").click()
    page.locator("#cq-upload input[type=file]").set_input_files(str(path))
    expect(page.locator("#cq-status .cq-status")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)


def test_click_a_citation_to_see_it_highlighted(page: Page, ui_assistant: Assistant, artifacts: Path) -> None:
    question = "What emerging treatment options are worth further study?"
    expected = ui_assistant.ask(question)
    assert expected.citations, "precondition: the bundled corpus answers this question"
    ask(page, question)
    # The last marker: for a bilingual citation, the parallel translation.
    citation = expected.citations[-1]
    page.locator("#cq-chat a.cq-marker", has_text=f"[{citation.marker}]").last.click()

    selected = page.locator("#cq-panel mark.cq-selected")
    expect(selected).to_have_count(1)
    expect(selected).to_contain_text(citation.text)
    expect(selected).to_be_in_viewport()
    assert selected.evaluate("e => getComputedStyle(e).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
    expect(page.locator("#cq-panel .cq-selected-item")).to_contain_text(f"{citation.score:.2f}")
    document = ui_assistant.document(citation.doc_id)
    expect(page.locator("#cq-panel a.cq-doi")).to_have_attribute("href", document.doi_url or "")
    expect(page.locator("#cq-disclaimer")).to_have_text(f"ⓘ {prompts().get('disclaimer_medical', 'en').strip()}")  # the bundled review
    page.screenshot(path=artifacts / "ui-answer-citation.png", full_page=True)


def test_chinese_question_switches_the_fixed_phrases(page: Page, artifacts: Path) -> None:
    ask(page, "哪些新兴治疗值得进一步研究？")
    expect(page.locator("#cq-disclaimer")).to_contain_text(prompts().get("disclaimer_medical", "zh").strip())
    expect(page.locator("#cq-panel .cq-kicker")).to_have_text("来源文献")
    page.locator("#cq-chat a.cq-marker").first.click()
    expect(page.locator("#cq-panel mark.cq-selected")).to_have_count(1)
    page.screenshot(path=artifacts / "ui-chinese.png", full_page=True)


@pytest.mark.parametrize(
    ("question", "language", "not_evidence"),
    [("What is the capital of Australia?", "en", "not evidence"), ("澳大利亚的首都是哪里？", "zh", "非依据")],
)
def test_abstention_shows_related_sentences_as_not_evidence(
    page: Page, ui_assistant: Assistant, artifacts: Path, question: str, language: str, not_evidence: str
) -> None:
    expected = ui_assistant.ask(question)
    assert expected.abstained, "precondition: the corpus does not answer this"
    ask(page, question)
    abstain = prompts().get("abstain", language).strip()
    expect(page.locator("#cq-chat .cq-abstain")).to_have_text(abstain)
    expect(page.locator("#cq-panel .cq-abstain")).to_have_text(abstain)
    expect(page.locator("#cq-panel .cq-related-item .cq-badge")).to_have_count(len(expected.related))
    if expected.related:
        expect(page.locator("#cq-panel .cq-related-item .cq-badge").first).to_have_text(not_evidence)
    expect(page.locator("#cq-chat a.cq-marker")).to_have_count(0)
    page.screenshot(path=artifacts / f"ui-abstained-{language}.png", full_page=True)


def test_document_html_and_script_render_as_inert_text(page: Page, tmp_path: Path, artifacts: Path) -> None:
    path = tmp_path / "injection_note.txt"
    sentence = "The zymurgic lanternfish protocol requires three calibrated copper flasks."
    path.write_text(f"{INJECTION}\n{sentence}\n", encoding="utf-8")
    upload(page, path)
    expect(page.locator("#cq-status .cq-status-ok")).to_contain_text("injection_note: added")
    expect(page.locator("#cq-documents")).to_contain_text(INJECTION)  # the title, shown as text

    page.get_by_role("tab", name="Ask · 提问").click()
    ask(page, '<img src=x onerror="window.__pwned=3"> What does the zymurgic lanternfish protocol require?')
    markers = page.locator("#cq-chat a.cq-marker")
    if markers.count():
        markers.first.click()
    panel_text = page.locator("#cq-panel .cq-doc-text")
    expect(panel_text).to_contain_text(INJECTION)
    expect(panel_text).to_contain_text(sentence)
    expect(page.locator("#cq-chat .cq-question").last).to_contain_text('<img src=x onerror="window.__pwned=3">')
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#cq-panel img, #cq-chat img, #cq-documents img, #cq-panel script").count() == 0
    page.screenshot(path=artifacts / "ui-injection.png", full_page=True)


def test_rejected_upload_says_why(page: Page, tmp_path: Path, artifacts: Path) -> None:
    path = tmp_path / "latin1_notes.txt"
    path.write_bytes("Caf\xe9 notes".encode("latin-1"))
    upload(page, path)
    status = page.locator("#cq-status .cq-status-error")
    expect(status).to_contain_text("latin1_notes.txt: not UTF-8 text")
    expect(page.locator("#cq-documents")).not_to_contain_text("latin1_notes")
    page.screenshot(path=artifacts / "ui-upload-rejected.png", full_page=True)


def test_remove_a_document(page: Page, tmp_path: Path) -> None:
    path = tmp_path / "otter_note.md"
    path.write_text("# Otter note\n\nSea otters hold hands while they sleep.\n", encoding="utf-8")
    upload(page, path)
    expect(page.locator("#cq-documents")).to_contain_text("otter_note")
    choice = page.locator("#cq-remove-choice input")
    choice.click()
    choice.fill("otter_note")
    page.get_by_role("option", name="otter_note").click()
    page.locator("#cq-remove").click()
    expect(page.locator("#cq-status .cq-status-ok")).to_contain_text("otter_note: removed from the index.")
    expect(page.locator("#cq-documents")).not_to_contain_text("otter_note")


# --- issue 10: a chat that behaves ----------------------------------------------------------


def test_an_empty_ask_changes_nothing_but_shows_a_hint(page: Page) -> None:
    ask(page, "What is the usual first-line treatment?")
    chat, panel, disclaimer = (page.locator(s).inner_html() for s in ("#cq-chat", "#cq-panel", "#cq-disclaimer"))
    page.locator("#cq-question textarea").fill("   ")
    page.locator("#cq-ask").click()
    expect(page.get_by_text("Type a question first.").first).to_be_visible()
    expect(page.locator("#cq-chat .cq-answer")).to_have_count(1)
    assert page.locator("#cq-panel").inner_html() == panel
    assert page.locator("#cq-disclaimer").inner_html() == disclaimer
    assert page.locator("#cq-chat .cq-question").count() == 1 and "first-line" in chat


def test_a_question_typed_or_sent_while_an_answer_streams_is_kept_and_asked(page: Page) -> None:
    expect(page.locator("#cq-examples")).to_contain_text("?", timeout=ANSWER_TIMEOUT_MS)
    box, finished = page.locator("#cq-question textarea"), page.locator("#cq-chat .cq-answer:not(.cq-pending):not(.cq-streaming)")
    box.fill("What is juvenile dermatomyositis?")
    box.press("Enter")
    expect(box).to_have_value("")  # taken: the reader starts on the next question
    box.press_sequentially("How is it treated at first?", delay=20)
    expect(finished).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(box).to_have_value("How is it treated at first?")
    # Sent before the second answer has finished: asked after it, not dropped.
    box.fill("What is known about the pathogenesis?")
    box.press("Enter")
    expect(page.locator("#cq-chat .cq-question")).to_have_count(2)
    box.fill("Are there many randomized controlled trials?")
    box.press("Enter")
    expect(finished).to_have_count(3, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#cq-chat .cq-question").last).to_contain_text("randomized controlled trials")


def test_example_questions_come_from_the_indexed_documents(page: Page, tmp_path: Path) -> None:
    examples = page.locator("#cq-examples")
    expect(examples).to_contain_text("?")
    path = tmp_path / "kiln_notes.md"
    path.write_text("# Kiln notes\n\n## Kiln firing\n\nA bisque firing reaches about 1000 degrees.\n", encoding="utf-8")
    upload(page, path)
    page.get_by_role("tab", name="Ask · 提问").click()
    expect(examples).to_contain_text("What does the section “Kiln firing” say?")


def test_chinese_question_turns_the_ask_button_chinese(page: Page) -> None:
    expect(page.locator("#cq-ask")).to_have_text("Ask")
    ask(page, "哪些新兴治疗值得进一步研究？")
    expect(page.locator("#cq-ask")).to_have_text("提问")
    ask(page, "What emerging treatment options are worth further study?")
    expect(page.locator("#cq-ask")).to_have_text("Ask")


def test_a_one_sentence_upload_says_sentence(page: Page, tmp_path: Path) -> None:
    path = tmp_path / "single_line.txt"
    path.write_text("Sea otters hold hands while they sleep.\n", encoding="utf-8")
    upload(page, path)
    expect(page.locator("#cq-status .cq-status-ok")).to_contain_text("(1 sentence indexed)")


def test_a_rejected_upload_replaces_the_previous_status(page: Page, tmp_path: Path) -> None:
    good = tmp_path / "good_note.txt"
    good.write_text("Badgers dig setts with many entrances.\n", encoding="utf-8")
    upload(page, good)
    expect(page.locator("#cq-status .cq-status-ok")).to_contain_text("good_note")
    bad = tmp_path / "slides.docx"
    bad.write_bytes(b"PK\x03\x04 not really a document")
    page.locator("#cq-upload input[type=file]").set_input_files(str(bad))
    status = page.locator("#cq-status")
    expect(status).to_contain_text("slides.docx: unsupported file type", timeout=ANSWER_TIMEOUT_MS)
    expect(status).not_to_contain_text("good_note")


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_phone_marker_tap_previews_in_place_and_the_question_box_is_on_screen(
    browser: Browser, app_url: str, ui_assistant: Assistant, artifacts: Path, theme: str
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-US")
    phone = context.new_page()
    phone.goto(f"{app_url}?__theme={theme}", wait_until="load")
    question_box = phone.locator("#cq-question textarea")
    expect(question_box).to_be_in_viewport(timeout=ANSWER_TIMEOUT_MS)
    question = "What emerging treatment options are worth further study? I am asking about the options worth study in JDM."
    expected = ui_assistant.ask(question)
    assert expected.citations, "precondition: the bundled corpus answers this question"
    ask(phone, question)
    # The chat's Clear icon must not sit on top of the (long) first question.
    phone.locator("#cq-chat .bubble-wrap").evaluate("e => { e.scrollTop = 0; }")
    clear = phone.locator("#cq-chat button[aria-label=Clear]").bounding_box()
    first = phone.locator("#cq-chat .cq-question").first.bounding_box()
    assert clear and first and not _overlap(clear, first)
    marker = phone.locator("#cq-chat a.cq-marker").first
    marker.tap()
    preview = phone.locator(".cq-preview")
    expect(preview).to_be_visible()
    expect(preview).to_be_in_viewport()
    expect(preview).to_contain_text(expected.citations[0].text)
    phone.screenshot(path=artifacts / f"ui-390-{theme}.png", full_page=False)
    phone.locator(".cq-preview-jump").tap()
    expect(phone.locator("#cq-panel mark.cq-selected")).to_be_in_viewport()
    context.close()


def test_copy_export_reload_and_clear_a_conversation(browser: Browser, app_url: str, ui_assistant: Assistant) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US", permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    question = "How do most children respond to their first treatment?"
    expected = ui_assistant.ask(question)
    ask(page, question)
    citation = expected.citations[0]
    doi = ui_assistant.document(citation.doc_id).doi

    page.locator("#cq-chat a.cq-copy").first.click()
    expect(page.locator("#cq-chat a.cq-copy.cq-copied")).to_have_count(1)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert expected.text.strip() in copied
    assert f"[{citation.marker}] “{citation.text}”" in copied and f"doi:{doi}" in copied

    with page.expect_download() as download:
        page.locator("#cq-export").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert exported.startswith("# citeqa conversation") and f"**{question}**" in exported and citation.text in exported

    page.reload(wait_until="load")
    expect(page.locator("#cq-chat .cq-answer")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#cq-chat .cq-question")).to_contain_text(question)
    page.locator("#cq-chat a.cq-marker").first.click()  # markers still work after the reload
    expect(page.locator("#cq-panel mark.cq-selected")).to_have_count(1)

    page.locator("#cq-chat button[aria-label=Clear]").click()
    # Reloaded at once: Clear forgets the stored conversation in the browser, before its round trip.
    page.reload(wait_until="load")
    expect(page.locator("#cq-question textarea")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(1500)
    expect(page.locator("#cq-chat .cq-answer")).to_have_count(0)
    context.close()


def test_choose_which_documents_a_question_searches(page: Page, tmp_path: Path) -> None:
    path = tmp_path / "heron_note.txt"
    path.write_text("Grey herons nest in tall trees near water.\n", encoding="utf-8")
    upload(page, path)
    page.get_by_role("tab", name="Ask · 提问").click()
    choice = page.locator("#cq-scope input")
    choice.click()
    choice.fill("heron")
    page.get_by_role("option").filter(has_text="heron").first.click()
    ask(page, "What is the usual first-line treatment?")
    expect(page.locator("#cq-chat .cq-abstain")).to_have_count(1)  # only the heron note was searched


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_desktop_screenshot(browser: Browser, app_url: str, artifacts: Path, theme: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.goto(f"{app_url}?__theme={theme}", wait_until="load")
    ask(page, "What emerging treatment options are worth further study?")
    page.locator("#cq-chat a.cq-marker").first.hover()
    expect(page.locator(".cq-preview")).to_be_visible()
    page.screenshot(path=artifacts / f"ui-1400-{theme}.png", full_page=True)
    context.close()
