"""The `qa` command end to end: output, JSON, and one-line errors with non-zero exits."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from qa import cli
from qa.embedding import Embedder

from .conftest import SEEDS


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for article in SEEDS.glob("*.txt"):
        shutil.copy(article, folder / article.name)
    return folder


@pytest.fixture(autouse=True)
def shared_model(monkeypatch, embedder: Embedder) -> None:
    """Commands run in-process share the session's loaded model instead of loading their own."""
    monkeypatch.setattr("qa.retriever.Embedder", lambda source, device="cpu": embedder)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_search_prints_ranked_passages(capsys, corpus: Path) -> None:
    code, out, err = run(capsys, "search", "Who is the news editor of Antiwar.com?", "--corpus", str(corpus), "-k", "2")
    assert code == 0, err
    assert out.startswith("1. US Envoy Deployed to Negotiate an End to Taliban Offensive")
    assert "001_f1fe2993f030a849.txt, characters" in out and "Dave DeCamp" in out
    assert "\n2. " in out


def test_options_before_the_command_count_and_verbose_logs_what_happens(capsys, corpus: Path) -> None:
    (corpus.parent / "other").mkdir()
    (corpus.parent / "other" / "a.txt").write_text("Harbour bridge\n\nThe harbour bridge stays closed for repairs.\n")
    code, out, err = run(capsys, "--corpus", str(corpus), "-v", "search", "Rawalpindi army headquarters", "-k", "1")
    assert code == 0 and out.startswith("1. "), err
    assert f"opened {corpus / '.qa-index'}: 5 articles" in err and "qa: info:" in err
    # Given again after the command's name, an option wins.
    code, out, err = run(capsys, "--corpus", str(corpus), "search", "--corpus", str(corpus.parent / "other"),
                         "bridge", "-k", "1")
    assert code == 0 and "a.txt" in out
    # Indexing with stderr in a file or pipe reports plain progress lines instead of a bar.
    assert err.splitlines() == ["qa: Embedding passages: 0/1", "qa: Embedding passages: 1/1"]


def test_one_article_is_counted_in_the_singular(capsys, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Harbour bridge\n\nThe harbour bridge stays closed for repairs.\n")
    code, out, _ = run(capsys, "index", str(tmp_path), "--quiet")
    assert code == 0 and out.startswith("Indexed 1 article, 1 passage in ")


def test_search_json(capsys, corpus: Path) -> None:
    code, out, _ = run(capsys, "search", "Rawalpindi army headquarters", "--corpus", str(corpus), "--json", "-k", "3")
    hits = json.loads(out)
    assert code == 0 and [h["rank"] for h in hits] == [1, 2, 3]
    first = hits[0]["citation"]
    text = (corpus / first["path"]).read_text()
    assert text[first["start"] : first["end"]] == hits[0]["text"]


def test_index_reports_then_reuses(capsys, corpus: Path) -> None:
    code, out, _ = run(capsys, "index", str(corpus))
    assert code == 0 and "Indexed 5 articles" in out and "5 embedded" in out
    assert "\nEmbedded: 000_3508494580fc35c5.txt, 001_f1fe2993f030a849.txt, " in out
    code, out, _ = run(capsys, "index", str(corpus), "--quiet")
    assert code == 0 and "0 embedded, 5 unchanged" in out and "Embedded:" not in out and "Removed:" not in out
    (corpus / "002_8157d92ee579a465.txt").unlink()
    code, out, _ = run(capsys, "index", str(corpus), "--quiet")
    assert code == 0 and out.splitlines()[1:] == ["Removed: 002_8157d92ee579a465.txt"]
    # a date added above the text changes no sentence: the article is updated, nothing is embedded
    edited = corpus / "003_9623a98c6a797b2a.txt"
    edited.write_text("---\ndate: 2021-02-03\n---\n" + edited.read_text())
    code, out, _ = run(capsys, "index", str(corpus), "--quiet")
    assert code == 0 and "0 embedded, 3 unchanged, 1 updated without embedding, 0 removed;" in out
    assert out.splitlines()[1:] == [f"Updated without embedding: {edited.name}"]
    (corpus / "new.txt").write_text("Harbour bridge\n\nThe harbour bridge stays closed for repairs.\n")
    code, out, _ = run(capsys, "index", str(corpus), "--quiet")
    assert code == 0 and "(1 embedded, 4 unchanged, 0 removed; 2 sentences embedded;" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "   "], "the question is empty"),
        (["search", "x" * 3000], "characters long"),
        (["search", "envoy", "--corpus", "/definitely/not/here"], "does not exist"),
        (["search", "envoy", "--model", "/definitely/not/a/model"], "does not exist"),
        (["search", "envoy", "-k", "0"], "-k must be at least 1"),
        (["index", "--device", "gpu0"], "unknown device 'gpu0'"),
        (["index", "--batch-size", "0"], "batch_size must be at least 1"),
    ],
)
def test_bad_input_is_one_line_on_stderr(capsys, corpus: Path, argv, message) -> None:
    if "--corpus" not in argv:
        argv = [*argv, "--corpus", str(corpus)]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("qa: error: ") and message in err


