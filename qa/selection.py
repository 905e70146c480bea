"""Which passages a search may return: those of articles the filters admit, one article per syndicated story."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .articles import Article
from .filters import Filters
from .records import Citation


class Selection:
    """Passage masks per filter set, and the copies of each story; built once per retriever and cached.

    Among the copies of one story (found by `qa.duplicates.find_copies`, original first) only the first one the
    filters admit is searched; the others are cited beside it.
    """

    def __init__(self, articles: Mapping[str, Article], passage_docs: Sequence[str],
                 copies: Sequence[Sequence[str]] = ()) -> None:
        self._articles = articles
        # each passage's article as a number into `_names`, so a mask is one lookup per passage
        numbers: dict[str, int] = {}
        self._codes = np.fromiter((numbers.setdefault(doc, len(numbers)) for doc in passage_docs), dtype=np.int64,
                                  count=len(passage_docs))
        self._names = list(numbers)
        self._group: dict[str, tuple[str, ...]] = {doc: tuple(group) for group in copies for doc in group}
        self._masks: dict[Filters, np.ndarray | None] = {}

    @property
    def copy_groups(self) -> list[tuple[str, ...]]:
        return list(dict.fromkeys(self._group.values()))

    def mask(self, filters: Filters) -> np.ndarray | None:
        """Which passages may be returned under `filters`; None when all may."""
        if filters in self._masks:
            return self._masks[filters]
        if not filters and not self._group:
            self._masks[filters] = None
            return None
        admitted = {doc for doc, article in self._articles.items() if filters.admits(article)}
        for group in self.copy_groups:
            shown = [doc for doc in group if doc in admitted]
            admitted.difference_update(shown[1:])
        keep = np.fromiter((name in admitted for name in self._names), dtype=bool, count=len(self._names))
        mask = keep[self._codes] if len(self._codes) else np.zeros(0, dtype=bool)
        self._masks[filters] = mask
        return mask

    def copies(self, citation: Citation, filters: Filters) -> tuple[Citation, ...]:
        """Where the text `citation` points to appears again in the other copies of its story (the whole copy
        when that text was reworded there), for the copies `filters` admit."""
        group = self._group.get(citation.doc_id)
        if not group:
            return ()
        text = self._articles[citation.doc_id].text[citation.start : citation.end]
        found = []
        for doc in group:
            other = self._articles[doc]
            if doc == citation.doc_id or not filters.admits(other):
                continue
            start = other.text.find(text) if text else -1
            span = (start, start + len(text)) if start >= 0 else (other.lines[0][0], other.lines[-1][1])
            found.append(Citation(other.doc_id, other.title, other.path, *span, other.date, other.outlet, other.url,
                                  other.date_kind))
        return tuple(found)
