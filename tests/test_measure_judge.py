"""bench/measure_judge.py keeps a verdict only for the exact prompt the model read."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from measure_judge import verdict_key  # noqa: E402

import qa.llm.prompts  # noqa: E402


def test_a_kept_verdict_stands_for_model_question_evidence_and_wording(monkeypatch) -> None:
    key = verdict_key("qwen", "Who won?", ["The envoy won."])
    assert key == verdict_key("qwen", "Who won?", ["The envoy won."])  # the fence's random token aside
    assert key != verdict_key("other", "Who won?", ["The envoy won."])
    assert key != verdict_key("qwen", "Who lost?", ["The envoy won."])
    assert key != verdict_key("qwen", "Who won?", ["The envoy won.", "Talks ended."])
    monkeypatch.setattr(qa.llm.prompts, "JUDGE_SYSTEM", "Reply yes or no.")
    assert key != verdict_key("qwen", "Who won?", ["The envoy won."])  # reworded: judged again
