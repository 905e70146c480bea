"""SQuAD read through files, as articles are: the same paragraphs, titles and gold ids as the loader gives."""

from __future__ import annotations

import json
from pathlib import Path

from qa import Settings
from qa.evalsets import load_squad, prepare_eval, write_paragraph_files

from .fakes import CountingEmbedder

PARAGRAPHS = [
    ("squad-dev-a00-p000", "Super Bowl 50", "Super Bowl 50 was an American football game to determine the champion "
     "of the National Football League for the 2015 season. The Denver Broncos defeated the Carolina Panthers."),
    ("squad-dev-a00-p001", "Super Bowl 50", "The game was played on February 7, 2016, at Levi's Stadium in the San "
     "Francisco Bay Area at Santa Clara, California."),
    ("squad-dev-a01-p000", "Warsaw", "Warsaw is the capital and largest city of Poland. It stands on the Vistula "
     "River in east-central Poland, roughly 260 kilometres from the Baltic Sea."),
]


def squad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "squad"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"id": i, "title": t, "text": x}) + "\n"
                                                 for i, t, x in PARAGRAPHS))
    questions = [{"id": "q1", "question": "Who won Super Bowl 50?", "answers": ["Denver Broncos"],
                  "gold_ids": ["squad-dev-a00-p000"]},
                 {"id": "q2", "question": "Where was the game played?", "answers": ["Levi's Stadium"],
                  "gold_ids": ["squad-dev-a00-p001"]},
                 {"id": "q3", "question": "Which river is Warsaw on?", "answers": ["Vistula"],
                  "gold_ids": ["squad-dev-a01-p000"]}]
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    return folder


def test_paragraph_files_keep_titles_and_ids(tmp_path: Path) -> None:
    data = load_squad(squad_folder(tmp_path))
    files = tmp_path / "files"
    write_paragraph_files(data.articles, files)
    assert (files / "squad-dev-a01-p000.txt").read_text().startswith("Warsaw\n\nWarsaw is the capital")
    (files / "stale.txt").write_text("Old\n\nA paragraph no longer in the set.\n")
    write_paragraph_files(data.articles, files)
    assert sorted(p.name for p in files.iterdir()) == [f"{i}.txt" for i, _, _ in PARAGRAPHS]


def test_eval_through_files_reads_what_the_loader_reads(tmp_path: Path) -> None:
    folder = squad_folder(tmp_path)
    settings = Settings(cache_dir=tmp_path / "cache")
    run = prepare_eval(settings, squad=folder, through_files=True, embedder=CountingEmbedder())
    loaded = {a.doc_id: a for a in load_squad(folder).articles}
    read = {a.doc_id: a for a in run.retriever.articles}
    assert read.keys() == loaded.keys()
    assert all(read[doc].title == loaded[doc].title for doc in read)  # "Super Bowl 50", "Warsaw": never dropped
    assert all(loaded[doc].text.strip() in read[doc].text for doc in read)
    assert (tmp_path / "cache" / "eval" / "squad-files").is_dir() and "paragraph files" in run.corpus
