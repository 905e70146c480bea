"""Answers to questions, by a reader (qa/reader), and the answer figures of `qa eval`."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .reader import NO_ANSWER
from .records import Answer

if TYPE_CHECKING:
    from .reader import Reader
    from .retriever import Retriever

__all__ = ["NO_ANSWER", "answer_figures", "compose_answer"]


def compose_answer(retriever: Retriever, question: str, history: Iterable[Any] | None = None,
                   reader: str | None = None) -> Answer:
    """A 1-2 sentence answer quoted from the articles with numbered citations, or an abstention."""
    return retriever.ask(question, list(history or ()), reader)


def _field(item: Any, name: str) -> Any:
    return (item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)) or ()


def holds_gold(item: Any, answer: Answer) -> bool:
    """Whether the answer's text holds one of the item's gold answers (case-insensitive)."""
    return not answer.abstained and any(gold.casefold() in answer.text.casefold() for gold in _field(item, "answers"))


def answer_figures(retriever: Retriever, questions: Sequence[Any],
                   progress: Callable[[int, int], None] | None = None, reader: Reader | str | None = None,
                   ) -> dict[str, float]:
    """Shares over eval questions (EvalQuestion records, or mappings with question/answers/history):
    unanswerable ones abstained on, answerable ones answered, answerable ones whose answer text holds a
    gold answer (case-insensitive); of the answers given, those marked unsure, and the share of the unsure
    and of the other answers that are wrong (an unanswerable question answered, or no gold answer held);
    and, when there are follow-ups, that share for them with and without
    their history; the median seconds per answer and, for readers with a reading model, its format errors.
    `progress(done, total)` after each question."""
    chosen = reader if reader is not None and not isinstance(reader, str) else retriever.reader(reader)

    def share(values: list[bool]) -> float:
        return sum(values) / len(values) if values else 0.0

    asked, seconds = [], []
    for question in questions:
        began = time.perf_counter()
        asked.append((question, chosen.answer(retriever, _field(question, "question"), _field(question, "history"))))
        seconds.append(time.perf_counter() - began)
        if progress:
            progress(len(asked), len(questions))
    answerable = [(q, a) for q, a in asked if _field(q, "answers")]
    unanswerable = [a for q, a in asked if not _field(q, "answers")]
    followups = [(q, a) for q, a in answerable if _field(q, "history")]
    figures: dict[str, float] = {}  # a share of no questions is left out (shown as "-"), not reported as 0
    if unanswerable:
        figures["abstained_unanswerable"] = share([a.abstained for a in unanswerable])
    if answerable:
        figures["answered_answerable"] = share([not a.abstained for _, a in answerable])
        figures["answer_holds_gold"] = share([holds_gold(q, a) for q, a in answerable])
    # Each answer given, unsure or not, and whether it is wrong (no gold answer held, or none to hold).
    given = [(a.unsure, not holds_gold(q, a)) for q, a in asked if not a.abstained]
    unsure_wrong = [wrong for unsure, wrong in given if unsure]
    sure_wrong = [wrong for unsure, wrong in given if not unsure]
    if given:
        figures["unsure_answers"] = share([unsure for unsure, _ in given])
    if unsure_wrong:
        figures["unsure_wrong"] = share(unsure_wrong)
    if sure_wrong:
        figures["sure_wrong"] = share(sure_wrong)
    if followups:
        figures["followup_holds_gold"] = share([holds_gold(q, a) for q, a in followups])
        figures["followup_holds_gold_without_history"] = share(
            [holds_gold(q, chosen.answer(retriever, _field(q, "question"))) for q, _ in followups])
    figures |= {"answerable_questions": len(answerable), "unanswerable_questions": len(unanswerable),
                "median_seconds": statistics.median(seconds) if seconds else 0.0,
                "format_errors": chosen.format_errors()}
    return figures
