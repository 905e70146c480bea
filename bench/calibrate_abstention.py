"""Fit the abstention rule, run by hand: `python bench/calibrate_abstention.py [--squad DIR] [--sample N]`.

Collects the Evidence (coverage, standout, relevance) of every question of the seed eval set and of a sample
of SQuAD dev with every 4th paragraph held out (its questions are unanswerable but on topic), fits
support = logistic(a * coverage + b * standout + c) to "the articles answer it", each set weighing the same,
and prints the fitted constants and, for a range of MIN_SUPPORT values, the answer figures on both sets.
Copy the constants into qa/answer.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import Settings  # noqa: E402
from qa import answer as answering  # noqa: E402
from qa.evalsets import answer_sample, prepare_eval  # noqa: E402


def collect(retriever, questions) -> list[tuple[float, float, float, bool, bool]]:
    """(coverage, standout, relevance, answerable, answer holds gold) per question, with today's rule."""
    rows = []
    for question in questions:
        evidence = answering.gather(retriever, question.question, question.history).evidence
        answer = retriever.ask(question.question, question.history)
        gold = any(g.casefold() in answer.text.casefold() for g in question.answers)
        rows.append((evidence.coverage, evidence.standout, evidence.relevance, question.answerable, gold))
    return rows


def fit(features: np.ndarray, labels: np.ndarray, weights: np.ndarray, steps: int = 20000) -> np.ndarray:
    """Weighted logistic regression by gradient descent; returns (coefficients..., bias)."""
    design = np.hstack([features, np.ones((len(features), 1))])
    theta = np.zeros(design.shape[1])
    for _ in range(steps):
        predicted = 1.0 / (1.0 + np.exp(-design @ theta))
        theta -= 2.0 * design.T @ ((predicted - labels) * weights) / len(labels)
    return theta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", default=str(ROOT.parent / "shared" / "data" / "squad11_dev"))
    parser.add_argument("--sample", type=int, default=300, help="answerable and held-out SQuAD questions each")
    args = parser.parse_args()

    settings = Settings.from_env(corpus=ROOT / "seeds")
    seed = prepare_eval(settings)
    squad = prepare_eval(settings, squad=args.squad, embedder=seed.retriever.embedder)
    sets = {"seed": collect(seed.retriever, seed.questions),
            "squad held-out": collect(squad.answer_retriever, answer_sample(squad.answer_questions, args.sample))}

    rows = [(name, *row) for name, items in sets.items() for row in items]
    features = np.array([[coverage, standout] for _, coverage, standout, *_ in rows])
    labels = np.array([answerable for *_, answerable, _ in rows], dtype=float)
    weights = np.array([len(rows) / (len(sets) * len(sets[name])) for name, *_ in rows])
    a, b, c = fit(features, labels, weights)
    print(f"COVERAGE_WEIGHT, STANDOUT_WEIGHT, SUPPORT_BIAS = {a:.2f}, {b:.2f}, {c:.2f}")
    print(f"(now in qa/answer.py: {answering.COVERAGE_WEIGHT}, {answering.STANDOUT_WEIGHT}, "
          f"{answering.SUPPORT_BIAS}, MIN_SUPPORT {answering.MIN_SUPPORT}, THRESHOLD {answering.THRESHOLD})")
    support = 1.0 / (1.0 + np.exp(-(features @ np.array([a, b]) + c)))
    relevance = np.array([row[3] for row in rows])
    names = np.array([name for name, *_ in rows])
    held_gold = np.array([gold for *_, gold in rows])
    print("MIN_SUPPORT | per set: answerable answered, answerable answered with a gold answer, unanswerable "
          "abstained")
    for level in np.arange(0.30, 0.71, 0.025):
        answers = (support >= level) & (relevance >= answering.THRESHOLD)
        cells = []
        for name in sets:
            mine = names == name
            answerable, unanswerable = mine & (labels == 1), mine & (labels == 0)
            cells.append(f"{name}: {answers[answerable].mean():.2f} {(answers & held_gold)[answerable].mean():.2f} "
                         f"{(~answers[unanswerable]).mean():.2f}")
        print(f"{level:.3f}       | " + " | ".join(cells))


if __name__ == "__main__":
    main()
