"""newsqa: ask questions about a folder of news articles and get answers that cite their sources.

Public API::

    from qa import Retriever
    retriever = Retriever.from_folder("seeds")     # opens the saved index, or builds/updates it
    hits = retriever.search("Which countries did the envoy visit?", k=5)   # list[Hit], best first
    answer = retriever.ask("Which countries did the envoy visit?")         # Answer with citations
"""

from __future__ import annotations

from .articles import Article
from .errors import (
    ArticleNotFound,
    CorpusError,
    DeviceError,
    FilterError,
    IndexBusyError,
    IndexWriteError,
    LLMError,
    ModelNotFoundError,
    QAError,
    QuestionError,
    ReaderError,
    StoreError,
)
from .records import Answer, AnswerCitation, AnswerSentence, Citation, Hit
from .settings import Settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .retriever import Retriever


def __getattr__(name: str):
    # The retriever pulls in numpy, scipy and bm25s (about half a second): load it when first asked for, so
    # the chat window can paint before that.
    if name == "Retriever":
        from .retriever import Retriever

        return Retriever
    raise AttributeError(f"module 'qa' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"Retriever"})  # help(qa) and completion list the lazy one too


__all__ = [
    "Answer",
    "AnswerCitation",
    "AnswerSentence",
    "Article",
    "ArticleNotFound",
    "Citation",
    "CorpusError",
    "DeviceError",
    "FilterError",
    "Hit",
    "IndexBusyError",
    "IndexWriteError",
    "LLMError",
    "ModelNotFoundError",
    "QAError",
    "QuestionError",
    "ReaderError",
    "Retriever",
    "StoreError",
    "Settings",
]
