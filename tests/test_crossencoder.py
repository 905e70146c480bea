"""The cross-encoder: its low-rank correction merges exactly, it is used only with the model it was fitted on,
and the shipped weights read a question and a sentence together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.embedding import Embedder
from qa.reader.crossencoder import (
    WEIGHTS,
    CrossEncoder,
    CrossEncoderError,
    fitted_for,
    merge_low_rank,
    shared,
    targets,
    wrap_low_rank,
)


def tiny_bert():
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    return BertModel(config).eval()


def test_the_merged_correction_reads_as_the_trained_one() -> None:
    import torch

    trained, plain = tiny_bert(), tiny_bert()
    added = wrap_low_rank(trained, rank=4, alpha=8)
    assert len(added) == 2 * 6 and {name for name, _, _ in added} == set(targets(plain))
    with torch.no_grad():
        for _, _, b in added:
            b.normal_()  # as if trained: B starts at zero
    ids = torch.tensor([[1, 5, 7, 9, 2]])
    expected = trained(input_ids=ids).last_hidden_state
    assert not torch.allclose(expected, plain(input_ids=ids).last_hidden_state, atol=1e-3)
    merge_low_rank(plain, {f"{n}.{k}": t.detach() for n, a, b in added for k, t in (("a", a), ("b", b))}, 8 / 4)
    assert torch.allclose(plain(input_ids=ids).last_hidden_state, expected, atol=1e-4)


def test_weights_are_used_only_with_the_model_they_were_fitted_on(tmp_path: Path) -> None:
    assert not fitted_for("53aa51172d14", tmp_path / "missing.safetensors")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    assert not fitted_for("anything", broken)
    assert shared(tmp_path, "another model's fingerprint") is None


def test_damaged_weights_are_a_one_line_error(tmp_path: Path) -> None:
    damaged = tmp_path / "crossencoder.safetensors"
    damaged.write_bytes(WEIGHTS.read_bytes()[:4000])  # the header survives, the tensors do not
    with pytest.raises(CrossEncoderError, match="reinstall newsqa"):
        CrossEncoder(Path(__file__).parent, damaged).load()


@pytest.mark.slow
def test_the_shipped_weights_read_which_sentence_answers(embedder: Embedder) -> None:
    assert fitted_for(embedder.source.fingerprint), "qa/reader/crossencoder.safetensors was fitted on another model"
    cross = CrossEncoder(embedder.source.folder, WEIGHTS)
    scores = cross.scores("How many prisoners were released?", [
        "The prisoner release was a key demand of the Taliban.",  # restates the question, answers nothing
        "Some 5,000 prisoners were freed under the deal.",
        "The talks began in Doha.",
    ])
    logits = scores.logits
    assert logits.shape == (3,) and np.isfinite(logits).all()
    assert logits[1] > logits[0] > logits[2]
    spans = scores.spans  # the span head finds the number asked for in the second sentence only
    assert spans.shape == (3,) and spans[1] > 0 > max(spans[0], spans[2])
    assert cross.scores("Who?", []).logits.shape == (0,)
    long_question = "Which of the countries that the envoy was scheduled to visit " * 20 + "came first?"
    assert np.isfinite(cross.scores(long_question, ["He flew to Qatar first.", "x " * 300]).logits).all()


@pytest.mark.slow
def test_weights_without_a_span_head_give_zero_span_margins(embedder: Embedder, tmp_path: Path) -> None:
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(WEIGHTS), framework="pt") as stored:
        meta = stored.metadata()
        tensors = {key: stored.get_tensor(key) for key in stored.keys() if not key.startswith("span.")}  # noqa: SIM118
    plain = tmp_path / "plain.safetensors"
    save_file(tensors, str(plain), metadata=meta)
    scores = CrossEncoder(embedder.source.folder, plain).scores("How many prisoners were released?",
                                                                ["Some 5,000 prisoners were freed."])
    assert scores.spans.tolist() == [0.0] and scores.logits[0] > 0


@pytest.mark.slow
def test_each_sentence_scores_the_same_in_any_batch(embedder: Embedder) -> None:
    cross = CrossEncoder(embedder.source.folder, WEIGHTS)
    sentences = [f"Talk {n} of the envoy " + "went on and on " * (n % 7) + "in Doha." for n in range(40)]
    before = [""] + sentences[:-1]  # more than one batch, of mixed lengths, read with the sentence before
    together = cross.scores("Where were the talks?", sentences, before)
    for n in (0, 5, 33, 39):
        alone = cross.scores("Where were the talks?", [sentences[n]], [before[n]])
        assert np.allclose(alone.logits, together.logits[n], atol=1e-4)
        assert np.allclose(alone.spans, together.spans[n], atol=1e-4)
