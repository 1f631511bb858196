"""The ONNX exports compute what sentence-transformers computes: the real e5 embedder and the shipped
reranker, each run both ways on sentences written for this test (exported first if missing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embedding import E5_NAME, OnnxEmbedding, load_embed_model
from qa.reranker import ADAPTER_PATH, OnnxReranker, SentenceTransformersReranker, load_reranker

pytestmark = pytest.mark.integration

SENTENCES = [
    "The bridge was opened to traffic in 1932, after six years of work.",
    "The new library holds two million books and a large map collection.",
    "Methotrexate is often combined with corticosteroids as a first-line treatment.",
    "Rainfall in the region averages 800 millimetres a year, most of it in winter.",
    "The committee voted to postpone the decision until the spring meeting.",
    "She wrote her first novel at nineteen and published it under a pseudonym.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The treaty was signed in Vienna by representatives of five nations.",
    "Patients with refractory disease may receive intravenous immunoglobulin.",
    "A kilometre of the old city wall still stands beside the harbour.",
    "The algorithm runs in linear time on sorted input.",
    "Tickets can be bought at the station or online up to an hour before departure.",
    "这座桥于1932年通车，修建历时六年。",
    "新图书馆藏书两百万册，并有大量地图收藏。",
    "甲氨蝶呤常与皮质类固醇联合作为一线治疗。",
    "该地区年平均降雨量为800毫米，大部分在冬季。",
    "委员会投票决定将决定推迟到春季会议。",
    "她十九岁写出第一部小说，并以笔名出版。",
    "光合作用把光能转化为储存在葡萄糖中的化学能。",
    "条约由五个国家的代表在维也纳签署。",
    "难治性患者可接受静脉注射免疫球蛋白。",
    "港口旁仍保留着一公里长的古城墙。",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３, e\u0301te\u0301 and emoji 😀 in one line.",
    "A sentence long enough to be cut at the model's limit: " + "words and more words " * 200,
]
QUERIES = [
    "When was the bridge opened?",
    "How many books does the library hold?",
    "What is the usual first-line treatment?",
    "Who signed the treaty?",
    "这座桥是哪一年通车的？",
    "图书馆有多少藏书？",
    "一线治疗通常包括哪些药物？",
    "条约在哪里签署？",
]
RERANK_SETS = [
    ("When was the bridge opened to traffic?", SENTENCES[0:3] + [SENTENCES[7]]),
    ("What is the usual first-line treatment?", [SENTENCES[2], SENTENCES[8], SENTENCES[5], SENTENCES[14]]),
    ("这座桥是哪一年通车的？", SENTENCES[12:16]),
    ("难治性患者用什么治疗？", [SENTENCES[20], SENTENCES[14], SENTENCES[19], SENTENCES[8]]),
    # Past the reranker's 192 tokens: both sides are truncated the same way.
    ("What does the long sentence say? " * 30, [SENTENCES[-1], SENTENCES[4]]),
]


def _cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a), np.asarray(b)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_onnx_embeddings_match_sentence_transformers():
    torch_model, onnx_model = load_embed_model("e5", 64, "sentence-transformers"), load_embed_model("e5", 64, "onnx")
    assert isinstance(onnx_model, OnnxEmbedding), "the ONNX export should load here"
    passages = _cosines(torch_model.get_text_embedding_batch(SENTENCES), onnx_model.get_text_embedding_batch(SENTENCES))
    queries = _cosines(
        [torch_model.get_query_embedding(q) for q in QUERIES], [onnx_model.get_query_embedding(q) for q in QUERIES]
    )
    assert passages.min() >= 0.9999 and queries.min() >= 0.9999, (passages.min(), queries.min())


@pytest.mark.skipif(not (ADAPTER_PATH / "adapter_config.json").is_file(), reason="no fitted reranker adapter")
def test_onnx_reranker_logits_match_sentence_transformers():
    torch_reranker, onnx_reranker = load_reranker("sentence-transformers"), load_reranker("onnx")
    assert isinstance(torch_reranker, SentenceTransformersReranker) and isinstance(onnx_reranker, OnnxReranker)
    for question, candidates in RERANK_SETS:
        sentences = [(text, "Section" if i % 2 else "") for i, text in enumerate(candidates)]
        expected, got = torch_reranker.scores(question, sentences), onnx_reranker.scores(question, sentences)
        assert np.abs(np.subtract(expected, got)).max() <= 1e-3, (question, expected, got)
        assert np.argsort(expected).tolist() == np.argsort(got).tolist()


ONNX_ASK = """
import sys
from qa import Assistant, Settings
assistant = Assistant(settings=Settings(data_dir=sys.argv[1], runtime="onnx", show_progress=False), include_bundled=True)
assistant.ask("What is the usual first-line treatment?")
heavy = sorted({"torch", "transformers", "sentence_transformers", "sklearn", "peft"} & set(sys.modules))
assert not heavy, heavy
print(assistant.embed_model.model_name)
"""


def test_an_onnx_assistant_answers_without_importing_torch(tmp_path):
    done = subprocess.run([sys.executable, "-c", ONNX_ASK, str(tmp_path / "index")], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == E5_NAME  # the same label: indexes built by either runtime are interchangeable
