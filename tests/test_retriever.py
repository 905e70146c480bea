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
