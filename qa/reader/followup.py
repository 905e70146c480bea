"""Follow-up resolution: which earlier questions of the conversation a question leans on."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..errors import QuestionError
from ..records import Answer

log = logging.getLogger(__name__)

# A question that points back (he, it, there, that ...) cannot be searched on its own.
POINTING = re.compile(r"\b(?:he|him|his|she|her|its?|they|them|their|there|that|this|those|these)\b", re.I)
SHORT = 1  # a question of this many key terms or fewer (question words are stop words) is too short to stand alone
BACK = 3  # at most this many earlier questions are brought in


def history_questions(history: Iterable[Any] | None) -> list[str]:
    """The questions of earlier turns given as Answers, strings, (question, answer) pairs or mappings; a
    single string or Answer is one turn."""
    if isinstance(history, (str, Answer, Mapping)):
        history = [history]
    elif history is not None and not isinstance(history, Iterable):
        raise QuestionError(f"history must be a list of earlier questions or answers, not {type(history).__name__}")
    questions = []
    for turn in history or ():
        question = (turn.question if isinstance(turn, Answer) else turn if isinstance(turn, str)
                    else turn.get("question") if isinstance(turn, Mapping)
                    else turn[0] if isinstance(turn, (tuple, list)) and turn else None)
        if isinstance(question, str) and question.strip():
            questions.append(question.strip())
        else:
            log.debug("ignored a history turn without a question: %r", turn)
    return questions


def leans_on_context(question: str, terms: Callable[[str], list[str]]) -> bool:
    """Whether a question points back (he, it, there, that ...) or is too short to stand alone."""
    return any(not _resolved_within(question, word) for word in POINTING.finditer(question)) \
        or len(terms(question)) <= SHORT


# Words a question can resolve itself: a possessive after something it names ("When did the envoy leave his
# post?", "When did the Soviet Union pull its troops out?") and a relative "that" after a noun phrase ("the
# insurgents' delegation that went to Islamabad"). Taken as pointing back, they brought an unrelated earlier
# question into the search: asked after a random other question, 5 of the seed set's 34 unanswerable questions
# were answered that it declines alone; none of its 15 follow-ups uses them this way.
POSSESSIVES = {"his", "her", "its", "their"}
_NAMED_BEFORE = re.compile(r"(?i:\b(?:the|a|an))\s+\w|\S\s+[A-Z]")  # "the envoy ...", "... Khalilzad ..."
_NOUN_PHRASE_BEFORE_THAT = re.compile(r"\b(?:the|a|an)\s+(?:\S+\s+){0,3}\S+\s+$", re.I)


def _resolved_within(question: str, word: re.Match[str]) -> bool:
    before = question[: word.start()]
    pointer = word.group().lower()
    if pointer in POSSESSIVES:
        return bool(_NAMED_BEFORE.search(before))
    return pointer == "that" and bool(_NOUN_PHRASE_BEFORE_THAT.search(before))


def context_questions(question: str, history: Sequence[str], terms: Callable[[str], list[str]]) -> list[str]:
    """The earlier questions (oldest first, at most BACK) that a follow-up leans on: the last one, and the one
    before each question that itself leans on context; none for a question that stands alone.
    (Adding words of earlier answers was tried: on the eval set's follow-ups it hurt.)"""
    context: list[str] = []
    current = question
    for previous in reversed(history[-BACK:]):
        if not leans_on_context(current, terms):
            break
        context.insert(0, previous)
        current = previous
    return context
