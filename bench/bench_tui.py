"""Chat UI speed, run by hand: `python bench/bench_tui.py [--corpus DIR] [--runs N] [--questions N]`.

Prints medians of:
- time to first paint: from spawning a fresh Python process to the app's Ready event (the first frame is
  on screen), in a pseudo-terminal, for the bare app (`python -m tui`) and for the app started the way
  `qa chat` starts it (after importing the `qa` package and its CLI);
- time from Enter to the answer shown, with the real retriever on the seed articles (model loaded and
  index opened beforehand), over the first questions of eval/questions.jsonl.

`--screenshot docs/screenshot.svg` also saves an SVG of the chat answering SCREENSHOT_QUESTION.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The child: build the app with a loader that waits (cancellably) forever, write the time of the Ready event
# to the file named by BENCH_TUI_OUT, and quit. `{preload}` is replaced by the imports the launcher does first.
CHILD = """
import os, time
{preload}
from textual.worker import get_current_worker
from tui.app import QAApp

def load(corpus, progress):
    progress.phase("Loading model…")
    worker = get_current_worker()
    while not worker.cancelled_event.wait(0.05):
        pass
    raise RuntimeError("cancelled")

class Timed(QAApp):
    def on_ready(self):
        super().on_ready()
        with open(os.environ["BENCH_TUI_OUT"], "w") as out:
            out.write(repr(time.time()))
        self.exit()

Timed(load, "seeds").run()
"""

SCREENSHOT_QUESTION = "Which five countries is the envoy visiting?"

LAUNCHERS = {
    "python -m tui": "",
    "qa chat (imports qa, qa.cli)": "import qa, qa.cli",
}


def first_paint(preload: str, size: tuple[int, int] = (100, 30)) -> float:
    """Seconds from spawning the process to the app's first frame, in a pseudo-terminal of `size`."""
    primary, secondary = os.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "ready"
        env = dict(os.environ, BENCH_TUI_OUT=str(out), TERM="xterm-256color", TEXTUAL_ANIMATIONS="none")
        output = bytearray()

        def drain() -> None:  # a pty whose output nobody reads blocks the child once its buffer fills
            try:
                while chunk := os.read(primary, 65536):
                    output.extend(chunk)
            except OSError:
                pass

        threading.Thread(target=drain, daemon=True).start()
        began = time.time()
        child = subprocess.Popen([sys.executable, "-c", CHILD.format(preload=preload)], cwd=ROOT, env=env,
                                 stdin=secondary, stdout=secondary, stderr=secondary, start_new_session=True)
        os.close(secondary)
        try:
            child.wait(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
            os.close(primary)
        if not out.exists():
            tail = output[-2000:].decode("utf-8", "replace")
            raise RuntimeError(f"the app did not reach its first frame (exit code {child.returncode}):\n{tail}")
        return float(out.read_text()) - began


def seed_questions(count: int) -> list[str]:
    questions_file = ROOT / "eval" / "questions.jsonl"
    if questions_file.exists():
        lines = questions_file.read_text(encoding="utf-8").splitlines()
        questions = [json.loads(line)["question"] for line in lines if line.strip()]
    else:
        questions = ["Which countries did the envoy visit?", "Who criticised Khalilzad's strategy?"]
    return questions[:count]


async def enter_to_answer(corpus: Path, questions: list[str],
                          screenshot: Path | None = None) -> tuple[list[float], dict[str, int], float]:
    """Per question, seconds from pressing Enter to the answer on screen; plus outcome counts and load time."""
    from qa import Settings
    from tui.app import QAApp
    from tui.loading import folder_loader
    from tui.widgets.question_input import QuestionInput
    from tui.widgets.turn import Turn

    began = time.perf_counter()
    retriever = folder_loader(Settings.from_env(corpus=corpus))(corpus, _NoReporter())
    loaded = time.perf_counter() - began
    app = QAApp(lambda folder, progress: retriever, corpus)
    times: list[float] = []
    outcomes = {"-answered": 0, "-abstained": 0, "-failed": 0}
    async with app.run_test(size=(100, 30)) as pilot:
        while app.retriever is None:
            await pilot.pause(0.01)
        box = app.chat.query_one(QuestionInput)
        for number, question in enumerate(questions, start=1):
            box.value = question
            began = time.perf_counter()
            await pilot.press("enter")
            while True:
                turn = app.chat.query_one(f"#turn-{number}", Turn)
                state = next((s for s in outcomes if turn.has_class(s)), None)
                if state:
                    break
                await asyncio.sleep(0.002)
            await pilot.pause()  # the frame with the answer
            times.append(time.perf_counter() - began)
            outcomes[state] += 1
    if screenshot is not None:
        await save_screenshot(QAApp(lambda folder, progress: retriever, corpus), screenshot)
    return times, outcomes, loaded


async def save_screenshot(app, path: Path) -> None:
    """An SVG of `app` (100x30) after answering SCREENSHOT_QUESTION, cursor blink off."""
    from tui.widgets.question_input import QuestionInput

    async with app.run_test(size=(100, 30)) as pilot:
        while app.retriever is None:
            await pilot.pause(0.01)
        box = app.chat.query_one(QuestionInput)
        box.cursor_blink = False
        box.value = SCREENSHOT_QUESTION
        await pilot.press("enter")
        while not app.exchanges:
            await pilot.pause(0.01)
        await pilot.pause()
        path.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(path.name, str(path.parent))
    print(f"saved {path}")


class _NoReporter:
    def __call__(self, done: int, total: int) -> None:
        pass

    def phase(self, text: str) -> None:
        print(f"  {text}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds", help="articles for Enter-to-answer")
    parser.add_argument("--runs", type=int, default=7, help="processes started per first-paint variant")
    parser.add_argument("--questions", type=int, default=12, help="questions asked for Enter-to-answer")
    parser.add_argument("--screenshot", type=Path, help="also save an SVG of an answered question here")
    args = parser.parse_args()

    print(f"first paint (process start -> first frame, 100x30 pty), median of {args.runs} runs:")
    for name, preload in LAUNCHERS.items():
        first_paint(preload)  # warm the file cache and bytecode
        runs = [first_paint(preload) for _ in range(args.runs)]
        print(f"  {name:32s} {statistics.median(runs) * 1000:7.0f} ms   (min {min(runs) * 1000:.0f}, "
              f"max {max(runs) * 1000:.0f})")

    with tempfile.TemporaryDirectory() as folder:  # a copy, so the bench never writes an index into seeds/
        corpus = Path(folder) / args.corpus.name
        shutil.copytree(args.corpus, corpus, ignore=shutil.ignore_patterns(".qa-index"))
        questions = seed_questions(args.questions)
        times, outcomes, loaded = asyncio.run(enter_to_answer(corpus, questions, args.screenshot))
    print(f"model load + index build of {args.corpus.name}: {loaded:.1f} s (in the worker; the UI stays live)")
    print(f"Enter -> answer shown, median of {len(times)} questions: {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); "
          + ", ".join(f"{k.strip('-')} {v}" for k, v in outcomes.items()))


if __name__ == "__main__":
    main()
