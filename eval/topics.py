"""Topic questions: a reader names a thing and asks what the documents say about it.

"What does the report say about costs?", "Tell me about the Yuan dynasty.", "介绍一下费用。" The
dev sets' questions ask for one fact and name it precisely; none is worded like these, so without
this no public set measures them. They meet two models the dev questions never tested: the intent
detector (`qa.intent`), which took such a question for one about the documents as a whole and
answered it with their opening sentences (about a fifth of English ones, session 18), and the
gate.

Each SQuAD-format question whose accepted answer (in its own language) reads as a topic becomes
one: the answer text put into a frame of `eval/data/topic_frames.tsv` chosen by a stable hash of
the question's ID among the frames of its language and split ("fit" frames for fit-half questions,
"test" frames for test-half ones, so test figures meet wordings the models were not fitted on). The
answer texts stay what counts as a hit, so a first citation holding the topic answers it; a
question on a held-back paragraph or a left-out article keeps its category when its topic occurs
nowhere in the index (eval.squad's rule for held-back answers, here also applied to left-out
articles: "Tell me about Britain." is answerable wherever Britain is named), so abstaining is
right. Topics are answer texts, and some are poor ones ("necessary", "Political"): such a question
names little, which makes the set harder than a reader's questions, not easier. `qa eval --topics` asks these.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jieba import posseg

from eval.dataset import DATA_DIR, DatasetError, EvalQuestion
from eval.metrics import answer_in_text, normalize_for_match
from eval.squad import stable_hash
from index.documents import Document
from index.splitting import detect_language
from qa.answer_type import has_numeral

FRAMES_PATH = DATA_DIR / "topic_frames.tsv"
PLACEHOLDER = "{topic}"
MAX_WORDS = 5  # English: longer answer texts are clauses ("because it was cheaper to build"), not topics
MAX_CHARACTERS = 12  # Chinese, likewise
# English answer texts that open with one of these are clauses or phrases of manner, time or reason
# ("to increase profits", "by train"), which no reader asks about as a topic.
_NOT_A_TOPIC_START = frozenset("to by in on at for from with because since that which when where if as than into during after before".split())
_NOUN_AFTER_THE = re.compile(r"\b[Tt]he ([a-z]{4,}) (?:of|in|for|to|and|or|was|is|were|are|with|on|from|at|by)\b")
_LETTER = re.compile(r"[A-Za-z\u4e00-\u9fff]")


@dataclass(frozen=True)
class Frame:
    split: str
    language: str
    text: str


@lru_cache(maxsize=2)
def load_frames(path: Path = FRAMES_PATH) -> tuple[Frame, ...]:
    """The frames of `path`, each checked to hold the placeholder once and to name a known split and language."""
    frames = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in ("fit", "test") or parts[1] not in ("en", "zh") or parts[2].count(PLACEHOLDER) != 1:
            raise DatasetError(f"{path}:{number}: expected 'fit|test<TAB>en|zh<TAB>a frame holding {PLACEHOLDER} once', got {line!r}")
        frames.append(Frame(*parts))
    return tuple(frames)


def topic_of(answers: list[str] | tuple[str, ...], language: str) -> str | None:
    """The first accepted answer text in the question's language that reads as a topic, else None."""
    for answer in answers:
        text = answer.strip().rstrip(".。")
        # A quantity ("six years", "三种") is an answer, not a topic.
        if not _LETTER.search(text) or detect_language(text) != language or has_numeral(text):
            continue
        if language == "en":
            words = text.split()
            if len(words) <= MAX_WORDS and len(text) >= 3 and words[0] not in _NOT_A_TOPIC_START:
                return text
        elif 2 <= len(text) <= MAX_CHARACTERS:
            return text
    return None


def topic_question(key: str, language: str, split: str, topic: str) -> str:
    """`topic` asked in the frame of its language and split that `key` (a question's ID) picks."""
    frames = [f for f in load_frames() if f.language == language and f.split == split]
    frame = frames[int(stable_hash("topic", key), 16) % len(frames)]
    return frame.text.replace(PLACEHOLDER, topic)


def common_nouns(texts: list[str], language: str, limit: int) -> list[str]:
    """The `limit` most frequent common nouns of `texts`, as a reader names a generic topic ("the
    costs", "费用"): the answer texts `topic_of` takes are mostly names, and an intent detector that
    met only names took "Tell me about the budget." for a question about the whole document
    (session 18). English: the word after "the" and before a preposition, conjunction or verb of
    being ("the incidence of", "the costs were"); Chinese: jieba's plain nouns (n) of two or more
    characters."""
    counts: Counter[str] = Counter()
    for text in texts:
        if language == "en":
            counts.update(m.group(1) for m in _NOUN_AFTER_THE.finditer(text))
        else:
            counts.update(w.word for w in posseg.cut(text) if w.flag == "n" and len(w.word) >= 2)
    return [word for word, _ in counts.most_common(limit)]


def with_topics(questions: list[EvalQuestion], documents: list[Document]) -> list[EvalQuestion]:
    """Each question that has a topic, asked as a topic question (module docstring); the others are
    left out, and so is an unanswerable one whose topic occurs in the indexed `documents` ("Tell me
    about Britain." is answered by any sentence naming Britain, whichever article the question
    came from)."""
    corpus = "\n".join(normalize_for_match(document.text) for document in documents)
    found = []
    for question in questions:
        topic = topic_of(question.answers, question.language)
        if topic is None or (not question.answerable and answer_in_text(topic, corpus, normalized=True)):
            continue
        text = topic_question(question.id, question.language, question.split or "test", topic)
        found.append(question.model_copy(update={"question": text}))
    return found
