"""A cross-encoder: the embedding model reads the question and one candidate sentence together and scores
how likely the sentence answers the question.

Its weights are the embedding model's own plus a low-rank correction of every attention and feed-forward
matrix and a scoring head, fitted by `bench/train_crossencoder.py` on SQuAD questions the reader's other
figures are not measured on, and shipped in `crossencoder.safetensors` (about 1 MB). Reading the pair
together sees what comparing two separate vectors cannot: which words of the sentence fill the question's gap.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import QAError

WEIGHTS = Path(__file__).with_name("crossencoder.safetensors")
MAX_TOKENS = 128  # question and sentence together; the longer of the two is cut first
BATCH = 32
SPAN_TOKENS = 30  # the longest answer span the span head's margin considers
# The linear layers of each BERT layer that get a low-rank correction, by their name's ending.
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")


def targets(model: Any) -> list[str]:
    """The names of the model's linear layers that the correction applies to."""
    import torch

    return [name for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and name.startswith("encoder.layer.") and name.endswith(TARGETS)]


def pool(hidden: Any, mask: Any) -> Any:
    """Mean of the token vectors the mask keeps: what the head reads."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


@dataclass(frozen=True, slots=True)
class EncodedPairs:
    """(question, sentence) pairs as the model reads them."""

    batch: Any  # the tokens: input ids, token types, attention mask
    offsets: Any  # each token's characters in its text
    inside: Any  # which tokens are the sentence's
    pooled: Any  # which tokens the scoring head averages: all but the context's


def encode_pairs(tokenizer: Any, questions: Sequence[str], texts: Sequence[str],
                 before: Sequence[str] | None = None) -> EncodedPairs:
    """The pairs' tokens. With `before` (the sentence preceding each, "" for none), each sentence is followed by
    a separator and the one before it: read as context, where the question is often restated or the pronoun's
    referent named, but neither pooled nor part of an answer span. Context goes last so the token budget cuts
    it first."""
    import torch

    seconds = list(texts) if before is None else [
        f"{text} {tokenizer.sep_token} {previous}" if previous else text for text, previous in zip(texts, before)]
    enc = tokenizer(list(questions), seconds, padding=True, truncation="longest_first", max_length=MAX_TOKENS,
                    return_tensors="pt", return_offsets_mapping=True)
    offsets = enc.pop("offset_mapping")
    second = (enc["token_type_ids"] == 1) & (enc["attention_mask"] == 1)
    lengths = torch.tensor([len(text) for text in texts]).reshape(-1, 1)
    context = second & (offsets[..., 0] >= lengths) & (offsets[..., 1] > 0)  # the final separator is (0, 0)
    inside = second & ~context & (enc["input_ids"] != tokenizer.sep_token_id)
    return EncodedPairs(enc, offsets, inside, (enc["attention_mask"] == 1) & ~context)


def span_scores(span_head: Any, hidden: Any, inside: Any, longest: int = SPAN_TOKENS) -> tuple[Any, Any, Any]:
    """The span head's start and end logits over the first token (no answer here) and the sentence's tokens,
    and per pair the best answer span's score less the no-answer score: how surely the sentence holds the
    thing asked for."""
    import torch

    logits = span_head(hidden)
    allowed = inside.clone()
    allowed[:, 0] = True
    start = logits[..., 0].masked_fill(~allowed, -1e4)
    end = logits[..., 1].masked_fill(~allowed, -1e4)
    pair = start[:, :, None] + end[:, None, :]
    length = torch.arange(pair.shape[1])
    band = (length[None, :] >= length[:, None]) & (length[None, :] - length[:, None] < longest)
    valid = band[None] & inside[:, :, None] & inside[:, None, :]
    best = pair.masked_fill(~valid, -1e4).flatten(1).max(dim=1).values
    return start, end, best - (start[:, 0] + end[:, 0])


def wrap_low_rank(model: Any, rank: int, alpha: float) -> list[tuple[str, Any, Any]]:
    """Training: give each target layer a trainable correction, output + (alpha / rank) * B(A(x)), B starting at
    zero so the model starts as it was; the (name, A, B) triples."""
    import torch

    modules = dict(model.named_modules())
    scale = alpha / rank
    added = []
    for name in targets(model):
        linear = modules[name]
        a = torch.nn.Parameter(torch.randn(rank, linear.in_features) / (rank * linear.in_features) ** 0.5)
        b = torch.nn.Parameter(torch.zeros(linear.out_features, rank))

        def forward(x: Any, a: Any = a, b: Any = b, base: Any = linear.forward) -> Any:
            return base(x) + scale * ((x @ a.T) @ b.T)

        linear.forward = forward
        added.append((name, a, b))
    return added


def merge_low_rank(model: Any, tensors: dict[str, Any], scale: float) -> None:
    """Use: add each layer's correction, scale * B @ A, into its weight once, so reading costs what it did."""
    import torch

    modules = dict(model.named_modules())
    with torch.no_grad():
        for name in targets(model):
            modules[name].weight += scale * tensors[f"{name}.b"].float() @ tensors[f"{name}.a"].float()


