"""Where the index lives: "embedded" or a Milvus address, milvus://[USER:PASSWORD@]HOST:PORT[/NAME]; and the
`--part i/n` share of an indexing job split over machines."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .errors import QAError, StoreError

EMBEDDED = "embedded"
SCHEME = "milvus"
DEFAULT_COLLECTION = "newsqa"


def check_store(store: str) -> str:
    """`store` if it names a store ("embedded" or a valid Milvus address), else a StoreError saying how."""
    if store != EMBEDDED:
        MilvusAddress.parse(store)
    return store


@dataclass(frozen=True, slots=True)
class MilvusAddress:
    """Where the Milvus server is and which collection name to use there."""

    uri: str  # http://host:port, what pymilvus connects to
    collection: str  # base name of the collections
    token: str  # "user:password" or "" (no authentication)
    shown: str  # the address as the user gave it, without the password

    @classmethod
    def parse(cls, url: str) -> MilvusAddress:
        """`milvus://[user:password@]host:port[/collection]`; anything else is a StoreError naming the fix."""
        fix = "write milvus://HOST:PORT[/COLLECTION] (e.g. milvus://127.0.0.1:19530), or 'embedded'"
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as error:
            raise StoreError(f"store address {url!r} is not valid ({error}): {fix}") from None
        if parts.scheme != SCHEME or not parts.hostname:
            raise StoreError(f"store address {url!r} is not a Milvus address: {fix}")
        if port is None:
            raise StoreError(f"store address {url!r} names no port: {fix}")
        name = parts.path.strip("/") or DEFAULT_COLLECTION
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,180}", name):
            raise StoreError(f"store address {url!r}: the collection name {name!r} may hold only letters, "
                             "digits and underscores, starting with a letter")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        token = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}" if parts.username else ""
        shown = f"{SCHEME}://{host}:{port}/{name}"
        return cls(f"http://{host}:{port}", name, token, shown)



@dataclass(frozen=True, slots=True)
class Part:
    """This machine's share of an indexing job split over `count` machines: articles whose path hashes to
    `number` (1-based). Hashing the path keeps each article in the same part when others come and go."""

    number: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Part:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise QAError(f"--part {text!r} is not a part: write i/n with 1 <= i <= n, e.g. --part 2/4")
        return cls(int(match[1]), int(match[2]))

    def holds(self, path: str) -> bool:
        return zlib.crc32(path.encode("utf-8")) % self.count == self.number - 1

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"
