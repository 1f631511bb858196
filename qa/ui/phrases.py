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
    searching: str
    source: str
    cited_heading: str
    full_text: str
    score: str
    translation_of: str  # has a {marker} placeholder
    not_evidence: str
    legend_cited: str
    legend_parallel: str
    legend_related: str
    source_file: str
    empty_panel: str
    ask_placeholder: str


_OWN: dict[Language, dict[str, str]] = {
    "en": {
        "searching": "Searching the sources…",
        "source": "Source document",
        "cited_heading": "Cited sentences",
        "full_text": "Full text",
        "score": "score",
        "translation_of": "translation of [{marker}]",
        "not_evidence": "not evidence",
        "legend_cited": "cited",
        "legend_parallel": "parallel translation",
        "legend_related": "related, not evidence",
        "source_file": "File",
        "empty_panel": "Ask a question: the sentences its answer quotes appear here, highlighted in their document. "
        "Click a marker such as [1] in an answer to jump to that sentence.",
        "ask_placeholder": "Ask a question about the documents…",
    },
    "zh": {
        "searching": "正在检索来源…",
        "source": "来源文献",
        "cited_heading": "引用的句子",
        "full_text": "全文",
        "score": "相关度",
        "translation_of": "[{marker}] 的译文",
        "not_evidence": "非依据",
        "legend_cited": "引用",
        "legend_parallel": "对应译文",
        "legend_related": "相关句子，非依据",
        "source_file": "文件",
        "empty_panel": "请提问：回答所引用的句子会在此处的原文中高亮显示。"
        "点击回答中的 [1] 等标记可跳转到对应句子。",
        "ask_placeholder": "就文献内容提问…",
    },
}


def phrases(prompts: PromptSet, language: Language) -> Phrases:
    return Phrases(
        language=language,
        abstain=prompts.get("abstain", language).strip(),
        related_heading=prompts.get("related_heading", language).strip(),
        disclaimer=prompts.get("disclaimer", language).strip(),
        **_OWN[language],
    )
