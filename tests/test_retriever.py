"""The retriever with the real model on the seed articles."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from qa import QuestionError, Retriever

KNOWN = [
    ("How many people died in the July airstrikes near the Iranian border?", "000_3508494580fc35c5", "45 people"),
    ("Who is the news editor of Antiwar.com?", "001_f1fe2993f030a849", "Dave DeCamp"),
    ("Which lawmaker sent Biden a letter attacking the envoy?", "002_8157d92ee579a465", "Michael Waltz"),
    ("Where did Khalilzad meet the Pakistani army chief in March?", "003_9623a98c6a797b2a", "Rawalpindi"),
    ("When did Pakistan host the first direct talks between Kabul and the Taliban?", "004_52d8e2bfa1f724e8", "2015"),
]


@pytest.mark.parametrize(("question", "doc_id", "answer"), KNOWN)
def test_known_questions_find_their_passage_first(seed_retriever: Retriever, question, doc_id, answer) -> None:
    best = seed_retriever.search(question, k=1)[0]
    assert best.citation.doc_id == doc_id
    assert answer in best.text


def test_hits_are_ranked_and_cite_exact_text(seed_retriever: Retriever) -> None:
    hits = seed_retriever.search("Why did fighting escalate in Afghanistan?", k=7)
    assert [h.rank for h in hits] == list(range(1, 8))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for hit in hits:
        article = seed_retriever.article(hit.citation.doc_id)
        assert article.text[hit.citation.start : hit.citation.end] == hit.text
        assert hit.citation.path == f"{hit.citation.doc_id}.txt"


@pytest.mark.parametrize("method", ["bm25", "dense", "hybrid", "rrf"])
def test_every_method_returns_k_hits(seed_retriever: Retriever, method: str) -> None:
    assert len(seed_retriever.search("peace talks in Doha", k=3, method=method)) == 3


def test_k_larger_than_the_corpus_returns_everything(seed_retriever: Retriever) -> None:
    assert len(seed_retriever.search("Taliban", k=10_000)) == len(seed_retriever)


@pytest.mark.parametrize("question", ["", "   \n", "x" * 5000])
def test_bad_questions_raise_a_clear_error(seed_retriever: Retriever, question: str) -> None:
    with pytest.raises(QuestionError):
        seed_retriever.search(question)


@pytest.mark.parametrize("arguments", [{"k": 0}, {"k": -1}, {"k": 2.5}, {"k": "3"}, {"k": None}, {"k": True},
                                       {"method": "nope"}, {"since": 2024}, {"outlets": 5}, {"outlets": [1]}])
def test_bad_search_arguments_are_one_line_errors(seed_retriever: Retriever, arguments: dict) -> None:
    from qa import QAError

    with pytest.raises(QAError) as raised:
        seed_retriever.search("Who freed Baradar?", **arguments)
    assert "\n" not in str(raised.value) and repr(next(iter(arguments.values()))) in str(raised.value)


def test_an_unknown_article_is_a_qa_error_and_a_key_error(seed_retriever: Retriever) -> None:
    from qa import QAError

    with pytest.raises(QAError, match="no article 'nope' in this corpus") as raised:
        seed_retriever.article("nope")
    assert isinstance(raised.value, KeyError)


def test_history_given_as_one_string_is_one_earlier_question(seed_retriever: Retriever) -> None:
    from qa.errors import QuestionError

    as_list = seed_retriever.ask("In what year?", history=["Who freed Baradar from prison?"])
    as_string = seed_retriever.ask("In what year?", history="Who freed Baradar from prison?")
    assert as_string.text == as_list.text and "2018" in as_list.text
    with pytest.raises(QuestionError, match="history must be a list"):
        seed_retriever.ask("In what year?", history=5)


def test_importing_qa_does_not_import_torch() -> None:
    import subprocess

    code = "import sys, qa; assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


def test_the_public_api_lists_what_it_exports() -> None:
    import qa

    assert set(qa.__all__) <= set(dir(qa)) and "Retriever" in dir(qa)
    assert all(issubclass(getattr(qa, name), qa.QAError) for name in qa.__all__ if name.endswith("Error"))
    from qa.filters import FilterError
    from qa.llm import LLMError
    from qa.reader.registry import ReaderError

    assert (FilterError, LLMError, ReaderError) == (qa.FilterError, qa.LLMError, qa.ReaderError)
