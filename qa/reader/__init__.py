"""The answer reader, in stages: question checks and follow-ups (followup), candidates, reading and features,
a learned ranker and abstainer (params), composition; readers by name (registry)."""

from .params import ReaderParams, load_params
from .pipeline import NO_ANSWER, Reader, Scoring
from .registry import DEFAULT_READER, READERS, ReaderError, describe_readers, make_reader

__all__ = ["DEFAULT_READER", "NO_ANSWER", "READERS", "Reader", "ReaderError", "ReaderParams", "Scoring",
           "describe_readers", "load_params", "make_reader"]
