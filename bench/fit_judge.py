"""Fit the LLM judge's abstention threshold and its combination with the reader's learned probability.

    python bench/fit_judge.py [~/.cache/newsqa/judge-scores.jsonl] [--write]

Reads the scores `bench/measure_judge.py` wrote (seed set and held-out SQuAD). Compares five rules, each
with its threshold set where both sets still answer at least 0.9 of their answerable questions:
the reader alone, the judge alone, the judge vetoing the reader's answers, both combined by a logistic fit
on their logits, and a cascade (the reader answers by itself where its learned probability is high enough, and
asks the judge elsewhere). The `strict` reader uses the judge alone, the combination or the cascade, whichever
abstains more (on a tie, the one that asks the judge least). Figures are
out-of-fold (two folds by question group: SQuAD title, seed question), then all data fits the parameters that
`--write` stores in qa/llm/judge.json with the data's hash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCORES = Path.home() / ".cache" / "newsqa" / "judge-scores.jsonl"  # what measure_judge writes, fit_judge reads
sys.path.insert(0, str(ROOT))

from qa.llm.params import PARAMS_FILE  # noqa: E402
from qa.reader.params import load_params  # noqa: E402

ANSWERED = 0.9  # the least share of answerable questions each set must still answer


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    """Weighted logistic regression by Newton's method; returns [bias, w...]."""
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (weight * (y - p)) - l2 * np.r_[0, beta[1:]]
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design + l2 * np.diag(np.r_[1e-4, np.ones(len(beta) - 1)])
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def pick_threshold(score: np.ndarray, answerable: np.ndarray, sets: np.ndarray) -> float:
    """The highest threshold at which every set answers at least ANSWERED of its answerable questions."""
    levels = np.unique(score)
    best = float(levels.min())
    for level in levels:
        if all(np.mean(score[(sets == s) & answerable] >= level) >= ANSWERED for s in np.unique(sets)):
            best = float(level)
    return best


def figures(score: np.ndarray, threshold: float, answerable: np.ndarray, sets: np.ndarray) -> dict[str, dict]:
    out = {}
    for s in np.unique(sets):
        ans, una = (sets == s) & answerable, (sets == s) & ~answerable
        out[str(s)] = {"abstained_unanswerable": round(float(np.mean(score[una] < threshold)), 3),
                       "answered_answerable": round(float(np.mean(score[ans] >= threshold)), 3),
                       "auc": round(auc(score[ans], score[una]), 3), "unanswerable": int(una.sum()),
                       "answerable": int(ans.sum())}
    return out


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    if not len(positive) or not len(negative):
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(greater + ties / 2)


def fit_cascade(learned: np.ndarray, judged: np.ndarray, answerable: np.ndarray,
                sets: np.ndarray) -> tuple[float, float]:
    """(trust, threshold): answer without the judge where `learned` >= trust, else where `judged` >= threshold.
    The pair that abstains on the most unanswerable questions (the mean of the sets' shares) while every set
    answers at least ANSWERED of its answerable ones; among equals, the lowest trust (the judge asked least).
    trust inf: the judge always."""
    trusts = np.r_[np.unique(np.quantile(learned, np.linspace(0, 1, 41))), np.inf]
    levels = np.unique(judged)
    best: tuple[float, float, float] | None = None  # (abstained, trust, threshold)
    for trust in trusts:
        answers = (learned >= trust)[None, :] | (judged[None, :] >= levels[:, None])  # one row per threshold
        answered = np.all([answers[:, (sets == s) & answerable].mean(axis=1) >= ANSWERED
                           for s in np.unique(sets)], axis=0)
        if not answered.any():
            continue
        abstained = np.mean([1 - answers[:, (sets == s) & ~answerable].mean(axis=1) for s in np.unique(sets)], axis=0)
        row = int(np.flatnonzero(answered)[np.argmax(abstained[answered])])
        if best is None or abstained[row] > best[0] + 1e-9:
            best = (float(abstained[row]), float(trust), float(levels[row]))
    if best is None:
        return math.inf, float(levels.min())
    return best[1], best[2]


def cascade_score(learned: np.ndarray, judged: np.ndarray, trust: float, threshold: float) -> np.ndarray:
    """The cascade's decision on a scale where it answers at >= 0.5: what the reader answers alone ranks above
    everything the judge decides."""
    return np.where(learned >= trust, 2.0 + learned, judged - threshold + 0.5)


