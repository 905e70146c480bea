"""The one exception family the library raises."""

from __future__ import annotations


class QAError(Exception):
    """Base of every error newsqa raises on purpose; its message is one line meant for people."""


class ModelNotFoundError(QAError):
    """The embedding model is not installed or the named folder holds no model."""


class CorpusError(QAError):
    """The corpus folder is missing or holds no readable article."""


class QuestionError(QAError):
    """The question is empty or otherwise unusable."""


class StoreError(QAError):
    """The store address is wrong, or its server cannot be reached or refused a request."""


class IndexWriteError(QAError):
    """The index could not be written (a full or read-only disk); the previous index is left as it was."""


class ArticleNotFound(QAError, KeyError):
    """`Retriever.article` was given a doc_id the corpus does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class IndexBusyError(QAError):
    """Another process is writing the index and did not finish in time."""


class FilterError(QAError):
    """A --since/--until date or an --outlet name cannot be used."""


class ReaderError(QAError):
    """A reader that does not exist or cannot be used here."""


class LLMError(QAError):
    """The local reading model or the model server cannot be used; the message says why and what to do."""


class DeviceError(QAError):
    """The embedding model was asked to run on a GPU this machine (or this torch) does not have."""
