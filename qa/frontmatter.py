"""An optional front-matter block at the top of a .txt or .md article: `date:`, `outlet:`, `url:`, `title:`."""

from __future__ import annotations

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
            value = found.group(2).strip().strip("\"'")
            fields.setdefault(KNOWN[found.group(1).lower()], value)
    return FrontMatter(fields, match.end())
