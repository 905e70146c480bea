"""The judge's fitted parameters: how its probability and the reader's make one decision."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .weights import LLMError

PARAMS_FILE = Path(__file__).with_name("judge.json")


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass(frozen=True, slots=True)
class JudgeParams:
    """Written by `python bench/fit_judge.py --write`: whether the articles answer, as σ(bias + w_learned ·
    logit(reader's learned probability) + w_judge · logit(judge's)), and the threshold on it at which both eval
    sets still answer 0.9 of their answerable questions. `rule` says which fit it is: `combined` (a logistic
    fit of both), `judge` (the judge alone: w_learned 0, w_judge 1) or `cascade` (the judge alone, asked only
    where the reader's learned probability is below `trust_above`; from there the reader answers by itself)."""

    model: str
    rule: str
    bias: float
    w_learned: float
    w_judge: float
    threshold: float
    trust_above: float = math.inf

    def probability(self, learned: float, judged: float) -> float:
        """The fitted chance that the articles answer the question."""
        return 1.0 / (1.0 + math.exp(-(self.bias + self.w_learned * _logit(learned) + self.w_judge * _logit(judged))))

    def combine(self) -> Callable[[float, float | None], float]:
        """A `combine(learned, judged)` for the reader, to be compared with 0.5: the fitted probability, scaled
        so that its threshold sits at 0.5. Where the judge was not asked (`judged` None: the learned probability
        reached `trust_above`), the learned probability scaled from `trust_above` up."""
        def combine(learned: float, judged: float | None) -> float:
            if judged is None:
                trust = min(self.trust_above, 1.0)
                return 0.5 + 0.5 * max(0.0, learned - trust) / max(1e-9, 1 - trust)
            p, threshold = self.probability(learned, judged), self.threshold
            if p >= threshold:
                return 0.5 + 0.5 * (p - threshold) / max(1e-9, 1 - threshold)
            return 0.5 * p / max(1e-9, threshold)

        return combine


def load_judge_params(path: Path = PARAMS_FILE) -> JudgeParams:
    try:
        data = json.loads(path.read_text())
        fit = data["decision"]
        return JudgeParams(str(data["model"]), str(fit["rule"]), float(fit["bias"]), float(fit["w_learned"]),
                           float(fit["w_judge"]), float(fit["threshold"]),
                           float(fit.get("trust_above", math.inf)))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LLMError(f"cannot read the judge's parameters {path}: {error}; refit them with "
                       f"python bench/fit_judge.py --write") from None
