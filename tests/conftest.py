"""Shared fixtures: the real model and a seed-corpus retriever, each loaded once per test session."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from qa import Answer, Retriever, Settings
from qa.embedding import Embedder, locate_model

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture(autouse=True)
def restore_logging():
    """`qa` commands run in-process set the level of the "qa" logger (-v, -q); later tests see the default."""
    logger = logging.getLogger("qa")
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2, loaded once."""
    settings = Settings()
    model = Embedder(locate_model(settings.model, settings.cache_dir))
    model.load()
    return model


@pytest.fixture(scope="session")
def seed_retriever(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """A retriever over a copy of seeds/, indexed once in a temporary folder."""
    corpus = tmp_path_factory.mktemp("seeds")
    for article in SEEDS.glob("*.txt"):
        shutil.copy(article, corpus / article.name)
    return Retriever.from_folder(corpus, embedder=embedder)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A fresh copy of the seed articles in a temporary folder, for tests that change or index it."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for article in sorted(SEEDS.glob("*.txt")):
        shutil.copy(article, folder / article.name)
    return folder


def assert_quotes_exact(retriever: Retriever, answer: Answer) -> None:
    """Each citation's span is exactly the text of the sentences quoted with its number, in order, with at
    most white space between them (sentences that follow each other in a passage share one citation), and
    the answer's text quotes each run of them once, followed by its number."""
    if answer.abstained:
        assert answer.sentences == () and answer.citations == ()
        return
    for cited in answer.citations:
        texts = [s.text for s in answer.sentences if s.number == cited.number]
        span = retriever.article(cited.citation.doc_id).text[cited.citation.start : cited.citation.end]
        assert texts and span.startswith(texts[0]) and span.endswith(texts[-1])
        assert "".join(span.split()) == "".join("".join(t.split()) for t in texts)
    numbers = [s.number for s in answer.sentences]
    assert answer.text == " ".join(
        s.text + (f" [{s.number}]" if i + 1 == len(numbers) or numbers[i + 1] != s.number else "")
        for i, s in enumerate(answer.sentences))
