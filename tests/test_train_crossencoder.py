"""bench/train_crossencoder.py's span targets: the answer's first and last token in each pair, the first token
for a wrong sentence, and none where the token budget cut the answer off."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from train_crossencoder import answer_span, labelled, span_targets  # noqa: E402

from qa.embedding import DEFAULT_MODEL, locate_model  # noqa: E402
from qa.reader.crossencoder import encode_pairs  # noqa: E402
from qa.settings import Settings  # noqa: E402


def test_the_answer_is_found_by_its_first_listed_form() -> None:
    text = "The envoy met officials in Doha, Qatar on Monday."
    assert answer_span(text, ["Kabul", "Doha"]) == (27, 31)
    assert answer_span(text, ["", "Kabul"]) is None
    assert labelled([(text, "")], [("It rained.", text)], ["Qatar"]) == [
        (text, 1, (33, 38), ""), ("It rained.", 0, None, text)]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    folder = locate_model(DEFAULT_MODEL, Settings.from_env().cache_dir).folder
    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def test_span_targets_point_at_the_answer_tokens(tokenizer) -> None:
    question = "Where did the envoy meet officials?"
    sentences = ["The envoy met officials in Doha, Qatar on Monday.", "Markets rose sharply.",
                 "Talks went on for hours and hours " * 40 + "in Oslo."]
    spans = [answer_span(sentences[0], ["Doha, Qatar"]), None, answer_span(sentences[2], ["Oslo"])]
    encoded = encode_pairs(tokenizer, [question] * 3, sentences)
    starts, ends = span_targets(encoded.offsets, encoded.inside, spans)

    answer_ids = encoded.batch["input_ids"][0, int(starts[0]) : int(ends[0]) + 1].tolist()
    assert tokenizer.decode(answer_ids) == "doha, qatar"
    assert (int(starts[1]), int(ends[1])) == (0, 0)  # no answer here: the first token
    assert (int(starts[2]), int(ends[2])) == (-100, -100)  # cut off by the token budget: not counted


def test_the_sentence_before_is_read_but_neither_pooled_nor_a_span(tokenizer) -> None:
    question = "Which countries will the envoy visit?"
    sentences = ["They are Qatar, Pakistan and Norway.", "Markets rose."]
    before = ["The envoy will visit five countries.", ""]
    encoded = encode_pairs(tokenizer, [question] * 2, sentences, before)
    ids = encoded.batch["input_ids"]

    def words(row, mask) -> str:
        return tokenizer.decode(ids[row][mask[row]].tolist())

    assert words(0, encoded.inside) == "they are qatar, pakistan and norway."
    assert "five countries" in tokenizer.decode(ids[0].tolist())  # the context is read ...
    assert "five" not in words(0, encoded.pooled)  # ... but not averaged into the score
    assert words(0, encoded.pooled).startswith("[CLS] which countries")
    assert words(1, encoded.inside) == "markets rose."
    plain = encode_pairs(tokenizer, [question] * 2, sentences)
    assert (plain.pooled == (plain.batch["attention_mask"] == 1)).all()  # without context: every token
    spans = [answer_span(sentences[0], ["Qatar"]), None]
    starts, ends = span_targets(encoded.offsets, encoded.inside, spans)
    assert tokenizer.decode(ids[0, int(starts[0]) : int(ends[0]) + 1].tolist()) == "qatar"
