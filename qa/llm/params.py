"""The judge's fitted parameters: how its probability is combined with the reader's, and where to abstain."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from .weights import LLMError

PARAMS_FILE = Path(__file__).with_name("judge.json")


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass(frozen=True, slots=True)
class JudgeParams:
    """Written by `python bench/fit_judge.py`: P(answered) = σ(bias + w_learned·logit(learned) +
    w_judge·logit(judged)), and the reader abstains below `threshold`."""

    model: str
    w_learned: float
    w_judge: float
    bias: float
    threshold: float

    def combine(self, learned: float, judged: float) -> float:
        z = self.bias + self.w_learned * logit(learned) + self.w_judge * logit(judged)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def load_judge_params(path: Path = PARAMS_FILE) -> JudgeParams:
    try:
        data = json.loads(path.read_text())
        combined = data["combined"]
        return JudgeParams(data["model"], float(combined["w_learned"]), float(combined["w_judge"]),
                           float(combined["bias"]), float(combined["threshold"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LLMError(f"cannot read the judge's parameters {path}: {error}; refit them with "
                       f"python bench/fit_judge.py") from None
