"""`python -m tui [DIR]`: the chat on a folder of articles (default: QA_CORPUS, else seeds/)."""

from __future__ import annotations

import sys

from .app import run_chat


def main(argv: list[str]) -> int:
    from qa import Settings

    corpus = argv[0] if argv else None
    return run_chat(Settings.from_env(corpus=corpus))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
