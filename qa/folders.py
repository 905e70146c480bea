"""List the files of a corpus folder: hidden files and folders, editor backups and anything that is not a
regular file are left out; symlinked folders are not followed (so a link loop cannot trap the scan)."""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)

# Editor backups, swap and lock files, and copies left by merges and package managers.
BACKUP_PATTERNS = ("*~", "#*#", ".#*", "*.swp", "*.swo", "*.bak", "*.orig", "*.rej", "*.tmp", "*.part")
_BACKUP = re.compile("|".join(fnmatch.translate(pattern) for pattern in BACKUP_PATTERNS), re.IGNORECASE)


def is_backup(name: str) -> bool:
    """Whether a file name is an editor backup, swap or lock file rather than an article."""
    return _BACKUP.match(name) is not None


def list_files(root: Path, suffixes: Iterable[str], refused: list[tuple[str, str]] | None = None) -> list[Path]:
    """Regular files under `root` whose names end with one of `suffixes` (any case), in path order.

    Left out: names starting with "." (and everything in such folders, e.g. the index), editor backups, names
    that are not valid UTF-8 (a citation must be able to name its file), FIFOs, devices, dangling links, and
    folders reached through a symlink. A name that is not UTF-8 and a folder that cannot be read go into
    `refused` as (relative path, reason), or are logged as warnings without it.
    """
    return sorted(iter_files(root, suffixes, refused))


def iter_files(root: Path, suffixes: Iterable[str], refused: list[tuple[str, str]] | None = None) -> Iterator[Path]:
    """`list_files` one at a time, as they are found (not in path order): the first comes without a full walk."""
    endings = tuple(suffix.lower() for suffix in suffixes)

    def refuse(path: str, reason: str) -> None:
        if refused is None:
            log.warning("skipped %s: %s", path, reason)
        else:
            refused.append((path, reason))

    def unreadable(error: OSError) -> None:
        folder = Path(error.filename or root)
        shown = folder.relative_to(root).as_posix() if folder.is_relative_to(root) else str(folder)
        refuse(f"{_shown(shown)}/", f"this folder cannot be read ({error.strerror or error})")

    for folder, subfolders, names in os.walk(root, onerror=unreadable):  # never follows symlinked folders
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            if name.startswith(".") or not name.lower().endswith(endings) or is_backup(name):
                continue
            path = Path(folder, name)
            if not _utf8(name):
                refuse(_shown(path.relative_to(root).as_posix()),
                       "its name is not valid UTF-8; rename it (e.g. convmv -t utf-8)")
                continue
            if path.is_file():  # follows a file symlink; False for FIFOs, devices and dangling links
                yield path


def _shown(name: str) -> str:
    """A file name as text that can be printed and saved: undecodable bytes become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes, but never more than limit + 1 of them (so an oversized file is known as such
    without reading it all into memory)."""
    with path.open("rb") as stream:
        return stream.read(limit + 1)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates
        return False
    return True


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` at once: a reader sees the old file or the new one, never half of it. The file is
    readable by others, as the index's other files are (mkstemp alone makes it private to its owner)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(handle, 0o644)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
