"""Document structure: headings become sections, list items and table rows are units, PDF text re-flows."""

from index.documents import Document
from index.splitting import split_document
from index.structure import is_heading_line, reflow

MARKDOWN = """# Bread report

## Baking
Bake the bread for 40 minutes at 220 degrees. Let it cool
on a rack before slicing.

- Flour: 500 g
- Water: 350 ml, lukewarm

| Year | Operating cost |
|------|----------------|
| 2020 | $5.1M |
| 2021 | $3.2M |
"""


def _units(text: str) -> list[tuple[str, str]]:
    document = Document(id="d", text=text)
    sentences = split_document(document)
    for s in sentences:
        assert document.text[s.start : s.end] == s.text
    return [(s.section, s.text) for s in sentences]


def test_markdown_headings_are_sections_not_sentences():
    units = _units(MARKDOWN)
    assert all("#" not in text for _, text in units)
    assert ("Baking", "Bake the bread for 40 minutes at 220 degrees.") in units
    assert ("Baking", "Let it cool\non a rack before slicing.") in units


def test_list_items_and_table_rows_are_one_unit_each_with_context():
    units = _units(MARKDOWN)
    assert ("Baking", "Flour: 500 g") in units
    assert ("Baking", "Water: 350 ml, lukewarm") in units
    assert ("Baking (Year | Operating cost)", "| 2021 | $3.2M |") in units
    assert not any("---" in text or text.startswith("| Year") for _, text in units)


def test_structured_abstract_inline_headings_name_sections():
    units = _units("Background. Farmers in Mali use pumps. Methods. We surveyed 40 farms.\n")
    assert units == [("Background", "Farmers in Mali use pumps."), ("Methods", "We surveyed 40 farms.")]


def test_pdf_reflow_joins_wrapped_lines_and_hyphenation_but_keeps_headings():
    page = "Pumps cut costs for farmers in West\nAfrica, but upkeep remained a chal-\nlenge for most villages.\nMethods.\nWe surveyed 40 farms.\n"
    text = reflow(page)
    assert "farmers in West Africa, but upkeep remained a challenge" in text
    assert _units(text) == [
        ("", "Pumps cut costs for farmers in West Africa, but upkeep remained a challenge for most villages."),
        ("Methods", "We surveyed 40 farms."),
    ]


def test_pdf_reflow_does_not_join_a_title_onto_an_inline_heading():
    """A title line has no full stop, like a wrapped line; the next line opening with "Background."
    starts the abstract. Joined, "…Nepal Background." was cited as a sentence."""
    page = (
        "Mobile libraries and reading skills in rural Gorkha, Nepal\n"
        "Background. Children in remote villages have few books at home, and school\n"
        "libraries are often locked. The study was led by\n"
        "Dr. Rai and her team.\n"
    )
    assert _units(reflow(page)) == [
        ("", "Mobile libraries and reading skills in rural Gorkha, Nepal"),
        ("Background", "Children in remote villages have few books at home, and school libraries are often locked."),
        ("Background", "The study was led by Dr. Rai and her team."),
    ]


def test_heading_heuristic_keeps_ordinary_short_sentences():
    assert is_heading_line("Methods") and is_heading_line("Results:") and is_heading_line("## Costs")
    assert not is_heading_line("It works well in the field.")
    assert not is_heading_line("Africa, but maintenance remained a chal-")


def test_embedding_text_carries_the_section():
    sentence = next(s for s in split_document(Document(id="d", text=MARKDOWN)) if s.text == "| 2021 | $3.2M |")
    assert sentence.embedding_text == "Baking (Year | Operating cost): | 2021 | $3.2M |"
