"""Faults and bad input, tried as a real user or a hostile file would: one line, never a traceback, nothing lost.

Sections follow the items of the faults issue; the slow ones (real subprocesses, big inputs) are marked `slow`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa import Answer, AnswerCitation, AnswerSentence, Citation, Hit, QuestionError, cli
from qa.articles import parse_article
from qa.display import dumps, printable
from qa.index import SyncReport
from qa.question import MAX_QUESTION_CHARS, check_question
from qa.retriever import OpenReport

from .conftest import ROOT, SEEDS

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
    monkeypatch.setattr("qa.retriever.Embedder", lambda source: embedder)
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


def test_cli_text_output_shows_escapes_instead_of_sending_them() -> None:
    answer, _ = hostile_answer()
    hit = Hit(1, 1.0, HOSTILE_SENTENCE, answer.citations[0].citation)
    abstained = Answer("q", "The articles don't say.", (), (), True, 0.1, (hit,))
    for text in (cli.format_answer(answer), cli.format_hits([hit]), cli.format_answer(abstained)):
        assert not controls_in(text.replace("\n", ""))
        assert "␛[31m" in text and "[bold red]Markup[/]" in text


def test_cli_on_a_hostile_article(capsys, seeds_copy: Path, monkeypatch, embedder) -> None:
    monkeypatch.setattr("qa.retriever.Embedder", lambda source: embedder)
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
        app.chat.sources.open(1)
        await settle(pilot)
        assert isinstance(app.screen, ArticleScreen)
        shown = screen_text(app)
        assert not controls_in(shown.replace("\n", ""))
        assert "␛[2J␛[H screen clear" in shown and "␛]52;c;cHduZWQ=␇" in shown


# --- 5. file-system oddities --------------------------------------------------------------------------------

WALRUS = "Walrus parliament\n\nThe walrus parliament met in Lisbon to debate the herring quota, officials said.\n"


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
    assert not scan.skipped
    [warning] = [r.getMessage() for r in caplog.records if "not valid UTF-8" in r.getMessage()]
    assert "rename it" in warning and printable(warning).count("\ufffd") == 2


def test_index_and_cli_on_an_odd_folder(capsys, tmp_path: Path, monkeypatch) -> None:
    from .fakes import CountingEmbedder

    monkeypatch.setattr("qa.retriever.Embedder", lambda source: CountingEmbedder())
    monkeypatch.setattr("qa.retriever.locate_model", lambda name, cache: None)
    folder = odd_folder(tmp_path / "odd")
    code = cli.main(["index", str(folder), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0 and "Indexed 2 articles" in out
    assert err.count("\n") == 1 and "bad��name.txt: its name is not valid UTF-8" in err


def test_a_file_that_vanishes_or_changes_while_indexing(tmp_path: Path, monkeypatch) -> None:
    from qa import Retriever, articles

    from .fakes import CountingEmbedder

    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text(WALRUS.replace("walrus", name[0] * 5), encoding="utf-8")
    listed = articles._article_files
    monkeypatch.setattr(articles, "_article_files", lambda root: [*listed(root), root / "gone.txt"])
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


def test_a_case_only_rename(tmp_path: Path) -> None:
    from qa import Retriever

    from .fakes import CountingEmbedder

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "Walrus.txt").write_text(WALRUS, encoding="utf-8")
    (folder / "other.txt").write_text(WALRUS.replace("walrus", "otter"), encoding="utf-8")
    embedder = CountingEmbedder()
    Retriever.from_folder(folder, embedder=embedder)
    (folder / "Walrus.txt").rename(folder / "walrus.txt")
    renamed = Retriever.from_folder(folder, embedder=embedder)
    assert sorted(a.path for a in renamed.articles) == ["other.txt", "walrus.txt"]
    [hit] = renamed.search("walrus herring quota", k=1, method="bm25")
    assert hit.citation.path == "walrus.txt" and (folder / hit.citation.path).is_file()


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
    article = parse_article("long.txt", f"One line\n{prose}\n".encode())
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
