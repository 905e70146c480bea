"""The `qa` command: chat (default), ask, search, index and eval."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .display import dumps, one_line, plural, printable
from .errors import QAError
from .records import UNSURE_NOTE, Answer, Citation, Hit
from .settings import METHODS, Settings

if TYPE_CHECKING:
    from .index import SyncReport

log = logging.getLogger("qa")
PROGRESS_EVERY = 10.0  # seconds between progress lines when stderr is not a terminal
FILES_LISTED = 10  # changed and removed files `qa index` names (all of them with -v)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `qa` command; returns the exit status: 0, 2 for bad input, 130 when interrupted (Ctrl-C)."""
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show a character gets a stand-in
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    with _Interrupts() as interrupts:
        code = _run(argv)
        interrupts.armed = False
    if interrupts.seen and code == 0:  # the KeyboardInterrupt was swallowed on its way up
        print("qa: interrupted", file=sys.stderr)
        return 130
    return code


class _Interrupts:
    """While a command runs, note every SIGINT and raise KeyboardInterrupt for it as Python does: a library that
    catches and drops the exception (in an import, say) cannot turn Ctrl-C into a normal exit."""

    def __init__(self) -> None:
        self.seen = False
        self.armed = True  # raise; once the command has returned, only note
        self._previous: Any = None

    def __enter__(self) -> _Interrupts:
        with suppress(ValueError):  # not the main thread: signals stay as they are
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: object) -> None:
        self.seen = True
        if self.armed:
            raise KeyboardInterrupt


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
        _configure_logging(args.verbose, args.quiet)
        command = args.command or "chat"
        settings = Settings.from_env(corpus=args.corpus, model=args.model, index_dir=args.index_dir,
                                     llm_url=args.llm_url, llm_model=args.llm_model,
                                     store=args.store, reader=args.reader, device=args.device,
                                     batch_size=args.batch_size)
        return COMMANDS[command](args, settings)
    except QAError as error:
        print(f"qa: error: {printable(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`qa search ... | head`): stop quietly, as other command-line tools do.
        _silence_stdout()
        return 141


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like every other `qa` error (no usage block before it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {printable(message)} (see {self.prog} --help)\n")


def _common_options(given_only: bool) -> argparse.ArgumentParser:
    """The options every command takes. A command's copy sets only what is given after the command's name
    (`given_only`), so `qa --corpus DIR ask ...` keeps the DIR given before it."""
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS if given_only else None)
    common.add_argument("--corpus", metavar="DIR",
                        help="folder of .txt/.md/.html articles and .jsonl exports, or one such file (default: seeds/)")
    common.add_argument("--model", help="embedding model: a local folder or a locally cached model name")
    common.add_argument("--index-dir", metavar="DIR", help="where the index lives (default: DIR/.qa-index; for a corpus file, .FILE.qa-index beside it)")
    common.add_argument("--llm-url", metavar="URL",
                        help="OpenAI-compatible model server for the server reader (key: OPENAI_API_KEY)")
    common.add_argument("--llm-model", metavar="NAME", help="the server's model; without --llm-url, the local model")
    common.add_argument("--store", metavar="URL",
                        help="'embedded' (files in the index folder, the default) or milvus://HOST:PORT[/NAME]")
    common.add_argument("--reader", metavar="NAME",
                        help="who reads the passages: extractive (default), strict or server (see qa eval)")
    common.add_argument("--device", metavar="NAME",
                        help="where the embedding model runs: cpu (default), cuda, cuda:N or mps")
    common.add_argument("--batch-size", type=int, metavar="N",
                        help="texts per embedding batch when indexing (default 32; 256 or more on a GPU)")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bar or warnings; errors still show")
    common.add_argument("-v", "--verbose", action="store_true", help="log what the library does")
    return common


def _parser() -> argparse.ArgumentParser:
    common = _common_options(given_only=True)
    parser = _Parser(
        prog="qa", parents=[_common_options(given_only=False)],
        description="Ask questions about a folder of news articles; answers cite their sources. "
                    "With no command, opens the chat.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("chat", parents=[common], help="open the chat UI (the default)")

    ask = commands.add_parser("ask", parents=[common], help="answer a question, with numbered sources")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    _filter_flags(ask)

    search = commands.add_parser("search", parents=[common], help="show the passages that best match")
    search.add_argument("question")
    search.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    search.add_argument("--method", choices=METHODS, help="retrieval method (default hybrid)")
    search.add_argument("--json", action="store_true", help="print the hits as JSON")
    _filter_flags(search)

    index = commands.add_parser("index", parents=[common], help="build or update the index of a folder")
    index.add_argument("folder", nargs="?", help="the corpus folder or file (same as --corpus)")
    index.add_argument("--part", metavar="I/N", help="index only this machine's share of the articles, e.g. 2/4 "
                                                     "(needs a shared store: --store milvus://...)")

    add = commands.add_parser("add", parents=[common],
                              help="fetch article pages or RSS/Atom feeds into the corpus folder (uses the network)")
    add.add_argument("urls", nargs="+", metavar="URL", help="an article page or a feed (each entry's page is fetched)")
    add.add_argument("--no-index", action="store_true", help="only fetch; index on the next start")

    evaluate = commands.add_parser("eval", parents=[common], help="measure retrieval and answer accuracy")
    evaluate.add_argument("--set", dest="question_set", metavar="FILE", help="question set (eval/questions.jsonl)")
    evaluate.add_argument("--squad", metavar="DIR", help="evaluate on a SQuAD-format folder instead")
    evaluate.add_argument("--through-files", action="store_true",
                          help="with --squad: write each paragraph as a file (title, blank line, text) and index "
                               "that folder, as articles are read")
    evaluate.add_argument("--limit", type=int, help="use only the first N questions")
    evaluate.add_argument("--readers", metavar="NAMES",
                          help="comma-separated readers to compare (default: every reader this installation has)")
    evaluate.add_argument("--json", dest="json_path", metavar="FILE", help="also write the report as JSON")
    return parser


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _filter_flags(command: argparse.ArgumentParser) -> None:
    command.add_argument("--since", metavar="DATE", help="only articles from DATE on (YYYY-MM-DD, YYYY-MM or YYYY)")
    command.add_argument("--until", metavar="DATE", help="only articles up to DATE (YYYY-MM-DD, YYYY-MM or YYYY)")
    command.add_argument("--outlet", dest="outlets", action="append", metavar="NAME",
                         help="only articles of this outlet (repeat or separate by commas: cnn,usatoday.com)")


def _filters(args: argparse.Namespace) -> dict[str, object]:
    from .filters import Filters

    outlets = [name for value in args.outlets or () for name in value.split(",")] or None
    Filters.of(args.since, args.until, outlets)  # a bad date is refused before the model loads
    return {"since": args.since, "until": args.until, "outlets": outlets}


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now, so a live progress bar (which redirects it) stays intact."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _Formatter(logging.Formatter):
    """`qa: warning: ...`, in the same voice as the command's own messages."""

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        return one_line(super().format(record))  # file names in messages are untrusted: no forged lines


def _configure_logging(verbose: bool, quiet: bool = False) -> None:
    handler = _StderrHandler()
    handler.setFormatter(_Formatter("qa: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for noisy in ("sentence_transformers", "transformers", "huggingface_hub", "bm25s", "torch", "trafilatura",
                  "htmldate", "courlan", "feedparser"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    logging.getLogger("qa").setLevel(logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING)
    for name in ("sentence_transformers", "transformers", "huggingface_hub"):
        logging.getLogger(name).propagate = verbose


@contextmanager
def _progress(quiet: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal; otherwise (a log file, a pipe) a plain line now and then."""
    if quiet:
        yield None
        return
    if not sys.stderr.isatty():
        yield _progress_lines(label)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:  # type: ignore[no-untyped-def]
            return Text(f"{task.speed:,.0f}/s" if task.speed else "")

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Loading the model and reading articles", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, description=label, completed=done, total=total)

        yield update


def _progress_lines(label: str, every: float = PROGRESS_EVERY) -> Callable[[int, int], None]:
    """`qa: Embedding passages: 1,200/4,835` on stderr when work starts, then at most every `every`
    seconds, and when it ends, so someone watching a log sees that a long run is moving."""
    last: float | None = None
    finished = False

    def update(done: int, total: int) -> None:
        nonlocal last, finished
        now = time.monotonic()
        if finished or not (last is None or done >= total or now - last >= every):
            return
        last, finished = now, done >= total
        print(f"qa: {label}: {done:,}/{total:,}", file=sys.stderr, flush=True)

    return update


def _warn_if_no_article_matches(retriever, filters: dict[str, object]) -> None:
    why = retriever.no_article_matches(filters["since"], filters["until"], filters["outlets"])
    if why:
        log.warning("%s", why)


def _open(settings: Settings, quiet: bool):
    from .retriever import Retriever

    with _progress(quiet, "Embedding passages") as progress:
        retriever = Retriever.from_settings(settings, progress=progress)
    return retriever  # skipped files and index repairs were logged as warnings



# --- commands ---------------------------------------------------------------------------------------------

def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from tui.app import run_chat

    return run_chat(settings)


def _search(args: argparse.Namespace, settings: Settings) -> int:
    from .retriever import check_question

    question = check_question(args.question)
    if args.k < 1:
        raise QAError("-k must be at least 1")
    filters = _filters(args)
    retriever = _open(settings, args.quiet)
    _warn_if_no_article_matches(retriever, filters)
    hits = retriever.search(question, k=args.k, method=args.method, **filters)
    if args.json:
        print(dumps([hit.to_dict() for hit in hits]))
    else:
        print(format_hits(hits))
    return 0


def format_hits(hits: Sequence[Hit]) -> str:
    """Ranked passages for people; article text, titles and file names are made printable."""
    blocks = []
    for hit in hits:
        c = hit.citation
        head = f"{hit.rank}. {one_line(c.title)}\n   {_where(c)}, characters {c.start}-{c.end}, score {hit.score:.3f}"
        for copy in hit.copies:
            head += f"\n   also: {_where(copy)}"
        body = textwrap.fill(" ".join(hit.text.split()), width=100, initial_indent="   ", subsequent_indent="   ")
        blocks.append(f"{head}\n{body}")
    return printable("\n\n".join(blocks)) if blocks else "No passages."


def _where(citation: Citation) -> str:
    """ "USA Today · 2024-05-31 · file.txt", or just the file when outlet and date are unknown."""
    return " · ".join(one_line(part) for part in (citation.byline, citation.path) if part)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from .retriever import check_question

    question = check_question(args.question)
    filters = _filters(args)
    retriever = _open(settings, args.quiet)
    _warn_if_no_article_matches(retriever, filters)
    answer = retriever.ask(question, **filters)
    if args.json:
        print(dumps(answer.to_dict()))
    else:
        print(format_answer(answer))
    return 0


def format_answer(answer: Answer) -> str:
    """A cited answer for people; article text, titles and file names are made printable."""
    lines = [textwrap.fill(answer.text, width=100)]
    if answer.written:
        summary = answer.written_text()
        lines = [textwrap.fill(summary, width=100), "", "Quotes:", *lines]
    if answer.unsure and not answer.abstained:
        lines.insert(0, UNSURE_NOTE)
    if answer.abstained:
        if answer.closest:
            lines += ["", "Closest matches (not an answer):", format_hits(answer.closest)]
        return printable("\n".join(lines))
    lines += ["", "Sources:"]
    for source in answer.citations:
        c = source.citation
        lines.append(f"[{source.number}] {one_line(c.title)} ({_where(c)}, characters {c.start}-{c.end})")
        if c.url:
            lines.append(f"    {one_line(c.url)}")
        for other in source.also:
            lines.append(f"    also in {one_line(other.title)} ({_where(other)}, characters {other.start}-{other.end})")
    return printable("\n".join(lines))


def _index(args: argparse.Namespace, settings: Settings) -> int:
    if args.folder:
        settings = settings.with_overrides(corpus=args.folder)
    if args.part:
        return _index_part(args, settings)
    retriever = _open(settings, args.quiet)
    report = retriever.report
    sync = report.sync
    where = getattr(retriever.store, "folder", settings.index_path) if settings.store == "embedded" else \
        getattr(retriever.store, "where", settings.store)
    resumed = f", {sync.resumed} from an interrupted run" if sync.resumed else ""
    resplit = f", {sync.resplit} split again with their saved vectors" if sync.resplit else ""
    print(printable(f"Indexed {plural(report.articles, 'article')}, {plural(report.passages, 'passage')} in {where} "
                    f"({sync.embedded} embedded, {sync.reused} unchanged{_updated(sync)}{resumed}{resplit}, "
                    f"{sync.removed} removed{_sentences(sync)}; {report.seconds:.1f} s)"))
    for what, paths in (("Embedded", sync.changed_paths), ("Updated without embedding", sync.updated_paths),
                        ("Removed", sync.removed_paths)):
        if paths:  # which files changed, so a user can check that an edit was picked up (-v: all of them)
            shown = paths if args.verbose else paths[:FILES_LISTED]
            more = f" and {len(paths) - len(shown)} more (qa index -v lists them)" if len(shown) < len(paths) else ""
            print(one_line(f"{what}: {', '.join(shown)}{more}"))
    if report.skipped:  # each was warned about when it first appeared; -v lists them all again
        lines = sum(1 for s in report.skipped if " line " in s.path)  # bad lines of an export
        counted = " and ".join(plural(n, name) for n, name in ((len(report.skipped) - lines, "file"),
                                                                (lines, "export line")) if n)
        print(printable(f"Skipped {counted} without a readable article (qa index -v lists them)"))
    return 0


def _index_part(args: argparse.Namespace, settings: Settings) -> int:
    from .parts import index_part
    from .storeurl import Part

    part = Part.parse(args.part)
    with _progress(args.quiet, f"Embedding passages (part {part})") as progress:
        report = index_part(settings, part, progress=progress)
    print(printable(f"Indexed part {part}: {report.articles} of {report.total} articles in {report.store} "
                    f"({report.sync.embedded} embedded, {report.sync.reused} unchanged{_updated(report.sync)}, "
                    f"{report.sync.removed} removed{_sentences(report.sync)}; {report.seconds:.1f} s)"))
    return 0


def _updated(sync: SyncReport) -> str:
    """Edited articles whose sentences all kept their vectors (a date fixed in the front matter)."""
    return f", {sync.updated} updated without embedding" if sync.updated else ""


def _sentences(sync: SyncReport) -> str:
    """How many sentences went through the model: an edited article embeds only its changed sentences."""
    return f"; {plural(sync.sentences_embedded, 'sentence')} embedded" if sync.embedded else ""


def _add(args: argparse.Namespace, settings: Settings) -> int:
    from .adding import add_urls

    folder = Path(settings.corpus)
    report = add_urls(args.urls, folder)
    for line in report.failed:
        print(one_line(f"qa: warning: {line}"), file=sys.stderr)
    print(printable(f"Added {len(report.added)} article(s) to {folder}; {len(report.already)} already there, "
                    f"{len(report.failed)} failed"))
    for path in report.added:
        print(one_line(f"  {path.name}"))
    if report.added and not args.no_index:
        _index(argparse.Namespace(folder=None, quiet=args.quiet, part=None), settings)
    return 1 if report.failed and not report.added else 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from .answer import answer_figures
    from .evalsets import prepare_eval
    from .evaluation import DEFAULT_CONFIGS, format_report, hybrid_weights, report_to_json, run_eval
    from .reader import READERS

    if args.limit is not None and args.limit < 1:
        raise QAError("--limit must be at least 1")
    names = [n.strip() for n in args.readers.split(",") if n.strip()] if args.readers is not None else list(READERS)
    if not names:
        raise QAError(f"--readers names no reader: give one or more of {', '.join(READERS)}")
    unknown = [name for name in names if name not in READERS]
    if unknown:
        raise QAError(f"unknown reader {unknown[0]!r}: use one of {', '.join(READERS)}")
    if args.through_files and not args.squad:
        raise QAError("--through-files goes with --squad DIR")
    if args.json_path and not Path(args.json_path).expanduser().resolve().parent.is_dir():  # before the long run
        raise QAError(f"cannot write the report to {args.json_path}: its folder does not exist")
    with _progress(args.quiet, "Embedding passages") as progress:
        run = prepare_eval(settings, question_set=args.question_set, squad=args.squad, limit=args.limit,
                           progress=progress, through_files=args.through_files)
    unavailable: dict[str, str] = {}
    for name in dict.fromkeys([settings.reader, *names]):  # before the long part: a missing piece fails now
        try:
            run.answer_retriever.reader(name)
        except QAError as error:
            if name == settings.reader or (args.readers and name in names):  # asked for by name: it must work
                raise
            unavailable[name] = str(error)
    with _progress(args.quiet, "Evaluating") as progress:
        report = run_eval(
            run.retriever, run.questions, set_name=run.set_name, corpus=run.corpus,
            configs=DEFAULT_CONFIGS + hybrid_weights(0.5, 0.9),
            answer_scorer=lambda _retriever, _questions: answer_figures(run.answer_retriever, run.answer_questions,
                                                                        progress=progress),
            progress=(lambda _name, done, total: progress(done, total)) if progress else None)
    readers: dict[str, dict[str, float] | str] = {}
    for name in names:
        if name == settings.reader:
            readers[name] = dict(report.answer_figures)
            continue
        if name in unavailable:
            readers[name] = unavailable[name]
            continue
        with _progress(args.quiet, f"Answering ({name})") as progress:
            readers[name] = answer_figures(run.answer_retriever, run.answer_questions, progress=progress,
                                           reader=name)
    report = replace(report, readers=readers)
    print(printable(format_report(report)))
    if args.squad:
        print(f"  (answers: {run.answer_retriever.report.articles} paragraphs, every 4th of each article held out "
              "so that its questions are unanswerable but on topic)")
    if args.json_path:
        path = Path(args.json_path)
        try:
            path.write_text(json.dumps(report_to_json(report), indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        except OSError as error:
            raise QAError(f"cannot write the report to {path}: {error.strerror or error}") from None
        print(printable(f"Report written to {path}"), file=sys.stderr)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "chat": _chat, "ask": _ask, "search": _search, "index": _index, "eval": _eval, "add": _add,
}

if __name__ == "__main__":
    sys.exit(main())
