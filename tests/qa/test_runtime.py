"""Choosing the models' runtime (`Settings.runtime`) and falling back from ONNX, with fakes; the real
exports are compared with sentence-transformers in tests/integration/test_onnx.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index import embedding, onnx_models
from index.onnx_models import ExportUnavailable, OnnxEncoder
from qa import reranker
from qa.cli import _one_shot, build_parser, settings_from_args
from qa.settings import Settings


@pytest.fixture(autouse=True)
def fresh_loaders():
    """The loaders cache their models per process; each test sees its own."""
    embedding.load_embed_model.cache_clear()
    reranker.load_reranker.cache_clear()
    yield
    embedding.load_embed_model.cache_clear()
    reranker.load_reranker.cache_clear()


def test_the_product_default_runtime_is_sentence_transformers(monkeypatch):
    monkeypatch.delenv("CITEQA_RUNTIME", raising=False)
    assert Settings().runtime == "sentence-transformers"


def _ask_settings(*flags: str) -> Settings:
    return _one_shot(settings_from_args(build_parser(with_eval_options=False).parse_args(["ask", "Q", *flags])))


def test_a_one_shot_ask_runs_onnx_unless_a_runtime_is_chosen(monkeypatch):
    monkeypatch.delenv("CITEQA_RUNTIME", raising=False)
    assert _ask_settings().runtime == "onnx"
    assert _ask_settings("--runtime", "sentence-transformers").runtime == "sentence-transformers"
    monkeypatch.setenv("CITEQA_RUNTIME", "sentence-transformers")
    assert _ask_settings().runtime == "sentence-transformers"


class FakeEncoder:
    """Stands in for an exported graph: records what it is given, returns one unit vector per text."""

    def __init__(self) -> None:
        self.inputs: list[list[str]] = []

    def run(self, inputs):
        self.inputs.append(list(inputs))
        return np.tile(np.array([[0.6, 0.8]], dtype=np.float32), (len(inputs), 1))


def test_the_onnx_embedder_adds_the_e5_prompts_like_sentence_transformers():
    encoder = FakeEncoder()
    model = embedding.OnnxEmbedding(encoder, model_name="fake", **embedding.E5_PROMPTS)
    assert model.get_query_embedding("why?") == pytest.approx([0.6, 0.8])
    model.get_text_embedding_batch(["One.", "Two."])
    assert encoder.inputs == [["query: why?"], ["passage: One.", "passage: Two."]]


def test_onnx_falls_back_to_sentence_transformers_when_the_export_cannot_be_made(monkeypatch, caplog):
    def unavailable():
        raise ExportUnavailable("no exporter here")

    monkeypatch.setattr(onnx_models, "embedder_encoder", unavailable)
    monkeypatch.setattr(embedding, "_sentence_transformer", lambda path, batch, **prompts: ("torch embedder", prompts))

    class FakeTorchReranker(reranker.Reranker):
        def _logits(self, pairs):
            return [0.0] * len(pairs)

    monkeypatch.setattr(reranker, "OnnxReranker", lambda: unavailable())
    monkeypatch.setattr(reranker, "SentenceTransformersReranker", FakeTorchReranker)

    assert embedding.load_embed_model("e5", 8, "onnx") == ("torch embedder", embedding.E5_PROMPTS)
    assert isinstance(reranker.load_reranker("onnx"), FakeTorchReranker)
    assert "no exporter here; embedding with sentence-transformers instead" in caplog.text
    assert "no exporter here; reranking with sentence-transformers instead" in caplog.text


def test_the_onnx_reranker_scores_the_prompted_pairs():
    class Logits(FakeEncoder):
        def run(self, inputs):
            self.inputs.append(list(inputs))
            return np.arange(len(inputs), dtype=np.float32)[:, None]

    onnx = reranker.OnnxReranker.__new__(reranker.OnnxReranker)  # without loading an export
    onnx._encoder = Logits()
    assert onnx.scores("Q?", [("A.", ""), ("B.", "Methods")]) == [0.0, 1.0]
    assert onnx._encoder.inputs == [[("query: Q?", "passage: A."), ("query: Q?", "passage: Methods: B.")]]
    assert onnx.scores("Q?", []) == []


@pytest.fixture
def converted(tmp_path, monkeypatch):
    """A stand-in for the converted e5 folder: only its manifest is read."""
    folder = tmp_path / "e5"
    folder.mkdir()
    (folder / "citeqa-conversion.json").write_text(json.dumps({"converter_version": 1, "source": {"sha256": "ab"}}))
    monkeypatch.setattr("index.e5_convert.ensure_model", lambda: folder)
    return folder


def test_an_export_is_named_by_what_it_was_made_from(converted, tmp_path):
    adapter = tmp_path / "adapter_model.safetensors"
    adapter.write_bytes(b"first fit")
    first = onnx_models.export_path("reranker", [adapter])
    assert first.parent == converted / "onnx" and first.name.startswith("reranker-") and first.suffix == ".onnx"
    assert onnx_models.export_path("reranker", [adapter]) == first
    adapter.write_bytes(b"a newly fitted adapter")
    assert onnx_models.export_path("reranker", [adapter]) != first
    assert onnx_models.export_path("embedder") != onnx_models.export_path("reranker", [adapter])


def test_an_existing_export_is_used_and_a_failed_one_says_how_to_fix(converted):
    path = onnx_models.export_path("embedder")
    path.parent.mkdir()

    def build():
        raise ModuleNotFoundError("No module named 'onnx'")

    with pytest.raises(ExportUnavailable, match="No module named 'onnx'.*python -m qa.onnx_export"):
        onnx_models.ensure_export(path, build)
    path.write_bytes(b"graph")
    with pytest.raises(ExportUnavailable):  # the graph without its weights file is not an export
        onnx_models.ensure_export(path, build)
    path.with_suffix(onnx_models.WEIGHTS_SUFFIX).write_bytes(b"weights")
    assert onnx_models.ensure_export(path, build) == path


def test_a_damaged_export_is_reported_as_unavailable(tmp_path):
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel

    tokenizer = tmp_path / "tokenizer.json"
    Tokenizer(WordLevel({"<pad>": 0, "a": 1}, unk_token="<pad>")).save(str(tokenizer))
    graph = tmp_path / "embedder-0.onnx"
    graph.write_bytes(b"not a graph")
    with pytest.raises(ExportUnavailable, match=f"could not open {graph}.*delete"):
        OnnxEncoder(graph, tokenizer, 16)