def test_folder_without_articles(capsys, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x00")
    code, _, err = run(capsys, "search", "envoy", "--corpus", str(tmp_path))
    assert code == 2 and "no readable article" in err and "empty.txt is empty" in err


def test_unreadable_files_are_skipped_with_a_warning(capsys, corpus: Path) -> None:
    (corpus / "broken.txt").write_bytes("Caf\xe9".encode("latin-1"))
    code, out, err = run(capsys, "search", "envoy", "--corpus", str(corpus), "-k", "1")
    assert code == 0 and out.startswith("1. ")
    assert "skipped broken.txt: is not UTF-8" in err


def test_a_skipped_file_is_warned_about_once_and_counted_by_index(capsys, corpus: Path) -> None:
    (corpus / "broken.txt").write_bytes("Caf\xe9".encode("latin-1"))
    assert "skipped broken.txt" in run(capsys, "search", "envoy", "--corpus", str(corpus), "-k", "1")[2]
    code, _, err = run(capsys, "search", "envoy", "--corpus", str(corpus), "-k", "1")
    assert code == 0 and "skipped" not in err  # told on the first open; `qa ask` after `qa ask` stays quiet
    code, out, err = run(capsys, "index", "--corpus", str(corpus))
    assert code == 0 and "Skipped 1 file without a readable article" in out and "skipped" not in err
    assert "skipped broken.txt (as before): is not UTF-8" in run(capsys, "index", "-v", "--corpus", str(corpus))[2]
    (corpus / "empty.txt").write_text("")
    err = run(capsys, "search", "envoy", "--corpus", str(corpus), "-k", "1")[2]
    assert "skipped empty.txt: is empty" in err and "broken.txt" not in err  # only the new one


def test_quiet_hides_warnings_but_not_errors(capsys, corpus: Path) -> None:
    (corpus / "broken.txt").write_bytes("Caf\xe9".encode("latin-1"))
    code, out, err = run(capsys, "search", "envoy", "--corpus", str(corpus), "-k", "1", "--outlet", "nosuch", "-q")
    assert code == 0 and err == ""
    code, _, err = run(capsys, "search", "", "--corpus", str(corpus), "-q")
    assert code == 2 and err.startswith("qa: error:")
    err = run(capsys, "search", "envoy", "--corpus", str(corpus), "-k", "1")[2]
    assert "skipped broken.txt" in err  # unseen under -q: still told the first time warnings show


def test_the_installed_command_runs_in_a_fresh_process(corpus: Path) -> None:
    environment = {**os.environ, "QA_CORPUS": str(corpus)}
    result = subprocess.run([sys.executable, "-m", "qa.cli", "search", "Who freed Baradar from prison?", "-k", "1"],
                            capture_output=True, text=True, env=environment, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Baradar" in result.stdout
    assert "Traceback" not in result.stderr


def test_ask_prints_a_cited_answer_and_its_sources(capsys, corpus: Path) -> None:
    code, out, err = run(capsys, "ask", "Who freed Baradar from prison?", "--corpus", str(corpus))
    assert code == 0, err
    answer, sources = out.split("\nSources:\n")
    assert "Pakistan freed Baradar from prison in 2018" in answer and "[1]" in answer
    assert sources.startswith("[1] U.S. Envoy In Pakistan") and "004_52d8e2bfa1f724e8.txt, characters" in sources


def test_ask_json_quotes_exact_spans(capsys, corpus: Path) -> None:
    code, out, _ = run(capsys, "ask", "Who freed Baradar from prison?", "--corpus", str(corpus), "--json")
    answer = json.loads(out)
    assert code == 0 and not answer["abstained"] and answer["citations"][0]["number"] == 1
    for cited in answer["citations"]:  # sentences that follow each other in a passage share one citation
        texts = [s["text"] for s in answer["sentences"] if s["number"] == cited["number"]]
        span = cited["citation"]
        quoted = (corpus / span["path"]).read_text()[span["start"] : span["end"]]
        assert quoted.startswith(texts[0]) and quoted.endswith(texts[-1])
    assert answer["unsure"] is (answer["confidence"] < 0.6)


@pytest.fixture
def fetched_export(tmp_path: Path) -> Path:
    """Two articles of an export: one dated only by the day it was fetched, one by its own date field."""
    rows = [{"id": "a", "title": "Envoy arrives in Doha for talks", "outlet": "The Week", "retrieved": "2023-01-28",
             "url": "https://www.theweek.co.uk/news/959000/envoy",
             "text": "The envoy arrived in Doha on Monday for talks with the Taliban. Officials said the talks "
                     "would last a week."},
            {"id": "b", "title": "Dock workers return", "outlet": "USA Today", "date": "2023-01-02",
             "retrieved": "2023-01-28", "url": "https://www.usatoday.com/story/news/2023/01/02/dock/",
             "text": "Dock workers returned to the port on Tuesday after the union accepted a pay deal."}]
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_a_date_known_only_from_the_fetch_is_marked_in_text_and_json(capsys, fetched_export: Path) -> None:
    argv = ("search", "envoy Doha dock workers", "--corpus", str(fetched_export), "--method", "bm25", "-k", "2")
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert "The Week · fetched 2023-01-28 · export.jsonl#a, characters" in out
    assert "USA Today · 2023-01-02 · export.jsonl#b, characters" in out and "fetched 2023-01-02" not in out
    code, out, err = run(capsys, *argv, "--json")
    kinds = {hit["citation"]["path"]: (hit["citation"]["date"], hit["citation"]["date_kind"]) for hit in json.loads(out)}
    assert kinds == {"export.jsonl#a": ("2023-01-28", "fetched"), "export.jsonl#b": ("2023-01-02", "")}
    code, out, err = run(capsys, "ask", "Where did the envoy arrive on Monday?", "--corpus", str(fetched_export))
    assert code == 0, err
    assert "[1] Envoy arrives in Doha for talks (The Week · fetched 2023-01-28 · export.jsonl#a, characters" in out


def test_an_also_in_line_marks_a_copy_dated_by_its_fetch() -> None:
    from qa import Answer, AnswerCitation, AnswerSentence, Citation
    from qa.cli import format_answer

    cited = Citation("a", "Bridge", "a.txt", 0, 20, "2023-01-02", "USA Today")
    copy = Citation("b", "Bridge", "b.txt", 5, 25, "2023-01-28", "The Week", date_kind="fetched")
    answer = Answer("What will it cost?", "It costs 40 million. [1]", (AnswerSentence("It costs 40 million.", 1),),
                    (AnswerCitation(1, cited, cited, (copy,)),), False, 0.9)
    assert "[1] Bridge (USA Today · 2023-01-02 · a.txt, characters 0-20)\n" \
           "    also in Bridge (The Week · fetched 2023-01-28 · b.txt, characters 5-25)" in format_answer(answer)


def test_an_unsure_answer_says_so_first() -> None:
    from qa import Answer, AnswerCitation, AnswerSentence, Citation
    from qa.cli import format_answer
    from qa.records import UNSURE_NOTE

    cited = Citation("a", "Bridge", "a.txt", 0, 20)
    answer = Answer("What will it cost?", "It costs 40 million. [1]", (AnswerSentence("It costs 40 million.", 1),),
                    (AnswerCitation(1, cited, cited),), False, 0.45, unsure=True)
    assert format_answer(answer).startswith(f"{UNSURE_NOTE}\nIt costs 40 million. [1]\n")
    assert format_answer(replace(answer, unsure=False)).startswith("It costs 40 million. [1]")


def test_ask_abstains_on_an_unrelated_question(capsys, corpus: Path) -> None:
    code, out, _ = run(capsys, "ask", "What is a good recipe for sourdough bread?", "--corpus", str(corpus))
    assert code == 0
    assert out.startswith("The articles don't say.") and "Closest matches (not an answer):" in out


def test_eval_reports_every_configuration_and_writes_json(capsys, corpus: Path, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    code, out, err = run(capsys, "eval", "--corpus", str(corpus), "--limit", "12", "--readers", "extractive",
                         "--json", str(report_path))
    assert code == 0, err
    for row in ("bm25", "dense", "hybrid", "rrf", "hybrid w=0.5"):
        assert f"\n{row} " in out
    assert "\nextractive " in out and "abstained" in out and "format err" in out
    report = json.loads(report_path.read_text())
    assert report["settings"]["model"] == "all-MiniLM-L6-v2" and report["counts"]["questions"] == 12
    assert set(report["readers"]) == {"extractive"} and "answered_answerable" in report["readers"]["extractive"]


def test_eval_names_an_unknown_reader(capsys, corpus: Path) -> None:
    code, _, err = run(capsys, "eval", "--corpus", str(corpus), "--limit", "2", "--readers", "oracle")
    assert code == 2 and "unknown reader 'oracle'" in err


def test_eval_refuses_a_reader_it_cannot_build_before_evaluating(capsys, corpus: Path, monkeypatch) -> None:
    import qa.evaluation

    monkeypatch.setattr(qa.evaluation, "run_eval", lambda *a, **k: pytest.fail("evaluated before the check"))
    code, _, err = run(capsys, "eval", "--corpus", str(corpus), "--limit", "2", "--readers", "server", "--quiet")
    assert code == 2 and err.startswith("qa: error: the server reader needs a model server")


def test_eval_checks_its_readers_and_report_path_before_evaluating(capsys, corpus: Path, monkeypatch) -> None:
    import qa.evalsets

    monkeypatch.setattr(qa.evalsets, "prepare_eval", lambda *a, **k: pytest.fail("evaluated before the check"))
    code, _, err = run(capsys, "eval", "--corpus", str(corpus), "--readers", " , ")
    assert code == 2 and "--readers names no reader" in err
    code, _, err = run(capsys, "eval", "--corpus", str(corpus), "--json", "/no/such/folder/report.json")
    assert code == 2 and "cannot write the report to /no/such/folder/report.json: its folder does not exist" in err


def test_eval_rejects_a_missing_question_set(capsys, corpus: Path) -> None:
    code, _, err = run(capsys, "eval", "--corpus", str(corpus), "--set", "/no/such/set.jsonl")
    assert code == 2 and err.startswith("qa: error:") and "/no/such/set.jsonl" in err


def test_a_gpu_this_machine_lacks_is_a_one_line_error(capsys, tmp_path: Path) -> None:
    """`--device cuda` where torch sees no CUDA GPU says so (the real embedder, no model is loaded)."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    from qa.embedding import locate_model
    from qa.errors import DeviceError
    from qa.settings import Settings

    settings = Settings()
    with pytest.raises(DeviceError, match="torch sees no such CUDA GPU"):
        Embedder(locate_model(settings.model, settings.cache_dir), "cuda:1").load()


def test_an_interrupt_a_library_swallows_still_ends_the_command_with_130(monkeypatch, capsys) -> None:
    import signal

    def swallowing(args, settings) -> int:
        with contextlib.suppress(BaseException):  # as a careless library might, around an import
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs as soon as this returns
        return 0

    monkeypatch.setitem(cli.COMMANDS, "search", swallowing)
    before = signal.getsignal(signal.SIGINT)
    assert cli.main(["search", "envoy"]) == 130
    assert capsys.readouterr().err == "qa: interrupted\n"
    assert signal.getsignal(signal.SIGINT) is before  # restored for whoever called main
