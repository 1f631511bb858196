"""The e5 weights under ONNX Runtime: exported once from the sentence-transformers models, then run
with `onnxruntime`, `tokenizers` and numpy only.

A new process that answers one question (`qa ask` with no `qa serve` up) spends most of its time
importing torch and sentence-transformers and loading them (`import sentence_transformers` 13.2 s of
a 27.8 s profiled ask, bench/README.md); `onnxruntime` + `tokenizers` import in ~0.5 s. The graphs
are exported from the very modules the sentence-transformers runtime runs (the embedder with its
pooling and normalisation, the cross-encoder with its head), so they compute the same function, and
they read the same `tokenizer.json` with the same truncation and padding
(tests/integration/test_onnx.py, bench/onnx_equivalence.py).

Exports live in the converted e5 folder (`index.e5_convert`), under `onnx/`, one file per model named
by a hash of everything it was made from (the e5 source weights, the converter's and this exporter's
versions, and any extra files such as the reranker's adapter), so a changed input makes a new export
and the stale one is removed. Writing needs torch and the `onnx` package; reading needs neither.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

# Bump when an export's graph changes for the same inputs: old exports are then made again.
EXPORT_VERSION = 1
EXPORT_DIR = "onnx"
INPUTS = ("input_ids", "attention_mask")
WEIGHTS_SUFFIX = ".weights"
# Held while a shared tokenizer is set to one encoder's truncation and encodes.
_TOKENIZING = threading.Lock()


class ExportUnavailable(RuntimeError):
    """The ONNX export is missing and cannot be made here (no torch, no `onnx` package, or it failed)."""


def export_path(kind: str, extra: Sequence[Path] = ()) -> Path:
    """Where the export of `kind` made from the current e5 conversion (and the `extra` files) lives.

    Converts the e5 weights first if they are not converted yet (`index.e5_convert.ensure_model`)."""
    from index.e5_convert import MANIFEST, ensure_model

    folder = ensure_model()
    source = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    key = hashlib.sha256(f"{EXPORT_VERSION}:{source['converter_version']}:{source['source']['sha256']}".encode())
    for path in sorted(extra):
        key.update(path.name.encode() + b"\0" + path.read_bytes())
    return folder / EXPORT_DIR / f"{kind}-{key.hexdigest()[:16]}.onnx"


def ensure_export(path: Path, build: Callable[[], tuple[object, str]]) -> Path:
    """`path`, exporting it first if it is missing: `build()` gives the sentence-transformers model
    and the name of its output (the feature holding the vector or the score).

    Raises `ExportUnavailable` when it cannot be made (the caller then runs sentence-transformers)."""
    if path.is_file() and path.with_suffix(WEIGHTS_SUFFIX).is_file():
        return path
    # Shown: the command that triggered it is silent for that long otherwise.
    logger.warning("exporting %s to ONNX (once; about half a minute)", path.name)
    try:
        model, output = build()
        export(model, output, path)
    except Exception as error:  # any failure to export leaves the caller on the torch runtime, not broken
        raise ExportUnavailable(
            f"could not export {path.name} to ONNX ({type(error).__name__}: {error}); `python -m qa.onnx_export` "
            "tries again (it needs torch and the `onnx` package, which scripts/setup.sh installs)"
        ) from error
    return path


def export(model, output: str, destination: Path) -> None:
    """Write `model` (a sentence-transformers model: features in, features out) as an ONNX graph from
    token ids and attention mask to its `output` feature, batch and sequence length dynamic.

    The weights go beside the graph (`<name>.weights`), which ONNX Runtime maps into memory instead of
    copying: a session opens in 0.3 s instead of 2.0-2.3 s with them inside the graph file (measured
    on the embedder, 470 MB). Both files are written to a staging folder and renamed into place, the
    graph last, so a crash never leaves half an export; exports of the same kind made from other
    inputs (stale) are removed."""
    import onnx
    import torch
    from onnx.external_data_helper import convert_model_to_external_data

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            features = self.model({"input_ids": input_ids, "attention_mask": attention_mask, "modality": "text"})
            return features[output]

    sample = (torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long))
    weights = destination.with_suffix(WEIGHTS_SUFFIX)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{destination.stem}-", dir=destination.parent) as staging:
        traced = Path(staging) / "traced.onnx"
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on Python branches it fixes for these shapes
            # The TorchScript exporter: the dynamo one needs the onnxscript package besides onnx.
            torch.onnx.export(
                Graph().eval(),
                sample,
                str(traced),
                input_names=list(INPUTS),
                output_names=[output],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in INPUTS} | {output: {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        graph = onnx.load(str(traced))
        convert_model_to_external_data(graph, all_tensors_to_one_file=True, location=weights.name, size_threshold=1024)
        onnx.save(graph, str(Path(staging) / destination.name))  # writes the weights file beside it
        os.chmod(Path(staging) / weights.name, 0o644)  # onnx writes it private; the graph file is not
        os.replace(Path(staging) / weights.name, weights)
        os.replace(Path(staging) / destination.name, destination)
    kind = destination.stem.rsplit("-", 1)[0]
    for stale in destination.parent.glob(f"{kind}-*"):
        if stale.stem != destination.stem:
            stale.unlink(missing_ok=True)


def embedder_export() -> Path:
    """The e5 embedder (with its mean pooling and normalisation) as an ONNX graph, exported if missing."""
    from index.e5_convert import ensure_model

    def build():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        from index.embedding import quiet_model_load

        with quiet_model_load():
            return SentenceTransformer(str(ensure_model()), device="cpu"), "sentence_embedding"

    return ensure_export(export_path("embedder"), build)


def embedder_encoder() -> OnnxEncoder:
    """The exported e5 embedder with the folder's tokenizer and its sentence-transformers token limit."""
    from index.e5_convert import ensure_model

    folder = ensure_model()
    limit = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"]
    return OnnxEncoder(embedder_export(), folder / "tokenizer.json", limit)


@lru_cache(maxsize=2)
def _tokenizer(path: Path):
    """One `tokenizers.Tokenizer` per file, shared by the embedder and the reranker: building XLM-R's
    250k-piece Unigram model takes 1.3-1.4 s, twice what opening both ONNX sessions takes (0.65 s)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("<pad>"), pad_token="<pad>")  # right, to the longest
    return tokenizer


class OnnxEncoder:
    """An exported graph and its tokenizer: texts (or text pairs) in, the graph's output out, tokenized
    as the sentence-transformers model it was exported from does (truncated to `max_length` tokens,
    longest first for pairs; padded on the right to the longest in the batch)."""

    def __init__(self, model: Path, tokenizer: Path, max_length: int) -> None:
        self._tokenizer = _tokenizer(tokenizer)
        self._max_length = max_length
        try:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            # One thread, as torch has (index/embedding.py, CITEQA_TORCH_THREADS): on shared cores a
            # second thread mostly waits at barriers for a descheduled peer.
            options.intra_op_num_threads = int(os.environ.get("CITEQA_TORCH_THREADS", "1"))
            options.inter_op_num_threads = 1
            self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # no onnxruntime, or a damaged export: the caller falls back
            raise ExportUnavailable(
                f"could not open {model} ({type(error).__name__}: {error}); delete {model.parent} and run "
                "`python -m qa.onnx_export` to export again"
            ) from error

    def run(self, inputs: Sequence[str] | Sequence[tuple[str, str]]) -> np.ndarray:
        with _TOKENIZING:
            self._tokenizer.enable_truncation(self._max_length, strategy="longest_first")
            encodings = self._tokenizer.encode_batch(list(inputs))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
        return self._session.run(None, feeds)[0]
