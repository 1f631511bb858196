"""The interface's fixed phrases in English and Chinese.

The phrases the assistant itself says (abstention, the related-sentences heading,
the disclaimer) come from the versioned prompt templates so the app and the API
never disagree; the rest are the app's own labels. The app picks the set matching
the language of the question being shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.documents import Language
from prompts import PromptSet


@dataclass(frozen=True)
class Phrases:
    language: Language
    abstain: str
    related_heading: str
    disclaimer: str
    disclaimer_medical: str
    searching: str
    source: str
    cited_heading: str
    full_text: str
    score: str
    confidence: str
    translation_of: str  # has a {marker} placeholder
    not_evidence: str
    legend_cited: str
    legend_parallel: str
    legend_related: str
    source_file: str
    empty_panel: str
    ask_placeholder: str
    ask_button: str
    empty_question: str
    no_documents: str
    loading: str
    page: str  # has a {page} placeholder
    copy: str
    searched_for: str  # has a {question} placeholder


_OWN: dict[Language, dict[str, str]] = {
    "en": {
        "searching": "Searching the sources…",
        "source": "Source document",
        "cited_heading": "Cited sentences",
        "full_text": "Full text",
        "score": "score",
        "confidence": "answer confidence",
        "translation_of": "translation of [{marker}]",
        "not_evidence": "not evidence",
        "legend_cited": "cited",
        "legend_parallel": "parallel translation",
        "legend_related": "related, not evidence",
        "source_file": "File",
        "empty_panel": "Ask a question: the sentences its answer quotes appear here, highlighted in their document. "
        "Click a marker such as [1] in an answer to jump to that sentence.",
        "ask_placeholder": "Ask a question about the documents…",
        "ask_button": "Ask",
        "empty_question": "Type a question first.",
        "no_documents": "No documents are indexed yet, so there is nothing to answer from. "
        "Add .txt, .md, .pdf or .jsonl files in the Documents tab (or with `qa ingest FILE`), then ask again.",
        "loading": "Loading the index and the embedding model… the first answer waits for it.",
        "page": "p. {page}",
        "copy": "Copy with citations",
        "searched_for": "Searched for: {question}",
    },
    "zh": {
        "searching": "正在检索来源…",
        "source": "来源文献",
        "cited_heading": "引用的句子",
        "full_text": "全文",
        "score": "相关度",
        "confidence": "回答把握",
        "translation_of": "[{marker}] 的译文",
        "not_evidence": "非依据",
        "legend_cited": "引用",
        "legend_parallel": "对应译文",
        "legend_related": "相关句子，非依据",
        "source_file": "文件",
        "empty_panel": "请提问：回答所引用的句子会在此处的原文中高亮显示。"
        "点击回答中的 [1] 等标记可跳转到对应句子。",
        "ask_placeholder": "就文献内容提问…",
        "ask_button": "提问",
        "empty_question": "请先输入问题。",
        "no_documents": "尚未索引任何文献，因此无从回答。请在“文献”标签页添加 .txt、.md、.pdf 或 .jsonl 文件"
        "（或使用 `qa ingest FILE`），然后再提问。",
        "loading": "正在加载索引和嵌入模型……第一个回答需要等待加载完成。",
        "page": "第 {page} 页",
        "copy": "复制（含引用）",
        "searched_for": "检索的问题：{question}",
    },
}


def phrases(prompts: PromptSet, language: Language) -> Phrases:
    return Phrases(
        language=language,
        abstain=prompts.get("abstain", language).strip(),
        related_heading=prompts.get("related_heading", language).strip(),
        disclaimer=prompts.get("disclaimer", language).strip(),
        disclaimer_medical=prompts.get("disclaimer_medical", language).strip(),
        **_OWN[language],
    )