class CrossEncoderError(QAError):
    """The cross-encoder's weights are missing or do not fit the embedding model."""


@dataclass(frozen=True, slots=True)
class CrossScores:
    """Per sentence: the log-odds that it answers the question, and the span head's margin (how surely it holds
    the thing asked for; zeros where the weights have no span head)."""

    logits: np.ndarray
    spans: np.ndarray


class CrossEncoder:
    """Scores (question, sentence) pairs; thread-safe, loaded on first use from the embedding model's folder."""

    def __init__(self, model_folder: Path, weights: Path = WEIGHTS) -> None:
        self.model_folder = Path(model_folder)
        self.weights = Path(weights)
        self._model: Any = None
        self._tokenizer: Any = None
        self._head: tuple[np.ndarray, float] | None = None
        self._span_head: Any = None
        self._reads_context = False
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first question)."""
        with self._lock:
            self._load_locked()

    def scores(self, question: str, sentences: Sequence[str], before: Sequence[str] | None = None) -> CrossScores:
        """Each sentence read together with the question (and with the sentence before it, "" for none, where
        the weights were fitted to read it)."""
        if not sentences:
            return CrossScores(np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32))
        import torch

        with self._lock:
            self._load_locked()
            rows, spans = [], []
            with torch.inference_mode():
                for begin in range(0, len(sentences), BATCH):
                    chunk = sentences[begin : begin + BATCH]
                    context = None
                    if self._reads_context:
                        context = list(before[begin : begin + BATCH]) if before is not None else [""] * len(chunk)
                    pairs = encode_pairs(self._tokenizer, [question] * len(chunk), chunk, context)
                    hidden = self._model(**pairs.batch).last_hidden_state
                    rows.append(pool(hidden, pairs.pooled).numpy())
                    if self._span_head is not None:
                        spans.append(span_scores(self._span_head, hidden, pairs.inside)[2].numpy())
            weight, bias = self._head
            logits = (np.concatenate(rows) @ weight + bias).astype(np.float32)
            margins = np.concatenate(spans).astype(np.float32) if spans else np.zeros_like(logits)
            return CrossScores(logits, margins)

    def _load_locked(self) -> None:
        if self._model is not None:
            return
        from safetensors import safe_open
        from transformers import AutoModel, AutoTokenizer

        if not self.weights.is_file():
            raise CrossEncoderError(f"the cross-encoder's weights are missing: {self.weights}")
        tensors: dict[str, Any] = {}
        try:
            with safe_open(str(self.weights), framework="pt") as stored:
                meta = stored.metadata() or {}
                for key in stored.keys():  # noqa: SIM118  (safe_open is not a mapping)
                    tensors[key] = stored.get_tensor(key).float()
        except Exception as error:  # a damaged file surfaces as several exception types
            raise CrossEncoderError(f"cannot read the cross-encoder's weights in {self.weights} ({error}); "
                                    "reinstall newsqa to restore them") from error
        scale = float(json.loads(meta.get("lowrank", "{}")).get("scale", 1.0))
        model = AutoModel.from_pretrained(str(self.model_folder), local_files_only=True)
        model.eval()
        if any(f"{name}.a" not in tensors for name in targets(model)) or "head.weight" not in tensors:
            raise CrossEncoderError(f"{self.weights} does not fit the model in {self.model_folder}")
        merge_low_rank(model, tensors, scale)
        self._model = model
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_folder), local_files_only=True)
        self._reads_context = meta.get("context") == "previous"
        self._head = (tensors["head.weight"].numpy().reshape(-1), float(tensors["head.bias"].reshape(-1)[0]))
        if "span.weight" in tensors:
            import torch

            self._span_head = torch.nn.Linear(*reversed(tensors["span.weight"].shape))
            self._span_head.load_state_dict({"weight": tensors["span.weight"], "bias": tensors["span.bias"]})


_SHARED: dict[tuple[Path, str, Path], CrossEncoder | None] = {}
_SHARED_LOCK = threading.Lock()


def shared(model_folder: Path, fingerprint: str, weights: Path = WEIGHTS) -> CrossEncoder | None:
    """The process's one cross-encoder for the embedding model in `model_folder`, or None when there are no
    weights fitted for that model (another embedding model: its readings go without the cross-encoder).
    Decided once per model: every question asks."""
    key = (Path(model_folder), fingerprint, Path(weights))
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = CrossEncoder(key[0], key[2]) if fitted_for(fingerprint, key[2]) else None
        return _SHARED[key]


def fitted_for(fingerprint: str, weights: Path = WEIGHTS) -> bool:
    """Whether the weights were fitted on the embedding model with this fingerprint."""
    if not weights.is_file():
        return False
    from safetensors import safe_open

    try:
        with safe_open(str(weights), framework="np") as stored:
            model = (stored.metadata() or {}).get("model", "")
    except Exception:  # an unreadable file fits nothing
        return False
    return model.split(" ")[-1] == fingerprint
