"""Which articles a search may draw on: a date range and a set of outlets."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .articles import Article
from .errors import FilterError
from .metadata import check_date_bound, host_of, outlet_key


@dataclass(frozen=True, slots=True)
class Filters:
    """Bounds are ISO prefixes: since "2024-05" admits 2024-05-01 on, until "2024-05" admits up to 2024-05-31.
    An article without a date is left out by a date bound; one without an outlet by an outlet list. An article
    dated only by the day it was fetched (`date_kind` "fetched") is filtered on that day, the latest it can have
    run: `until` never admits one that ran after its bound (it leaves out one that ran before and was fetched after),
    and `since` may admit one that ran before its bound."""

    since: str = ""
    until: str = ""
    outlets: frozenset[str] = frozenset()  # outlet_key()s

    @classmethod
    def of(cls, since: str | None = None, until: str | None = None,
           outlets: Iterable[str] | str | None = None) -> Filters:
        """Checked filters from what people type; FilterError names the bad one."""
        for name, bound in (("since", since), ("until", until)):
            if bound is not None and not isinstance(bound, str):
                raise FilterError(f"{name} must be a date written as text (\"2024\", \"2024-05\", \"2024-05-31\"), "
                                  f"not {bound!r}")
        if outlets is not None and not isinstance(outlets, str) and (
                not isinstance(outlets, Iterable) or not all(isinstance(name, str) for name in outlets)):
            raise FilterError(f"outlets must be a name or a list of names, not {outlets!r}")
        try:
            low = check_date_bound(since, "since") if since else ""
            high = check_date_bound(until, "until") if until else ""
        except ValueError as error:
            raise FilterError(str(error)) from None
        if low and high and low[: len(high)] > high:
            raise FilterError(f"since {low} is after until {high}")
        if isinstance(outlets, str):
            outlets = outlets.split(",")
        keys = frozenset(key for key in (outlet_key(name) for name in outlets or ()) if key)
        if outlets and not keys and any(name.strip() for name in outlets):
            raise FilterError(f"outlet {', '.join(outlets)!r} names no outlet")
        return cls(low, high, keys)

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.outlets)

    def admits(self, article: Article) -> bool:
        date = article.date
        if self.since and (not date or date[: len(self.since)] < self.since):
            return False
        if self.until and (not date or date[: len(self.until)] > self.until):
            return False
        if self.outlets:
            names = {outlet_key(article.outlet), outlet_key(host_of(article.url))} - {""}
            if not names & self.outlets:
                return False
        return True

    def describe(self) -> str:
        """For people: "since 2024-05, until 2024-06-30, outlets cnn, usatoday"; "" when empty."""
        parts = [f"since {self.since}" if self.since else "", f"until {self.until}" if self.until else "",
                 f"outlets {', '.join(sorted(self.outlets))}" if self.outlets else ""]
        return ", ".join(part for part in parts if part)


_INLINE = re.compile(r"(?<!\S)(since|until|outlet|outlets):(\S+)", re.I)


def split_filters(question: str) -> tuple[str, dict[str, str | list[str] | None]]:
    """Inline filters typed with a question, as in the chat: "since:2024-05 outlet:cnn,usatoday What ...".
    Returns the question without them and `search`/`ask` keyword arguments (None where not given)."""
    found: dict[str, str | list[str] | None] = {"since": None, "until": None, "outlets": None}
    outlets: list[str] = []
    for key, value in _INLINE.findall(question):
        key = key.lower()
        if key.startswith("outlet"):
            outlets.extend(name for name in value.split(",") if name)
        else:
            found[key] = value
    if outlets:
        found["outlets"] = outlets
    rest = " ".join(_INLINE.sub(" ", question).split())
    return rest, found
