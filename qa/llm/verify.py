"""Checking sentences a model wrote against the quotes they cite: names, numbers and dates must be there."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# "... sentence [1][2]." or "... sentence [1, 2]" — the citation marks a model puts after a sentence.
_CITES = re.compile(r"\s*((?:\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]\s*)+)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
# A name: a capitalised word that is not the first word of its sentence (sentence starts are capitalised anyway).
_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)
# Number words compared with digits ("five" = "5"); "one" is left out, being a pronoun as often as a number.
NUMBER_WORDS = {w: str(n) for n, w in enumerate(re.findall(r"\w+", "two three four five six seven eight nine ten "
                                                                 "eleven twelve"), start=2)}
# Capitalised words that carry no fact of their own when they start a clause or stand in a sentence.
_COMMON = frozenset(re.findall(r"\w+", "i a an the he she it they we you his her its their this that these those "
                                       "there here yes no none according but and or so also however in on at by "
                                       "for of to from with as after before"))


def split_cited(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """A model's reply as (sentence, quote numbers) pairs; sentences without citation marks get ()."""
    pieces: list[tuple[str, tuple[int, ...]]] = []
    position = 0
    for match in _CITES.finditer(text):
        sentence = text[position:match.start()].strip()
        numbers = tuple(int(n) for n in re.findall(r"\d+", match.group(1)))
        position = match.end()
        if position < len(text) and text[position] in ".!?":  # "... [1]." — the full stop after the marks
            sentence += text[position]
            position += 1
        parts = [p for p in _SENTENCE_END.split(sentence) if p.strip()]
        for part in parts[:-1]:
            pieces.append((part.strip(), ()))
        if parts:
            pieces.append((parts[-1].strip(), numbers))
    rest = text[position:].strip()
    if rest:
        pieces.extend((part.strip(), ()) for part in _SENTENCE_END.split(rest) if part.strip())
    return pieces


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'")
    return text.lower()


def facts(sentence: str) -> list[str]:
    """The names, numbers and dates a sentence states: what must be found in the quotes it cites.

    Numbers (digits or number words), and every capitalised word but a few function words; the first word of
    the sentence too, since it is compared without case ("Five" must be in the quotes as "five" or "5")."""
    found = [n.rstrip(".,") for n in _NUMBER.findall(sentence)]
    for match in _WORD.finditer(sentence):
        word = re.sub(r"['’]s$", "", match.group().strip(".'’-"))
        if word and (word[0].isupper() or word.lower() in NUMBER_WORDS) and word.lower() not in _COMMON:
            found.append(word)
    return found


def supported(sentence: str, quotes: Sequence[str]) -> bool:
    """True when every name, number and date of `sentence` occurs in the joined `quotes`."""
    source = _fold(" ".join(quotes))
    source_numbers = {n.replace(",", "") for n in _NUMBER.findall(source)}
    source_numbers |= {NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", source) if w in NUMBER_WORDS}
    for fact in facts(sentence):
        folded = _fold(fact)
        folded = NUMBER_WORDS.get(folded, folded)
        if folded[0].isdigit():
            if folded.replace(",", "") not in source_numbers:
                return False
        elif not re.search(rf"(?<!\w){re.escape(folded)}", source):
            return False
    return True


def verified(reply: str, quotes: Sequence[str]) -> list[tuple[str, tuple[int, ...]]]:
    """The sentences of a model's reply that cite existing quotes and state only what those quotes hold."""
    kept = []
    for sentence, numbers in split_cited(reply):
        cited = tuple(dict.fromkeys(n for n in numbers if 1 <= n <= len(quotes)))
        if not cited or len(cited) != len(set(numbers)) or not any(ch.isalnum() for ch in sentence):
            continue
        if supported(sentence, [quotes[n - 1] for n in cited]):
            kept.append((sentence, cited))
    return kept
