"""Readers by name: `extractive` (the default, learned), and the readers of qa/llm, imported only when asked for."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import ReaderError

if TYPE_CHECKING:
    from ..settings import Settings
    from .pipeline import Reader

DEFAULT_READER = "extractive"
# name -> (module, factory, what it adds); a factory takes the Settings and returns a Reader, or raises a
# one-line QAError that says what to install.
READERS: dict[str, tuple[str, str, str]] = {
    "extractive": ("qa.reader.registry", "extractive_reader", "quotes the sentences a learned ranker picks"),
    "strict": ("qa.llm.readers", "strict_reader", "+ a local LLM judges whether the quotes answer"),
    "server": ("qa.llm.readers", "server_reader", "+ an OpenAI-compatible server judges and writes"),
}


def extractive_reader(settings: Settings | None = None) -> Reader:
    """The default reader: the learned ranker and abstainer of qa/reader/params.json."""
    from .pipeline import Reader

    return Reader(DEFAULT_READER)


def make_reader(name: str, settings: Settings | None = None) -> Reader:
    """The reader called `name`, built for `settings`."""
    if name not in READERS:
        raise ReaderError(f"unknown reader {name!r}: use one of {', '.join(READERS)}")
    module_name, factory_name, _ = READERS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise ReaderError(f"reader {name!r} is not part of this installation") from None
        raise ReaderError(f"reader {name!r} needs {error.name}: install it with pip install -e '.[strict]' in the newsqa folder") from None
    factory: Callable[..., Reader] = getattr(module, factory_name)
    return factory(settings)


def describe_readers() -> dict[str, str]:
    """Each reader's name and what it does, for help texts and the chat's palette."""
    return {name: about for name, (_, _, about) in READERS.items()}
