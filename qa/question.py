"""Checking a question before anything is searched: refused at once, with a reason, when it cannot be asked."""

from __future__ import annotations

import re

from .errors import QuestionError

MAX_QUESTION_CHARS = 2000
# Whole terminal escape sequences (a question pasted with its colours): CSI, OSC and two-character ones.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
# Other control characters (NUL, BEL, ...), lone surrogates (undecodable command-line bytes) and
# zero-width or byte-order marks carry nothing to search for: they become spaces.
_NOISE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200d\u2060\ufeff]")


def without_controls(text: str) -> str:
    """`text` with terminal escape sequences, control characters and zero-width marks replaced by spaces."""
    return _NOISE.sub(" ", _ESCAPE_SEQUENCE.sub(" ", text))


def check_question(question: str) -> str:
    """The question cleaned of control characters and stripped, or a QuestionError saying why it cannot be
    asked: empty, longer than MAX_QUESTION_CHARS, or without a single letter or digit (only punctuation,
    symbols or emoji). Any script counts: Arabic, Chinese and Greek questions pass."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    length = len(question.strip())
    if length > MAX_QUESTION_CHARS:  # before any other work, however long it is
        raise QuestionError(f"the question is {length} characters long; keep it under {MAX_QUESTION_CHARS}")
    question = " ".join(without_controls(question).split())
    if not question:
        raise QuestionError("the question is empty: type a question about the articles")
    if not any(char.isalnum() for char in question):
        raise QuestionError("the question has no words, only punctuation or symbols: ask it in words")
    return question
