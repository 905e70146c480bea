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


# "Who said that?", "Why did they say that?", "When was this?": a question that ends by pointing at what the
# last answer quoted. Searched and read as it was ("Who said that?" against each sentence), it found whichever
# sentence says someone said something; it is read with the quote in the place of its "that".
_POINTS_AT_ANSWER = re.compile(r"\b(?:that|this)(?=\s*[?.!]*\s*$)", re.I)
QUOTE_CHARS = 400  # the most of the last answer's quote put into the question


def about_last_answer(question: str, history: Iterable[Any] | None, terms: Callable[[str], list[str]]) -> str | None:
    """The question with its closing "that"/"this" replaced by the first sentence the last answer quoted
    ("Who said “The Taliban want the lion's share …”?"), for a question that ends pointing at the last answer
    and names little else; None when it does not, or the last turn has no quoted answer (a question string,
    an abstention)."""
    match = _POINTS_AT_ANSWER.search(question)
    if match is None or _resolved_within(question, match) or len(terms(question[: match.start()])) > SHORT + 1:
        return None
    quote = _first_quote(_last_turn(history))
    if not quote:
        return None
    quote = quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return f"{question[: match.start()]}“{quote.strip()}”{question[match.end():]}"


def _last_turn(history: Iterable[Any] | None) -> Any:
    if history is None or isinstance(history, str):
        return None
    if isinstance(history, (Answer, Mapping)):
        return history
    turns = list(history) if isinstance(history, Iterable) else []
    last = turns[-1] if turns else None
    return last[1] if isinstance(last, (tuple, list)) and len(last) == 2 else last


def _first_quote(turn: Any) -> str:
    """The first sentence an answer (an Answer, or its `to_dict()`) quoted; "" for anything else."""
    if isinstance(turn, Answer):
        return turn.sentences[0].text if turn.sentences and not turn.abstained else ""
    if isinstance(turn, Mapping) and not turn.get("abstained"):
        sentences = turn.get("sentences") or ()
        first = sentences[0] if isinstance(sentences, (list, tuple)) and sentences else None
        text = first.get("text") if isinstance(first, Mapping) else None
        return text if isinstance(text, str) else ""
    return ""


def follows_an_abstention(question: str, history: Iterable[Any] | None, terms: Callable[[str], list[str]]) -> bool:
    """Whether the question leans on the last turn ("When did that happen?", "Why?") and the articles did not
    answer that turn: what it points at is not in them. Read on its own, such a question found some sentence
    with a date or a reason, and the reader answered it with near certainty (27 of 27 such follow-ups after
    seed questions the reader declines)."""
    last = _last_turn(history)
    abstained = last.abstained if isinstance(last, Answer) else \
        bool(last.get("abstained")) if isinstance(last, Mapping) else False
    return abstained and leans_on_context(question, terms)
