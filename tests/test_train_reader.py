"""bench/train_reader.py's sentence ranker: fitted listwise (which sentence of a question holds the answer),
then scaled so that its sigmoid is a calibrated chance; its abstainer's sign-held logistic fit; --fit-on."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from train_reader import Item, evenly, fit_linear, fit_ranker, logits_of  # noqa: E402

from qa.reader.features import SENTENCE_FEATURES  # noqa: E402


def synthetic_questions(count: int, seed: int) -> list[Item]:
    """Questions of 6 sentences. `cross` tells the gold sentence from the others of its question, but each
    question shifts all its sentences by its own large offset, so across questions `cross` says little;
    `cosine` is noise."""
    rng = np.random.default_rng(seed)
    cross, cosine = SENTENCE_FEATURES.index("cross"), SENTENCE_FEATURES.index("cosine")
    items = []
    for n in range(count):
        labels = np.zeros(6, dtype=bool)
        labels[rng.integers(6)] = True
        features = np.zeros((6, len(SENTENCE_FEATURES)), dtype=np.float32)
        features[:, cross] = rng.normal(0, 4) + 1.5 * labels + rng.normal(0, 0.5, 6)
        features[:, cosine] = rng.normal(0, 1, 6)
        quotable = np.ones(6, dtype=bool)
        quotable[5] = bool(labels[5])  # a headline that never holds the answer is not quotable
        items.append(Item(f"q{n}", True, ["x"], features, labels, quotable, {}, []))
    return items


def test_the_ranker_learns_which_sentence_of_a_question_holds_the_answer() -> None:
    ranker = fit_ranker([synthetic_questions(300, 1)], ("cross", "cosine"))
    weights = dict(zip(ranker.names, ranker.weights))
    assert weights["cross"] > 5 * abs(weights["cosine"])
    test = synthetic_questions(300, 2)
    first = [bool(item.labels[int(np.argmax(logits_of(ranker, item)))]) for item in test]
    assert np.mean(first) > 0.8  # chance: 0.2
    # calibrated: the sigmoid's mean over quotable sentences is the share of them that hold the answer
    chances = np.concatenate([1 / (1 + np.exp(-logits_of(ranker, item)[item.quotable])) for item in test])
    share = np.mean(np.concatenate([item.labels[item.quotable] for item in test]))
    assert abs(chances.mean() - share) < 0.03


def test_each_set_weighs_the_same_whatever_its_size() -> None:
    big, small = synthetic_questions(400, 3), synthetic_questions(40, 4)
    cosine = SENTENCE_FEATURES.index("cosine")
    for item in small:  # in the small set only, `cosine` marks the gold sentence
        item.features[:, cosine] = 3.0 * item.labels
    weights = dict(zip(("cross", "cosine"), fit_ranker([big, small], ("cross", "cosine")).weights))
    pooled = dict(zip(("cross", "cosine"), fit_ranker([big + small], ("cross", "cosine")).weights))
    assert weights["cosine"] > 1.5 * pooled["cosine"] > 0


def test_the_logistic_fit_is_sklearns_and_holds_the_weights_it_is_told_to_their_sign() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    topic, signal = rng.normal(size=600), rng.normal(size=600)
    answerable = signal + rng.normal(0, 0.3, 600) > 0
    # `match` is the signal plus the topic, `topic` the topic alone: fitted freely, `topic` takes a negative
    # weight that subtracts it from `match` (the wrong sign for what it means)
    rows = np.column_stack([signal + topic, topic])
    weights = rng.uniform(0.5, 2.0, 600)
    free = fit_linear(rows, answerable, ("match", "topic"), weights, c=0.5)
    reference = LogisticRegression(C=0.5).fit((rows - rows.mean(0)) / rows.std(0), answerable, sample_weight=weights)
    assert np.allclose(free.weights, reference.coef_[0], rtol=1e-3, atol=1e-3)
    assert np.isclose(free.bias, reference.intercept_[0], rtol=1e-3, atol=1e-3)
    assert min(free.weights) < 0
    held = fit_linear(rows, answerable, ("match", "topic"), weights, c=0.5, signs={"match": 1, "topic": 1})
    assert held.weights[1] == 0 and held.weights[0] > 0


def test_fit_on_takes_as_many_of_each_kind_spread_over_all_of_them() -> None:
    items = [Item(f"q{n}", n % 3 != 0, [], np.zeros((0, 1)), np.zeros(0, bool), np.zeros(0, bool), {}, [])
             for n in range(300)]
    chosen = evenly(items, 50)
    assert sum(i.answerable for i in chosen) == 50 and sum(not i.answerable for i in chosen) == 50
    assert len({i.id for i in chosen}) == 100
    numbers = [int(i.id[1:]) for i in chosen if not i.answerable]
    assert numbers[0] == 0 and numbers[-1] >= 290  # the whole range, not the first 50
    assert len(evenly(items, 500)) == 300  # fewer than asked: all of them


def test_the_archive_set_splits_by_slice_of_the_archive_so_no_test_article_is_trained_on() -> None:
    from qa.evalsets import load_question_set
    from qa.reader.params import archive_split

    questions = load_question_set(Path(__file__).resolve().parents[1] / "eval" / "archive_questions.jsonl")
    halves = {split: [q for q in questions if archive_split(q.id) == split] for split in ("train", "test")}
    assert sum(map(len, halves.values())) == len(questions)
    for half in halves.values():  # each half has answerable questions and near misses
        assert any(q.answerable for q in half) and any(not q.answerable for q in half)
    articles = {split: {doc for q in half for doc in q.docs} for split, half in halves.items()}
    assert articles["train"] and not articles["train"] & articles["test"]
