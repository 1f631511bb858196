"""Misspelt question words corrected toward the collection's words (qa.spelling), on the one retrieval path."""

from __future__ import annotations

import pytest

from index.documents import Document
from qa import Assistant
from qa.settings import Settings

REPORT = Document(
    id="orchard",
    text=(
        "The orchard planted 300 pear trees on the south slope. Frost damaged the blossoms in April. "
        "Irrigation with reclaimed water began in 2021. The cooperative treated the trees with methotrexate-free sprays."
    ),
)


@pytest.fixture
def assistant(tmp_path):
    settings = Settings(data_dir=tmp_path / "index", embedding="hash", show_progress=False)
    assistant = Assistant(settings=settings, include_bundled=False)
    assistant.ingest([REPORT])
    return assistant


@pytest.mark.parametrize(
    ("asked", "searched"),
    [
        ("When did irigation begin?", "When did irrigation begin?"),  # a letter left out
        ("What was damgaed by frost?", "What was damaged by frost?"),  # two letters swapped
        ("Which cooperativve treated the trees?", "Which cooperative treated the trees?"),  # a letter doubled
        ("When did irrigatoin with reclaimde water begin?", "When did irrigation with reclaimed water begin?"),
        ("What was treated with methotrexat?", "What was treated with methotrexate?"),  # a word no dictionary holds
        ("Irigation with reclaimed water: when?", "Irrigation with reclaimed water: when?"),  # a first word keeps its capital
        ("irigation with reclaimed water: when?", "irrigation with reclaimed water: when?"),  # ... and a lower-case one stays so
    ],
)
def test_a_misspelt_word_is_searched_as_the_collections_nearest_word(assistant, asked, searched):
    assert assistant.retriever.search(asked).query == searched


@pytest.mark.parametrize(
    "asked",
    [
        "What is the mortality of pear trees?",  # a real word the collection lacks: not a typo
        "Did Smithe plant the trees?",  # a capitalised word may be a name the collection does not hold
        "Did the OCHARD plant trees?",  # all capitals: an acronym
        "Was the blosom early?",  # unknown, but the nearest collection word ("blossoms") is two edits away
        "How many pera trees?",  # four letters: too short to correct
        "What did the orchards plant?",  # another form of a collection word (same stem)
        "When did urrigation begin?",  # its first letter differs from the collection word's
        "果园种了多少棵梨树？",  # Chinese is left as it is
    ],
)
def test_words_that_are_not_typos_of_the_collections_words_are_searched_as_asked(assistant, asked):
    assert assistant.retriever.search(asked).query == asked


def test_the_answer_says_what_was_searched_and_the_setting_turns_correction_off(assistant, tmp_path):
    answer = assistant.ask("When did irigation begin?")
    assert answer.standalone_question == "When did irrigation begin?"
    assert "2021" in assistant.retrieve("When did irigation begin?")[0].sentence.text

    settings = Settings(data_dir=tmp_path / "index", embedding="hash", show_progress=False, spelling=False)
    plain = Assistant(settings=settings, include_bundled=False)
    assert plain.retriever.search("When did irigation begin?").query == "When did irigation begin?"


def test_words_of_a_newly_added_document_become_corrections(assistant):
    assert assistant.retriever.search("Where are the vineyarrds?").query == "Where are the vineyarrds?"
    assistant.ingest([Document(id="vineyard", text="The vineyards lie north of the river.")])
    assert assistant.retriever.search("Where are the vineyarrds?").query == "Where are the vineyards?"


def test_the_warm_up_counts_the_collections_words_so_the_first_misspelt_question_does_not(assistant, monkeypatch):
    assistant.retriever.warm_up()
    counted = []
    monkeypatch.setattr("qa.spelling.LATIN_WORD", _Counting(counted))
    assert assistant.retriever.search("When did irigation begin?").query == "When did irrigation begin?"
    # Only the question's own words were matched; no sentence of the collection was read again.
    assert all(text == "When did irigation begin?" for text in counted)


class _Counting:
    """LATIN_WORD, recording the texts it is run over."""

    def __init__(self, seen: list[str]) -> None:
        import re

        self._pattern = re.compile(r"[A-Za-z]+")
        self._seen = seen

    def findall(self, text: str) -> list[str]:
        self._seen.append(text)
        return self._pattern.findall(text)

    def finditer(self, text: str):
        self._seen.append(text)
        return self._pattern.finditer(text)
