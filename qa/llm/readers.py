"""The readers that add a reading model to the learned reader: `strict` (a local LLM judges the quotes) and
`server` (an OpenAI-compatible server judges them and writes a short answer in its own words)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..settings import Settings
from . import local_model, server_model
from .activity import working
from .params import load_judge_params

if TYPE_CHECKING:
    from ..reader.pipeline import Reader

log = logging.getLogger(__name__)


def strict_reader(settings: Settings | None = None) -> Reader:
    """The learned reader, with the local model (Qwen2.5-Coder-1.5B, loaded now and kept warm) judging whether
    the chosen quotes answer, decided by the rule fitted in judge.json (the judge alone, its fit with the
    reader's probability, or the judge asked only where the reader is not sure by itself)."""
    from ..reader.pipeline import Reader

    settings = settings or Settings.from_env()
    model = local_model(settings)
    params = load_judge_params()
    if params.model != model.name:
        log.warning("the judge's parameters were fitted for %s, not %s", params.model, model.name)
    with working("Loading the reading model…"):  # seconds, the first time: the chat says so in the transcript
        model.backend.load()
    return Reader("strict", judge=model.judge, combine=params.combine(), judge_below=params.trust_above,
                  threshold=0.5, parts=(model,))


def server_reader(settings: Settings | None = None) -> Reader:
    """The learned reader, with the model at `settings.llm_url` judging the quotes (its probability and the
    reader's are averaged on the logit scale: an unknown model cannot have fitted weights) and writing a short
    answer from them; its sentences are kept only when the quotes they cite hold their names, numbers, dates."""
    from ..reader.pipeline import Reader

    model = server_model(settings or Settings.from_env())
    return Reader("server", judge=model.judge, writer=model.write, parts=(model,))