def shipped_rule(report: dict[str, dict]) -> str:
    """`judge`, `combined` or `cascade`: the rule that abstains on more unanswerable questions out of fold (the
    mean of the sets' shares; each rule's threshold keeps 0.9 answered in training). On a tie the cascade, which
    asks the judge least, then the judge alone, as the simpler rule."""
    def abstained(rule: str) -> float:
        return float(np.mean([f["abstained_unanswerable"] for f in report[rule].values()])) if rule in report else -1

    return max(("cascade", "judge", "combined"), key=abstained)  # max keeps the first of equals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scores", nargs="?", type=Path, default=SCORES)
    parser.add_argument("--reader", help="only rows scored with this reader (default: the last one written)")
    parser.add_argument("--reader-threshold", type=float, default=load_params().threshold,
                        help="the reader's own threshold on its probability (the veto rule keeps it; default: "
                             "the shipped reader's)")
    parser.add_argument("--write", action="store_true", help="store the parameters in qa/llm/judge.json")
    args = parser.parse_args()
    raw = args.scores.read_bytes()
    rows = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
    reader = args.reader or rows[-1]["reader"]
    last_run = rows[-1].get("run")
    if last_run is not None:  # only the questions of the last run, with the reader as it is now
        rows = [row for row in rows if row.get("run") == last_run]
    latest: dict[tuple[str, str], dict] = {}
    for row in rows:
        if row["reader"] == reader:
            latest[(row["set"], row["id"])] = row
    rows = list(latest.values())
    sets = np.array([r["set"] for r in rows])
    answerable = np.array([r["answerable"] for r in rows])
    learned = np.array([r["learned"] for r in rows], dtype=float)
    judged = np.array([r["judge"] for r in rows], dtype=float)
    groups = np.array([int(hashlib.sha256(r["group"].encode()).hexdigest(), 16) % 2 for r in rows])
    # Each set weighs the same in the fit, and within a set answerable and unanswerable questions do too.
    weight = np.ones(len(rows))
    for s in np.unique(sets):
        for a in (True, False):
            mask = (sets == s) & (answerable == a)
            weight[mask] = 1.0 / max(1, mask.sum())
    x = np.c_[logit(learned), logit(judged)]

    def combined_score(beta: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(beta[0] + x[idx] @ beta[1:])))

    print(f"{len(rows)} questions scored with reader {reader!r}, model {rows[0]['model']}; "
          f"median judge time {np.median([r['seconds'] for r in rows if r['evidence']]):.2f} s")
    report: dict[str, dict] = {}
    reader_threshold = args.reader_threshold
    asked = np.zeros(len(rows), dtype=bool)  # where the cascade asks the judge, out of fold
    for rule in ("reader", "judge", "veto", "combined", "cascade"):
        scores = np.zeros(len(rows))
        for fold in (0, 1):
            train, test = groups != fold, groups == fold
            if rule == "reader":
                train_score, test_score = learned[train], learned[test]
            elif rule == "judge":
                train_score, test_score = judged[train], judged[test]
            elif rule == "veto":  # the reader decides as it would alone; the judge can only veto an answer
                vetoed = np.where(learned >= reader_threshold, judged, -1.0)
                train_score, test_score = vetoed[train], vetoed[test]
            elif rule == "combined":
                beta = fit_logistic(x[train], answerable[train].astype(float), weight[train])
                train_score, test_score = combined_score(beta, train), combined_score(beta, test)
            else:
                trust, level = fit_cascade(learned[train], judged[train], answerable[train], sets[train])
                train_score = cascade_score(learned[train], judged[train], trust, level)
                test_score = cascade_score(learned[test], judged[test], trust, level)
                asked[test] = learned[test] < trust
            threshold = pick_threshold(train_score, answerable[train], sets[train])
            scores[test] = test_score - threshold + 0.5  # out-of-fold, on a common scale: answer at >= 0.5
        report[rule] = figures(scores, 0.5, answerable, sets)
        for s, f in report[rule].items():
            print(f"{rule:9s} {s:6s} abstained on unanswerable {f['abstained_unanswerable']:.2f} of "
                  f"{f['unanswerable']}, answered answerable {f['answered_answerable']:.2f} of {f['answerable']}, "
                  f"AUC {f['auc']:.3f}  (out of fold)")
    for s in np.unique(sets):
        report["cascade"][str(s)]["judge_asked"] = round(float(asked[sets == s].mean()), 3)
    print("cascade: the judge is asked on " + ", ".join(f"{s} {f['judge_asked']:.2f}"
                                                          for s, f in report["cascade"].items()) + " of the questions")
    beta = fit_logistic(x, answerable.astype(float), weight)
    everything = np.arange(len(rows))
    threshold = pick_threshold(combined_score(beta, everything), answerable, sets)
    judge_threshold = pick_threshold(judged, answerable, sets)
    veto_threshold = pick_threshold(np.where(learned >= reader_threshold, judged, -1.0), answerable, sets)
    trust, cascade_threshold = fit_cascade(learned, judged, answerable, sets)
    print(f"fitted on all: P = σ({beta[0]:.3f} + {beta[1]:.3f}·logit(learned) + {beta[2]:.3f}·logit(judge)), "
          f"abstain below {threshold:.3f}; judge alone: abstain below {judge_threshold:.3f}; veto: the judge "
          f"vetoes below {veto_threshold:.3f}; cascade: the reader alone from {trust:.3f}, else the judge "
          f"abstains below {cascade_threshold:.3f}")
    rule = shipped_rule(report)
    print(f"strict will use: {rule} (the best out-of-fold abstention of judge, combined and cascade, at the same answered share)")
    if args.write:
        combined = {"bias": float(beta[0]), "w_learned": float(beta[1]), "w_judge": float(beta[2]),
                    "threshold": threshold}
        judge_alone = {"bias": 0.0, "w_learned": 0.0, "w_judge": 1.0, "threshold": judge_threshold}
        cascade = {"bias": 0.0, "w_learned": 0.0, "w_judge": 1.0, "threshold": cascade_threshold,
                   **({"trust_above": trust} if math.isfinite(trust) else {})}
        params = {
            "model": rows[0]["model"], "reader": reader,
            "decision": {"rule": rule, **{"combined": combined, "judge": judge_alone, "cascade": cascade}[rule]},
            "combined": combined,
            "judge_alone_threshold": judge_threshold, "veto_threshold": veto_threshold,
            "reader_threshold": reader_threshold, "answered_at_least": ANSWERED,
            "out_of_fold": report,
            "data": {"scores_sha256": hashlib.sha256(raw).hexdigest(), "questions": len(rows),
                     "split": "two folds by SQuAD title / seed question id (sha256 parity)"},
            "command": "python bench/measure_judge.py && python bench/fit_judge.py --write",
        }
        PARAMS_FILE.write_text(json.dumps(params, indent=1) + "\n")
        print(f"wrote {PARAMS_FILE}")


if __name__ == "__main__":
    main()
