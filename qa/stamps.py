"""Cheap re-checks of a folder verified once: a stamp of its files' names, sizes and modification times.

A full check (hashing ~90 MB of weights) costs a few tenths of a second; comparing a stamp costs a few stat
calls. The full check runs again only when the stamp no longer matches (a file was truncated, rewritten,
added or removed). Bit rot that keeps size and time is not caught; anything that writes the file is.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

STAMP = ".newsqa-verified.json"


def _listing(folder: Path) -> list[list[object]]:
    return [[path.relative_to(folder).as_posix(), stat.st_size, stat.st_mtime_ns]
            for path in sorted(folder.rglob("*"))
            if path.name != STAMP and path.is_file() and (stat := path.stat())]


def stamp_matches(folder: Path, kind: str) -> bool:
    """Whether `folder` still looks exactly as when `write_stamp(folder, kind)` last ran."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
        return stamp.get("kind") == kind and stamp.get("files") == _listing(folder)
    except (OSError, ValueError, AttributeError):
        return False


def write_stamp(folder: Path, kind: str) -> None:
    """Record that `folder` was verified as `kind` (e.g. the weights' hash). A read-only folder is left as is:
    it is then verified in full at every start."""
    try:
        (folder / STAMP).write_text(json.dumps({"kind": kind, "files": _listing(folder)}), encoding="utf-8")
    except OSError as error:
        log.info("cannot record the check of %s (%s): it will be checked again next time", folder, error)


def remove_stamp(folder: Path) -> None:
    with contextlib.suppress(OSError):
        (folder / STAMP).unlink()
