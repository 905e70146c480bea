"""Untrusted text (articles, titles, file names) made safe to show in a terminal, one character for one."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

# Every control character a terminal could act on becomes a visible stand-in of the same length, so character
# offsets into the text stay valid: C0 controls as Unicode "control pictures" (ESC -> ␛, BEL -> ␇), DEL as ␡,
# C1 controls (8-bit CSI, OSC, ...) and lone surrogates (undecodable file-name bytes) as U+FFFD.
# Tab and line feed are layout and stay; a carriage return would move the cursor, so it becomes a space.
_VISIBLE: dict[int, int] = {code: 0x2400 + code for code in range(0x20) if code not in (0x09, 0x0A)}
_VISIBLE[0x0D] = ord(" ")
_VISIBLE[0x7F] = 0x2421
_VISIBLE.update({code: 0xFFFD for code in range(0x80, 0xA0)})
_VISIBLE.update({code: 0xFFFD for code in range(0xD800, 0xE000)})
# Bidi embeddings, overrides and isolates reorder what follows them on screen: "fake\u202egpj.txt" shows as
# "faketxt.jpg". They become U+FFFD too (the marks LRM and RLM, which right-to-left text needs, stay).
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_VISIBLE.update({code: 0xFFFD for code in _BIDI})
# A one-line field (a title, a file name, a log message) shows its line breaks, so it cannot forge lines.
_ONE_LINE = {**_VISIBLE, 0x0A: 0x2424, 0x09: ord(" "), 0x2028: 0x2424, 0x2029: 0x2424}

# JSON escapes C0 controls itself; C1 controls, DEL and bidi controls it leaves raw under ensure_ascii=False.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), *_BIDI)}


def printable(text: str) -> str:
    """`text` with every terminal control character replaced by a visible one; same length, same offsets."""
    return text.translate(_VISIBLE)


def one_line(text: str) -> str:
    """`printable`, and a line break shown as ␤: for fields that must stay on their line (titles, file names)."""
    return text.translate(_ONE_LINE)


def printable_data(data: T) -> T:
    """A copy of `data` (strings, frozen dataclasses such as answers and articles, and the tuples, lists and
    mappings that hold them) with every string made `printable`: offsets stay valid, and fields added later
    are covered without naming them."""
    if isinstance(data, str):
        return printable(data)  # type: ignore[return-value]
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return dataclasses.replace(data, **{f.name: printable_data(getattr(data, f.name))  # type: ignore[return-value]
                                            for f in dataclasses.fields(data) if f.init})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a named tuple
        return type(data)(*(printable_data(item) for item in data))  # type: ignore[return-value]
    if isinstance(data, tuple | list):
        return type(data)(printable_data(item) for item in data)  # type: ignore[return-value]
    if isinstance(data, Mapping):
        return {printable_data(key): printable_data(value) for key, value in data.items()}  # type: ignore[return-value]
    return data


def dumps(data: Any) -> str:
    """JSON of `data` that is exact (every string round-trips) and safe to print to a terminal: non-ASCII
    letters stay readable, control characters are written as \\u escapes, and lone surrogates (from file
    names that are not UTF-8) as \\udcXX escapes."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: only ASCII escapes can carry it
        return json.dumps(data, ensure_ascii=True, indent=2)
    return text.translate(_JSON_ESCAPES)


def plural(number: int, noun: str) -> str:
    """"1 article", "5 articles"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
