"""The real embedding model: the direct encoder gives sentence-transformers' vectors, or is not used."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embedding import DirectEncoder, Embedder

pytestmark = pytest.mark.slow

TEXTS = ["Who freed Baradar?", "  The envoy left Doha on Monday, officials said.  ", "",
         "Qatar, Pakistan, Norway, Bulgaria and of course Afghanistan.", "Ünïcode — “quotes” and 5,000 prisoners.",
         " ".join(["The talks stalled again as fighting spread across the provinces."] * 40)]


def test_the_direct_encoder_gives_the_librarys_vectors(embedder: Embedder) -> None:
    ours = embedder.encode(TEXTS, batch_size=4)
    assert isinstance(embedder._direct, DirectEncoder)
    theirs = embedder._model.encode(TEXTS, batch_size=4, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    assert np.abs(ours - theirs).max() < 1e-5
    one_by_one = np.vstack([embedder.encode([text]) for text in TEXTS])  # no padding: the same vectors
    assert np.abs(one_by_one - ours).max() < 1e-5


def test_a_direct_encoder_that_disagrees_is_not_used(embedder: Embedder, monkeypatch) -> None:
    monkeypatch.setattr(DirectEncoder, "encode", lambda self, texts, batch_size: np.zeros((len(texts), 384)))
    fresh = Embedder(embedder.source)
    fresh._model = embedder._model  # the loaded model, without loading it again
    vectors = fresh.encode(TEXTS[:2])
    assert fresh._direct is False
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
