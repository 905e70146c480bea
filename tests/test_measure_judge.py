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

    def report(judge: tuple[float, float], combined: tuple[float, float]) -> dict[str, dict]:
        return {rule: {"seed": {"abstained_unanswerable": seed}, "squad": {"abstained_unanswerable": squad}}
                for rule, (seed, squad) in (("judge", judge), ("combined", combined))}

    assert shipped_rule(report(judge=(0.59, 0.38), combined=(0.47, 0.32))) == "judge"
    assert shipped_rule(report(judge=(0.41, 0.30), combined=(0.47, 0.32))) == "combined"
    assert shipped_rule(report(judge=(0.50, 0.30), combined=(0.30, 0.50))) == "judge"  # a tie: the simpler rule
