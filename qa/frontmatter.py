"""An optional front-matter block at the top of a .txt or .md article: `date:`, `outlet:`, `url:`, `title:`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# "---", then "key: value" lines, then "---" (the form static-site generators use), at the very top.
_BLOCK = re.compile(r"\A---[ \t]*\r?\n((?:[ \t]*[A-Za-z_][\w-]*[ \t]*:[^\n]*\r?\n|[ \t]*\r?\n)*?)---[ \t]*(?:\r?\n|\Z)")
_FIELD = re.compile(r"^[ \t]*([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*?)[ \t]*$")
KNOWN = {"date": "date", "published": "date", "outlet": "outlet", "source": "outlet", "site": "outlet",
         "url": "url", "link": "url", "title": "title", "author": "author"}


@dataclass(frozen=True, slots=True)
class FrontMatter:
    fields: dict[str, str]  # known keys only, under their canonical names (date, outlet, url, title, author)
    end: int  # where the article text after the block begins


def read_front_matter(text: str) -> FrontMatter:
    """The block's known fields and where it ends; no fields and end 0 when `text` has no block."""
    match = _BLOCK.match(text)
    if not match:
        return FrontMatter({}, 0)
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        found = _FIELD.match(line)
        if found and found.group(1).lower() in KNOWN:
            value = scalar(found.group(2).strip())
            fields.setdefault(KNOWN[found.group(1).lower()], value)
    return FrontMatter(fields, match.end())


def scalar(raw: str) -> str:
    """A YAML scalar as written on one line: a quoted one loses its quotes and has its escapes read
    ("Beyonc\\u00e9", 'it''s'); a plain one is kept whole, quotes inside it included ("Bond in 'Spectre'")."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        try:
            value = json.loads(raw)  # JSON's escapes are the ones YAML's double-quoted scalars share
            return value if isinstance(value, str) else raw[1:-1]
        except ValueError:
            return raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    return raw
