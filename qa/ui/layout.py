"""The `gr.Blocks` of the app: chat and document library on the left, source panel on the right."""

from __future__ import annotations

import gradio as gr

from index.loaders import SUPPORTED_SUFFIXES
from qa.assistant import Assistant
from qa.ui import render
from qa.ui.chat import Chat
from qa.ui.library import Library

TITLE = "citeqa"
EXAMPLES = [
    "What is the usual first-line treatment?",
    "What emerging treatment options are worth further study?",
    "What is known about the pathogenesis of juvenile dermatomyositis?",
    "What is the recommended dose of rituximab?",
    "幼年皮肌炎的初始治疗通常包括哪些药物？",
    "哪些新兴治疗值得进一步研究？",
]

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
  if (box && mark) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
};
watch("value", focus);
focus();
"""


def build_app(assistant: Assistant) -> gr.Blocks:
    """The whole app around one shared `Assistant`; launch it with `qa.ui.serve`."""
    chat = Chat(assistant)
    library = Library(assistant)
    english = chat.phrases("en")

    with gr.Blocks(title=TITLE, fill_width=True) as app:
        turns = gr.State([])  # list[Turn]: this session's conversation
        gr.HTML(_HEADER, js_on_load=None)
        disclaimer = gr.HTML(render.disclaimer(english), js_on_load=None, elem_id="cq-disclaimer")
        with gr.Row(equal_height=False, elem_id="cq-main"):
            with gr.Column(scale=5, min_width=380):
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
                            ask = gr.Button("Ask", variant="primary", scale=1, min_width=90, elem_id="cq-ask")
                        gr.Examples(EXAMPLES, inputs=[question], label="Example questions · 示例问题", examples_per_page=6)
                    with gr.Tab("Documents · 文献", elem_id="cq-tab-docs"):
                        upload = gr.File(
                            label=f"Add documents ({', '.join(SUPPORTED_SUFFIXES)})",
                            file_count="multiple",
                            file_types=list(SUPPORTED_SUFFIXES),
                            type="filepath",
                            elem_id="cq-upload",
                        )
                        status = gr.HTML("", js_on_load=None, elem_id="cq-status")
                        documents = gr.HTML("", js_on_load=None, elem_id="cq-documents")
                        to_remove = gr.Dropdown(
                            label="Remove from the index", multiselect=True, choices=[], elem_id="cq-remove-choice"
                        )
                        remove = gr.Button("Remove selected documents", variant="stop", size="md", elem_id="cq-remove")
            with gr.Column(scale=6, min_width=420):
                panel = gr.HTML(render.empty_panel(english), js_on_load=_PANEL_ON_LOAD, elem_id="cq-panel")

        # qa/ui/static/app.js writes a clicked marker's `turn:marker` here and presses the button.
        selection = gr.Textbox(visible="hidden", elem_id="cq-selection")
        select = gr.Button(visible="hidden", elem_id="cq-select")

        chat_outputs = [chatbot, turns, panel, disclaimer, question]
        for trigger in (question.submit, ask.click):
            trigger(chat.respond, [question, turns], chat_outputs, api_visibility="private", show_progress="hidden")
        chatbot.clear(chat.clear, None, chat_outputs, api_visibility="private")
        select.click(chat.select, [selection, turns], [panel, disclaimer], api_visibility="private", show_progress="hidden")

        library_outputs = [status, documents, to_remove, upload]
        upload.upload(library.upload, [upload], library_outputs, api_visibility="private", show_progress="full")
        remove.click(library.remove, [to_remove], library_outputs, api_visibility="private")
        app.load(library.listing, None, [documents, to_remove], api_visibility="private")

        gr.api(chat.ask_api, api_name="ask")
    return app
