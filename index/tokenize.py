"""Word tokens for lexical search and term matching, in English and Chinese.

English: lower-cased word tokens, stop words dropped, Snowball-stemmed (PyStemmer),
with hyphenated compounds also kept whole ("high-dose" → "high-dose", "high", "dose").
Chinese: jieba's search-mode segmentation, which also emits the shorter words
inside long compounds (幼年皮肌炎 → 幼年, 皮肌炎, …) so partial matches still score.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba
import Stemmer

jieba.setLogLevel(logging.WARNING)

# What a stored tokenization (index/snapshot.py) was made with: raise the first number with any
# change to the rules below; a new jieba or stemmer may cut words differently too.
TOKENIZER_VERSION = f"1; jieba {jieba.__version__}; PyStemmer {Stemmer.version()}"

_EN_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_EN_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having he
    her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
    of off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves s t don now
    tell say says said give show list describe please whats
    usual usually typical typically main mainly generally currently known described reported
    review article paper abstract text document source""".split()
)
_ZH_STOPWORDS = frozenset(
    "的 了 和 是 在 有 与 及 或 等 中 对 为 被 把 也 都 而 但 就 这 那 些 个 之 其 以 于 吗 呢 吧 啊 什么 哪些 如何 怎么 怎样 为什么 是否 请 一种 通常 一般 主要 目前 综述 文章 摘要 文中 这篇 本文".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def english_tokens(text: str, expand: bool = True) -> list[str]:
    tokens: list[str] = []
    for word in _EN_WORD.findall(text.lower()):
        parts = word.split("-")
        for piece in ([word] + parts) if expand and len(parts) > 1 else [word]:
            if piece and piece not in _EN_STOPWORDS:
                tokens.append(piece)
    return _stemmer().stemWords(tokens)


def chinese_tokens(text: str, expand: bool = True) -> list[str]:
    cut = jieba.lcut_for_search if expand else jieba.lcut
    tokens: list[str] = []
    for run in _CJK_RUN.findall(text):
        tokens.extend(t for t in cut(run) if t.strip() and t not in _ZH_STOPWORDS)
    return tokens


def tokenize(text: str, expand: bool = True) -> list[str]:
    """Tokens of both scripts; Latin words inside Chinese text (JDM, IFN, CD20) are kept too.

    `expand` also emits the parts of compounds ("high-dose" → "dose"; 大多数 → 多数),
    which is right for what is searched, and wrong for the terms of a question,
    where it would count one word several times.
    """
    return english_tokens(_CJK_RUN.sub(" ", text), expand) + chinese_tokens(text, expand)
