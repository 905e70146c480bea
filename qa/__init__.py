"""newsqa: ask questions about a folder of news articles and get answers that cite their sources.

Public API::

    from qa import Retriever
    retriever = Retriever.from_folder("seeds")     # opens the saved index, or builds/updates it
    hits = retriever.search("Which countries did the envoy visit?", k=5)   # list[Hit], best first
    answer = retriever.ask("Which countries did the envoy visit?")         # Answer with citations
"""

from __future__ import annotations

from .articles import Article
from .errors import CorpusError, ModelNotFoundError, QAError, QuestionError
from .records import Answer, AnswerCitation, AnswerSentence, Citation, Hit
from .retriever import Retriever
from .settings import Settings

__all__ = [
    "Answer",
    "AnswerCitation",
    "AnswerSentence",
    "Article",
    "Citation",
    "CorpusError",
    "Hit",
    "ModelNotFoundError",
    "QAError",
    "QuestionError",
    "Retriever",
    "Settings",
]
