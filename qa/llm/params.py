"""The judge's fitted parameters: how its probability joins the reader's, and where it vetoes an answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .weights import LLMError

PARAMS_FILE = Path(__file__).with_name("judge.json")


@dataclass(frozen=True, slots=True)
class JudgeParams:
    """Written by `python bench/fit_judge.py --write`. The reader decides as it would alone, and the judge can
    only veto: an answer stands when the reader's probability reaches the reader's threshold and the judge's
    reaches `veto_threshold` (fitted so that both eval sets still answer 0.9 of their answerable questions)."""

    model: str
    veto_threshold: float

    def combine(self, reader_threshold: float) -> Callable[[float, float], float]:
        """A `combine(learned, judged)` for the reader, to be compared with 0.5: each probability scaled so its
        own threshold sits at 0.5, and the weaker of the two (either one below its threshold abstains)."""
        def scaled(p: float, threshold: float) -> float:
            if p >= threshold:
                return 0.5 + 0.5 * (p - threshold) / max(1e-9, 1 - threshold)
            return 0.5 * p / max(1e-9, threshold)

        def combine(learned: float, judged: float) -> float:
            return min(scaled(learned, reader_threshold), scaled(judged, self.veto_threshold))

        return combine


def load_judge_params(path: Path = PARAMS_FILE) -> JudgeParams:
    try:
        data = json.loads(path.read_text())
        return JudgeParams(str(data["model"]), float(data["veto_threshold"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LLMError(f"cannot read the judge's parameters {path}: {error}; refit them with "
                       f"python bench/fit_judge.py --write") from None
