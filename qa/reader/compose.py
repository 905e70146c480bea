"""Composition: pick the sentences to quote, put them in reading order and number their citations."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..records import AnswerCitation, AnswerSentence, Citation, WrittenSentence, quoted_text
from .candidates import Sentence
from .features import POINTS_BACK

# A writer turns the quotes into short sentences of its own, each with the 1-based numbers of the quotes it
# rests on (contract with qa/llm: ReadingModel.write).
Writer = Callable[[str, Sequence[str]], Sequence[tuple[str, Sequence[int]]]]


@dataclass(frozen=True, slots=True)
class Choice:
    """A sentence picked for the answer, with the same sentence found in other articles."""

    sentence: Sentence
    also: tuple[Citation, ...] = ()


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def select(sentences: Sequence[Sentence], probabilities: np.ndarray, similarity: np.ndarray | None = None, *,
           limit: int = 2, second: float = 0.5, duplicate: float = 0.9,
           lists: Sequence[bool] | None = None) -> list[Choice]:
    """The most probable quotable sentence (with the sentence before it when it points back: "They are Qatar,
    ..."), then, while under `limit` sentences, the next ones whose probability reaches `second` times the
    best's and that repeat nothing chosen. `lists` (given when the question asks for several things, "Which five
    countries ...?") flags the sentences that list names: when no chosen sentence does, the most probable one
    that does is quoted instead (with the sentence before it when it points back), after the best one if both
    fit within `limit`. A sentence repeated in other articles (same words, or cosine >=
    `duplicate` with the same numbers) is quoted once; its copies go to `also`."""
    keys = [_key(s.text) for s in sentences]
    numbers = [_NUMBER.findall(s.text) for s in sentences]

    def same(i: int, j: int) -> bool:
        # Close in meaning is not the same when the figures differ ("the toll rose to 14" / "... to 17").
        return keys[i] == keys[j] or (similarity is not None and similarity[i, j] >= duplicate
                                      and numbers[i] == numbers[j])

    order = sorted((i for i, s in enumerate(sentences) if s.quotable), key=lambda i: -probabilities[i])
    chosen: list[int] = []
    for i in order:
        if chosen and (probabilities[i] < second * probabilities[order[0]] or len(chosen) >= limit):
            break
        if any(same(i, j) for j in chosen):
            continue
        lead = sentences[i].previous
        group = [lead, i] if lead is not None and POINTS_BACK.match(sentences[i].text) else [i]
        group = [j for j in group if j not in chosen]
        if chosen and len(chosen) + len(group) > limit:
            continue
        chosen.extend(group)
    if lists is not None and chosen and not any(lists[j] for j in chosen):
        listing = next((i for i in order if lists[i]), None)
        if listing is not None:
            lead = sentences[listing].previous
            group = [lead, listing] if lead is not None and POINTS_BACK.match(sentences[listing].text) else [listing]
            chosen = ([chosen[0]] if chosen[0] not in group and len(group) < limit else []) + group
    choices = []
    for i in chosen:
        copies: dict[str, Citation] = {}  # one per other article, best first
        for j in order:
            cited = sentences[j].citation
            if cited.doc_id != sentences[i].citation.doc_id and cited.doc_id not in copies and same(i, j):
                copies[cited.doc_id] = cited
        choices.append(Choice(sentences[i], tuple(copies.values())))
    return choices


def reading_order(choices: Sequence[Choice]) -> list[Choice]:
    """Articles in the order of their best sentence; one article's sentences in the order it has them."""
    first: dict[str, int] = {}
    for rank, choice in enumerate(choices):
        first.setdefault(choice.sentence.citation.doc_id, rank)
    return sorted(choices, key=lambda c: (first[c.sentence.citation.doc_id], c.sentence.citation.start))


def answer_order(choices: Sequence[Choice]) -> list[Choice]:
    """The order an answer quotes its sentences in: `reading_order`, except that within an article the most
    probable sentence comes first when the others are not next to it. The answer leads with its answer, not
    with an article's opening line that sets the scene ("DALLAS — Sunday marked the 30th anniversary ...");
    sentences next to each other keep the article's order, since the second goes on from the first."""
    ordered = reading_order(choices)
    result: list[Choice] = []
    for doc_id in dict.fromkeys(c.sentence.citation.doc_id for c in ordered):
        group = [c for c in ordered if c.sentence.citation.doc_id == doc_id]
        if not all(_next_to(a.sentence, b.sentence) for a, b in zip(group, group[1:])):
            group = [c for c in choices if c.sentence.citation.doc_id == doc_id]  # best first, as chosen
        result.extend(group)
    return result


def _next_to(first: Sentence, second: Sentence) -> bool:
    return first.passage == second.passage and second.position == first.position + 1


def number(choices: Sequence[Choice]) -> tuple[str, tuple[AnswerSentence, ...], tuple[AnswerCitation, ...]]:
    """The answer text ("sentence [1] sentence [2]"), its sentences and their citations, numbered 1.. in
    order of first use; a sentence quoted twice keeps its first number. Sentences quoted one after the other
    that follow each other in a passage ("The envoy visits five countries. They are Qatar, ...") are one
    source: one citation spans them both, so the sources list the passage once, and the text puts its number
    after the last ("sentence sentence [1]")."""
    numbers: dict[Citation, int] = {}
    sentences: list[AnswerSentence] = []
    citations: list[AnswerCitation] = []
    for run in _runs(choices):
        first, last = run[0].sentence, run[-1].sentence
        cited = first.citation.at(first.citation.start, last.citation.end)
        if cited not in numbers:
            numbers[cited] = len(numbers) + 1
            citations.append(AnswerCitation(numbers[cited], cited, first.passage, _copies(run)))
        sentences.extend(AnswerSentence(choice.sentence.text, numbers[cited]) for choice in run)
    return quoted_text(sentences), tuple(sentences), tuple(citations)


def _copies(run: Sequence[Choice]) -> tuple[Citation, ...]:
    """A run's copies in other articles, one per article: one span over the copies of its sentences when they
    follow each other there too (a wire copy of the story), else the copy of the run's first sentence found."""
    spans: dict[str, list[Citation]] = {}
    for choice in run:
        for copy in choice.also:
            spans.setdefault(copy.doc_id, []).append(copy)
    copies = []
    for found in spans.values():
        start, end = min(c.start for c in found), max(c.end for c in found)
        together = end - start <= sum(c.end - c.start for c in found) + _GAP * (len(found) - 1)
        copies.append(found[0].at(start, end) if together else found[0])
    return tuple(copies)


_GAP = 8  # the most characters between two sentences that follow each other (spaces, a line break)


def _runs(choices: Sequence[Choice]) -> list[list[Choice]]:
    """The choices cut into runs of sentences that follow each other in one passage."""
    runs: list[list[Choice]] = []
    for choice in choices:
        if runs and _next_to(runs[-1][-1].sentence, choice.sentence):
            runs[-1].append(choice)
        else:
            runs.append([choice])
    return runs


def written(writer: Writer | None, question: str, sentences: Sequence[AnswerSentence]) -> tuple[WrittenSentence, ...]:
    """The writer's sentences, their quote numbers turned into citation numbers; sentences citing no quote
    that exists are dropped."""
    if writer is None or not sentences:
        return ()
    result = []
    for text, quotes in writer(question, [s.text for s in sentences]):
        cited = tuple(dict.fromkeys(sentences[q - 1].number for q in quotes if 1 <= q <= len(sentences)))
        if text.strip() and cited:
            result.append(WrittenSentence(text.strip(), cited))
    return tuple(result)
