"""Shared fixtures: the real model and a seed-corpus retriever, each loaded once per test session."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from qa import Retriever, Settings
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
