"""The `gr.Blocks` of the app: chat and document library on the left, source panel on the right."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from index.loaders import SUPPORTED_SUFFIXES
from qa.ui import render
from qa.ui.chat import Chat
from qa.ui.library import LOADING, Library
from qa.ui.warmup import Warmup

if TYPE_CHECKING:
    from qa.assistant import Assistant

TITLE = "citeqa"
# Kept in the browser's localStorage; a page reload shows the conversation again.
CONVERSATION_STORAGE_KEY = "citeqa-conversation"

_HEADER = (
    '<div class="cq-header"><div class="cq-brand">citeqa</div>'
    '<div class="cq-tagline">Answers quoted from your source documents, every sentence cited · '
    "回答逐字引自来源文献，并标注出处</div></div>"
)

# The source panel scrolls its document text to the selected sentence whenever it re-renders.
_PANEL_ON_LOAD = """
const focus = () => {
  const box = element.querySelector(".cq-doc-text");
  const mark = element.querySelector("mark.cq-selected") || element.querySelector(".cq-doc-text mark");
  if (!box || !mark) return;
  box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
  // Side by side with the chat, the sentence must also be on screen; on a phone the panel is far
  // below the chat and the marker's preview shows the sentence instead (app.js).
  if (window.matchMedia("(min-width: 901px)").matches) mark.scrollIntoView({ block: "nearest" });
};
watch("value", focus);
focus();
"""

_FORGET_CONVERSATION = f"() => {{ localStorage.removeItem({CONVERSATION_STORAGE_KEY!r}); }}"
# Takes the question out of the box in the browser, as it is sent. Emptied by the server's first
# update instead, a box could lose what the reader had typed in the round trip, and a question sent
# right after another was erased before it was asked (session 19, in headless Chromium).
_TAKE_QUESTION = """(question, turns, scope) => {
    const box = document.querySelector('#cq-question textarea');
    // Only the question sent: a reader who already typed the next one keeps it.
    if (box && box.value === question) { box.value = ''; box.dispatchEvent(new Event('input', {bubbles: true})); }
    return [question, turns, scope];
}"""


def build_app(assistant: Assistant | Warmup) -> gr.Blocks:
    """The whole app around one shared `Assistant` (or its `Warmup`, still loading); launch it with `qa.ui.serve`."""
    warmup = assistant if isinstance(assistant, Warmup) else Warmup.of(assistant)
    chat = Chat(warmup)
    library = Library(warmup)
    english = chat.phrases("en")

    with gr.Blocks(title=TITLE, fill_width=True) as app:
        turns = gr.State([])  # list[Turn]: this session's conversation
        stored = gr.BrowserState([], storage_key=CONVERSATION_STORAGE_KEY)
        gr.HTML(_HEADER, js_on_load=None)
        disclaimer = gr.HTML(chat.disclaimer(english), js_on_load=None, elem_id="cq-disclaimer")
        loading = gr.HTML(LOADING, js_on_load=None, elem_id="cq-warmup", visible=not warmup.ready)
        with gr.Row(equal_height=False, elem_id="cq-main"):
            with gr.Column(scale=5, min_width=320):
                with gr.Tabs():
                    with gr.Tab("Ask · 提问", elem_id="cq-tab-ask"):
                        chatbot = gr.Chatbot(
                            elem_id="cq-chat",
                            show_label=False,
                            height="58vh",
                            min_height=360,
                            buttons=[],
                            feedback_options=None,
                            placeholder="Ask about the indexed documents; every answer quotes them and cites each sentence.  \n"
                            "就已索引的文献提问；每个回答都逐字引用并标注出处。",
                        )
                        with gr.Row(equal_height=True, elem_id="cq-ask-row"):
                            question = gr.Textbox(
                                show_label=False,
                                container=False,
                                placeholder=english.ask_placeholder,
                                elem_id="cq-question",
                                scale=8,
                                lines=1,
                                max_lines=4,
                                autofocus=True,
                            )
                            ask = gr.Button(english.ask_button, variant="primary", scale=1, min_width=72, elem_id="cq-ask")
                        with gr.Row(equal_height=True, elem_id="cq-chat-tools"):
                            scope = gr.Dropdown(
                                label="Search in · 检索范围",
                                info="All documents when none is chosen · 未选择时检索全部文献",
                                multiselect=True,
                                choices=[],
                                elem_id="cq-scope",
                                scale=4,
                            )
                            # app.js builds the file from the transcript below: no round trip to the server.
                            gr.Button("Export Markdown · 导出", size="sm", scale=1, min_width=120, elem_id="cq-export")
                        examples = gr.Dataset(
                            components=[question],
                            samples=[],
                            label="Example questions from your documents · 示例问题",
                            elem_id="cq-examples",
                            samples_per_page=6,
                        )
                    with gr.Tab("Documents · 文献", elem_id="cq-tab-docs"):
                        # No file_types filter: the browser would reject other files with a toast and leave the
                        # last upload's status on screen; the loader's message names the file and the types.
                        upload = gr.File(
                            label=f"Add documents ({', '.join(SUPPORTED_SUFFIXES)})",
                            file_count="multiple",
                            type="filepath",
                            elem_id="cq-upload",
                        )
                        status = gr.HTML("", js_on_load=None, elem_id="cq-status")
                        documents = gr.HTML(LOADING, js_on_load=None, elem_id="cq-documents")
                        to_remove = gr.Dropdown(
                            label="Remove from the index", multiselect=True, choices=[], elem_id="cq-remove-choice"
                        )
                        remove = gr.Button("Remove selected documents", variant="stop", size="md", elem_id="cq-remove")
            with gr.Column(scale=6, min_width=320, elem_id="cq-panel-column"):
                panel = gr.HTML(render.empty_panel(english), js_on_load=_PANEL_ON_LOAD, elem_id="cq-panel")

        # qa/ui/static/app.js writes a clicked marker's `turn:marker` here and presses the button.
        selection = gr.Textbox(visible="hidden", elem_id="cq-selection")
        select = gr.Button(visible="hidden", elem_id="cq-select")
        # The conversation as Markdown plus marker previews (qa/ui/export.py), read by app.js.
        transcript = gr.Textbox(visible="hidden", elem_id="cq-transcript")
        # Ticks until the warm-up has opened the index, then fills what depends on the documents.
        warming = gr.Timer(1.0, active=not warmup.ready)

        chat_outputs = [chatbot, turns, panel, disclaimer, question, ask, transcript, stored]
        # One listener for Enter and the Ask button, so a question sent either way while an answer
        # streams waits for it ("always_last": asked when it ends; the default, "once", dropped it,
        # and two listeners could answer at once over the same conversation: session 19).
        gr.on(
            [question.submit, ask.click], chat.respond, [question, turns, scope], chat_outputs, api_visibility="private",
            show_progress="hidden", trigger_mode="always_last", js=_TAKE_QUESTION,
        )
        # Also forgets the stored conversation: at once in the browser (a reload right after Clear must not
        # bring it back, and BrowserState writes only after the event's round trip), then through `stored`.
        chatbot.clear(chat.clear, None, chat_outputs, api_visibility="private", js=_FORGET_CONVERSATION)
        select.click(chat.select, [selection, turns], [panel, disclaimer], api_visibility="private", show_progress="hidden")
        examples.click(lambda sample: sample[0], [examples], [question], api_visibility="private")

        listing_outputs = [documents, to_remove, scope, examples]
        library_outputs = [status, *listing_outputs, upload]
        upload.upload(library.upload, [upload], library_outputs, api_visibility="private", show_progress="full")
        remove.click(library.remove, [to_remove], library_outputs, api_visibility="private")

        def warmed() -> tuple:
            if not warmup.ready:
                return (gr.skip(),) * (len(listing_outputs) + 3)
            # The notice depends on the documents too (Chat.medical), known only now.
            return (*library.listing(), chat.disclaimer(english), gr.HTML(visible=False), gr.Timer(active=False))

        warming.tick(warmed, None, [*listing_outputs, disclaimer, loading, warming], api_visibility="private", show_progress="hidden")
        app.load(library.listing, None, listing_outputs, api_visibility="private")
        app.load(chat.restore, [stored], chat_outputs, api_visibility="private")

        gr.api(chat.ask_api, api_name="ask")
    return app
