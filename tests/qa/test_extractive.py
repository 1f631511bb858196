"""The extractive answerer's composition, on a small catalog (no models)."""

from __future__ import annotations

from index.catalog import Catalog
from index.documents import Document
from index.splitting import split_document
from prompts import prompts
from qa.answerers import Evidence, Retrieval
from qa.answering import ExtractiveAnswerer
from qa.settings import Settings

TEXT = (
    "The harbour bridge was opened to traffic in March 1932 after eight years of construction. "
    "Its steel arch spans 503 metres between the two granite pylons. "
    "Tolls for the bridge are charged to cars but not to cyclists."
)


def _answerer_and_sentences():
    document = Document(id="bridge", text=TEXT, title="Bridge")
    sentences = split_document(document)
    return ExtractiveAnswerer(Catalog({"bridge": document}, sentences), prompts(), Settings()), sentences


def test_the_answer_leads_with_the_most_relevant_sentence_not_the_earliest():
    answerer, sentences = _answerer_and_sentences()
    question = "Which vehicles pay tolls on the bridge, and when was it opened?"
    # The ranking put the last sentence first; the opening sentence answers the second part.
    evidence = [Evidence(sentences[2], None, 0.9), Evidence(sentences[0], None, 0.8, required=True)]
    answer = answerer.answer(Retrieval(question, question, "en", evidence, answerable=True))
    assert [c.sentence_id for c in answer.citations] == [sentences[2].id, sentences[0].id]
    assert answer.text.startswith(answer.citations[0].quote)


def test_a_quote_keeps_what_the_sentence_goes_on_to_say():
    """The question's terms name the topic; the answer is often the clause after them. Trimming to the
    clauses holding the question's terms cut it out (5 of 160 answers on xquad-ci)."""
    text = (
        "The pathogenesis of the disease is not completely understood in children or in adults, "
        "but interferon signalling and mitochondrial dysfunction have been described in muscle biopsies."
    )
    document = Document(id="disease", text=text, title="Disease")
    sentences = split_document(document)
    answerer = ExtractiveAnswerer(Catalog({"disease": document}, sentences), prompts(), Settings())
    question = "What is known about the pathogenesis of the disease?"
    answer = answerer.answer(Retrieval(question, question, "en", [Evidence(sentences[0], None, 0.9)], answerable=True))
    assert "interferon signalling and mitochondrial dysfunction" in answer.citations[0].quote
    assert "interferon signalling and mitochondrial dysfunction" in answer.text
