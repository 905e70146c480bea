"""bench/measure_judge.py keeps a verdict only for the exact prompt the model read; bench/fit_judge.py picks
the rule strict uses."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from measure_judge import verdict_key  # noqa: E402

import qa.llm.prompts  # noqa: E402


def test_a_kept_verdict_stands_for_model_question_evidence_and_wording(monkeypatch) -> None:
    key = verdict_key("qwen", "Who won?", ["The envoy won."])
    assert key == verdict_key("qwen", "Who won?", ["The envoy won."])
    assert key != verdict_key("other", "Who won?", ["The envoy won."])
    assert key != verdict_key("qwen", "Who lost?", ["The envoy won."])
    assert key != verdict_key("qwen", "Who won?", ["The envoy won.", "Talks ended."])
    monkeypatch.setattr(qa.llm.prompts, "JUDGE_SYSTEM", "Reply yes or no.")
    assert key != verdict_key("qwen", "Who won?", ["The envoy won."])  # reworded: judged again


def test_strict_uses_the_rule_that_abstains_more_out_of_fold() -> None:
    from fit_judge import shipped_rule

    def report(judge: tuple[float, float], combined: tuple[float, float],
               cascade: tuple[float, float] = (0.0, 0.0)) -> dict[str, dict]:
        return {rule: {"seed": {"abstained_unanswerable": seed}, "squad": {"abstained_unanswerable": squad}}
                for rule, (seed, squad) in (("judge", judge), ("combined", combined), ("cascade", cascade))}

    assert shipped_rule(report(judge=(0.59, 0.38), combined=(0.47, 0.32))) == "judge"
    assert shipped_rule(report(judge=(0.41, 0.30), combined=(0.47, 0.32))) == "combined"
    assert shipped_rule(report(judge=(0.50, 0.30), combined=(0.30, 0.50))) == "judge"  # a tie: the simpler rule
    assert shipped_rule(report(judge=(0.59, 0.38), combined=(0.47, 0.32), cascade=(0.47, 0.36))) == "judge"
    # the same abstention with fewer verdicts: the cascade
    assert shipped_rule(report(judge=(0.59, 0.38), combined=(0.47, 0.32), cascade=(0.59, 0.38))) == "cascade"


def test_the_cascade_trusts_the_reader_only_where_that_costs_no_abstention() -> None:
    import numpy as np
    from fit_judge import ANSWERED, cascade_score, fit_cascade

    rng = np.random.default_rng(0)
    answerable = np.repeat([True, False], 100)
    sets = np.tile(np.repeat(["seed", "squad"], 50), 2)
    # The reader is sure of half the answerable questions and of no unanswerable one; the judge separates the
    # two kinds only roughly.
    learned = np.where(answerable & (rng.random(200) < 0.5), 0.95, rng.random(200) * 0.6)
    judged = np.clip(np.where(answerable, 0.6, 0.35) + rng.normal(0, 0.15, 200), 0, 1)
    trust, threshold = fit_cascade(learned, judged, answerable, sets)
    assert 0.5 < trust <= 0.95  # it skips the judge where the reader is sure, and hardly anywhere else
    assert np.sum((learned >= trust) & answerable) >= 40 and np.sum((learned >= trust) & ~answerable) <= 2
    answers = cascade_score(learned, judged, trust, threshold) >= 0.5
    for s in ("seed", "squad"):
        assert answers[(sets == s) & answerable].mean() >= ANSWERED
    # against the judge alone at its own threshold, the cascade abstains at least as much
    alone = np.sort(judged[answerable])[int((1 - ANSWERED) * answerable.sum()) - 1]
    assert 1 - answers[~answerable].mean() >= np.mean(judged[~answerable] < alone) - 0.02
