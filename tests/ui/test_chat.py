"""The chat's callbacks without a browser: empty questions, an empty index, stored conversations."""

from __future__ import annotations

import gradio as gr

from index.documents import Document
from prompts import prompts
from qa import Assistant
from qa.ui import render
from qa.ui.chat import CHAT_OUTPUTS, Chat
from qa.ui.phrases import phrases
from qa.ui.session import Turn, restored, saved
from qa.ui.warmup import Warmup


def test_an_empty_question_leaves_every_output_as_it_is(hash_assistant: Assistant) -> None:
    chat = Chat(Warmup.of(hash_assistant))
    updates = list(chat.respond("   ", [Turn("earlier question")]))
    assert len(updates) == 1 and len(updates[0]) == CHAT_OUTPUTS
    assert all(isinstance(output, type(gr.skip())) and output == gr.skip() for output in updates[0])


def test_an_empty_index_says_there_are_no_documents_and_how_to_add_them(hash_settings) -> None:
    chat = Chat(Warmup.of(Assistant(settings=hash_settings, include_bundled=False)))
    messages = list(chat.respond("What did the trial find?", []))[-1][0]
    assert "No documents are indexed yet" in messages[-1]["content"]
    assert "Documents tab" in messages[-1]["content"]


def test_only_a_medical_library_is_told_answers_are_not_medical_advice(hash_settings) -> None:
    english = phrases(prompts(), "en")
    plain = Assistant(settings=hash_settings, include_bundled=False)
    plain.ingest([Document(id="bakery", text="The oven bakes 400 loaves a day.", source="bakery.md")])
    assert Chat(Warmup.of(plain)).disclaimer(english) == render.disclaimer(english, medical=False)
    # The notice reaches the page with every chat update.
    assert Chat(Warmup.of(plain)).clear()[3] == render.disclaimer(english, medical=False)
    bundled = Assistant(settings=hash_settings, include_bundled=True)  # the same library, now with the bundled review
    assert Chat(Warmup.of(bundled)).disclaimer(english) == render.disclaimer(english, medical=True)
    # The setting decides over the library: here it holds the bundled review.
    told = Assistant(settings=hash_settings.model_copy(update={"medical_notice": False}), include_bundled=False)
    assert Chat(Warmup.of(told)).disclaimer(english) == render.disclaimer(english, medical=False)


def test_a_stored_conversation_comes_back_and_junk_is_dropped(hash_assistant: Assistant) -> None:
    answer = hash_assistant.ask("What is the usual first-line treatment?")
    stored = saved([Turn("What is the usual first-line treatment?", answer, len(answer.text)), Turn("pending")])
    turns = restored([*stored, {"question": "x"}, "junk"])
    assert [(t.question, t.answer) for t in turns] == [("What is the usual first-line treatment?", answer)]
    assert turns[0].visible_text == answer.text
    assert restored(None) == []


def test_no_update_of_an_answer_touches_the_text_in_the_question_box(hash_assistant: Assistant) -> None:
    # A reader types the next question while an answer streams in: no update may erase it (the
    # browser empties the box as it sends a question).
    question_box = 4
    updates = list(Chat(Warmup.of(hash_assistant)).respond("What is the usual first-line treatment?", []))
    assert len(updates) > 2 and all("value" not in update[question_box] for update in updates)
