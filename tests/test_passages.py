"""Sentence and passage splitting: offsets always slice back to the exact text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.articles import parse_article
from qa.passages import split_passages, split_sentences

from .conftest import SEEDS


def sentences_of(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_abbreviations_do_not_end_sentences() -> None:
    text = "Mr. Zalmay met Gen. Bajwa in the U.S. embassy. He left on Friday. Then U.N. staff arrived."
    assert sentences_of(text) == [
        "Mr. Zalmay met Gen. Bajwa in the U.S. embassy.",
        "He left on Friday.",
        "Then U.N. staff arrived.",
    ]


def test_quotes_and_question_marks_end_sentences() -> None:
    text = "“We demand an end,” he wrote. “Will it work?” Nobody knew."
    assert sentences_of(text) == ["“We demand an end,” he wrote.", "“Will it work?”", "Nobody knew."]


def test_headings_and_paragraph_lines_are_boundaries_but_wrapped_lines_are_not() -> None:
    text = "Busy schedule\nThe envoy left on\nmonday for talks.\n\nA new paragraph"
    assert sentences_of(text) == ["Busy schedule", "The envoy left on\nmonday for talks.", "A new paragraph"]


def article_from(text: str):
    return parse_article("doc.txt", text.encode("utf-8"))


words = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1,
                max_size=12)
paragraph = st.lists(words, min_size=1, max_size=60).map(lambda ws: " ".join(ws) + ".")
document = st.tuples(st.lists(paragraph, min_size=1, max_size=12), st.sampled_from(["\n", "\n\n", "\r\n", "\n \n"]))


@settings(max_examples=200, deadline=None)
@given(document)
def test_passage_offsets_slice_back_to_the_passage(doc) -> None:
    paragraphs, separator = doc
    text = "A headline for the story\n" + separator.join(paragraphs)
    article = article_from(text)
    if article is None:
        return
    previous_end = 0
    for passage in split_passages(article, min_words=20, max_words=50):
        assert passage.text == article.text[passage.start : passage.end]
        assert passage.text == passage.text.strip()
        assert passage.start >= previous_end  # in order, never overlapping
        assert len(passage.text.split()) <= 50
        previous_end = passage.end


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_sentence_spans_are_exact_and_ordered(text: str) -> None:
    previous_end = 0
    for span in split_sentences(text):
        piece = text[span.start : span.end]
        assert piece and piece == piece.strip()
        assert span.start >= previous_end
        previous_end = span.end


def test_seed_passages_keep_offsets_and_size() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        article = parse_article(path.name, path.read_bytes())
        passages = split_passages(article, min_words=60, max_words=180)
        assert passages, path.name
        for passage in passages:
            assert article.text[passage.start : passage.end] == passage.text
            assert len(passage.text.split()) <= 180
        words = [len(p.text.split()) for p in passages]
        assert sum(w >= 60 for w in words) >= len(words) // 2, (path.name, words)


def test_passages_never_include_dropped_debris() -> None:
    text = "Headline of the article here\nFirst paragraph has words. More words.\n![]() |\nCaption. Photo: AP |\nNext para."
    article = article_from(text)
    for passage in split_passages(article, min_words=10, max_words=100):
        assert "|" not in passage.text
    assert [p.text for p in split_passages(article, min_words=10, max_words=100)] == [
        "Headline of the article here\nFirst paragraph has words. More words.",
        "Next para.",
    ]


def test_over_long_sentence_is_cut_between_words() -> None:
    text = "Title of the piece here\n" + " ".join(f"w{i}" for i in range(450)) + "."
    passages = split_passages(article_from(text), min_words=60, max_words=180)
    assert max(len(p.text.split()) for p in passages) <= 180
    assert " ".join(p.text for p in passages).split()[-1] == "w449."
