"""The eval runner: relevance rule, loaders, report formatting, and a run on the seed articles."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa import Citation, Retriever, Settings
from qa.articles import Article
from qa.embedding import Embedder
from qa.evalsets import (
    EvalError,
    EvalQuestion,
    SquadSet,
    answer_sample,
    hold_out,
    load_question_set,
    load_squad,
    prepare_eval,
)
from qa.evaluation import (
    DEFAULT_CONFIGS,
    ConfigResult,
    EvalReport,
    _RememberingEmbedder,
    format_report,
    hybrid_weights,
    is_relevant,
    relevant_passages,
    report_to_json,
    run_eval,
    with_scoring,
)
from qa.passages import split_passages

ENVOY = "000_3508494580fc35c5.txt"
CRITIC = "002_8157d92ee579a465.txt"


def question(answers: tuple[str, ...] = ("Qatar",), docs: tuple[str, ...] = ("a.txt",), **more) -> EvalQuestion:
    return EvalQuestion(more.pop("id", "q1"), more.pop("question", "Where?"), answers, docs, **more)


def cite(path: str = "a.txt", start: int = 0, end: int = 10) -> Citation:
    return Citation(path.rsplit(".", 1)[0], "Title", path, start, end)


# --- Relevance --------------------------------------------------------------------------------------------


def test_relevant_needs_a_listed_article_and_an_answer_string() -> None:
    q = question(answers=("Qatar", "Doha"))
    assert is_relevant(q, cite("a.txt"), "He flew to Doha on Monday.")
    assert not is_relevant(q, cite("a.txt"), "He flew to Oslo on Monday.")
    assert not is_relevant(q, cite("b.txt"), "He flew to Doha on Monday.")  # answer, but not a listed article
    assert not is_relevant(q, cite("a.txt"), "He flew to doha.")  # answers are exact, case-sensitive substrings


def test_relevant_matches_listed_doc_ids_too() -> None:
    q = question(docs=("squad-dev-a00-p001",))
    assert is_relevant(q, cite("squad-dev-a00-p001.txt"), "to Qatar")


def test_sole_passage_of_a_listed_article_is_relevant_without_the_answer() -> None:
    q = question(answers=("Broncos",))
    assert is_relevant(q, cite(), "The Denver team won.", sole_passage=True)
    assert not is_relevant(q, cite("b.txt"), "The Denver team won.", sole_passage=True)


def test_relevant_passages_over_a_catalog() -> None:
    catalog = {
        "a.txt": [(cite("a.txt", 0, 5), "Doha."), (cite("a.txt", 6, 12), "Oslo.")],
        "b.txt": [(cite("b.txt", 0, 5), "Doha.")],
        "c.txt": [(cite("c.txt", 0, 5), "Rome.")],
    }
    assert relevant_passages(question(("Doha",), ("a.txt",)), catalog) == {("a.txt", 0, 5)}
    assert relevant_passages(question(("Doha",), ("a.txt", "b.txt")), catalog) == {("a.txt", 0, 5), ("b.txt", 0, 5)}
    assert relevant_passages(question(("Doha",), ("c.txt",)), catalog) == {("c.txt", 0, 5)}  # sole passage
    assert relevant_passages(question(("Doha",), ("missing.txt",)), catalog) == set()


def test_followup_query_prepends_history() -> None:
    q = question(question="And what did he ask for?", history=("Who wrote to Biden?", "When?"))
    assert q.query == "Who wrote to Biden? When? And what did he ask for?"
    assert question(question="Where?").query == "Where?"
    assert not question(answers=(), docs=()).answerable


# --- Loaders ----------------------------------------------------------------------------------------------


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n\n", encoding="utf-8")
    return path


def test_load_question_set(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", [
        {"id": "q1", "question": "Where?", "answers": ["Doha"], "docs": [ENVOY], "kind": "direct"},
        {"id": "q2", "question": "Who?", "answers": [], "docs": [], "kind": "unanswerable"},
        {"id": "q3", "question": "And then?", "answers": ["x"], "docs": [ENVOY], "kind": "followup",
         "history": ["Where?"]},
    ])
    loaded = load_question_set(path)
    assert [q.id for q in loaded] == ["q1", "q2", "q3"]
    assert loaded[0] == EvalQuestion("q1", "Where?", ("Doha",), (ENVOY,), "direct")
    assert not loaded[1].answerable
    assert loaded[2].history == ("Where?",)
    assert [q.id for q in load_question_set(path, limit=2)] == ["q1", "q2"]


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "line 2 is not JSON"),
    ('{"id": "q2", "question": "", "answers": [], "docs": []}', "line 2: 'question'"),
    ('{"id": "q2", "question": "Why?", "answers": "Doha", "docs": []}', "line 2: 'answers' must be a list"),
    ('["q2"]', "line 2 is not a JSON object"),
    ('{"id": "q1", "question": "Why?", "answers": [], "docs": []}', r"line 2: the id 'q1' is used already \(line 1\)"),
    ('{"id": "q2", "question": "Why?", "answers": ["Doha"], "docs": []}', "line 2: it has answers but no docs"),
    ('{"id": "q2", "question": "Why?", "answers": [], "docs": ["a.txt"]}', "line 2: it has docs but no answers"),
])
def test_load_question_set_names_the_bad_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "q1", "question": "Where?", "answers": [], "docs": []}\n' + line + "\n")
    with pytest.raises(EvalError, match=message):
        load_question_set(path)


def test_load_question_set_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="cannot read"):
        load_question_set(tmp_path / "none.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(EvalError, match="no question"):
        load_question_set(tmp_path / "empty.jsonl")


def test_load_squad_keeps_whole_paragraphs(tmp_path: Path) -> None:
    first = "History\nThe club was founded in 1899 in Barcelona by Joan Gamper. It won the league in 1929."
    write_jsonl(tmp_path / "corpus.jsonl", [
        {"id": "squad-dev-a00-p000", "title": "FC Barcelona", "text": first},
        {"id": "squad-dev-a00-p001", "title": "FC Barcelona", "text": " Camp Nou opened in 1957. "},
    ])
    write_jsonl(tmp_path / "queries.jsonl", [
        {"id": "x1", "question": "Who founded it?", "answers": ["Joan Gamper"], "gold_ids": ["squad-dev-a00-p000"]},
        {"id": "x2", "question": "When?", "answers": ["1957"], "gold_ids": ["squad-dev-a00-p001"]},
    ])
    squad = load_squad(tmp_path)
    article = squad.articles[0]
    assert (article.doc_id, article.path, article.title) == ("squad-dev-a00-p000", "squad-dev-a00-p000.txt",
                                                           "FC Barcelona")
    assert article.text == first and article.lines == ((0, len(first)),)  # "History" is not dropped
    passages = split_passages(article, 10, 180)
    assert passages[0].text.startswith("History\nThe club") and passages[-1].end == len(first)
    assert squad.articles[1].lines == ((1, len(" Camp Nou opened in 1957.")),)
    assert squad.questions[0] == EvalQuestion("x1", "Who founded it?", ("Joan Gamper",), ("squad-dev-a00-p000",),
                                              "squad")
    limited = load_squad(tmp_path, limit=1)
    assert len(limited.questions) == 1 and len(limited.articles) == 2  # the corpus is never cut


def test_load_squad_refuses_an_empty_corpus_or_question_file(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "corpus.jsonl", [])
    write_jsonl(tmp_path / "queries.jsonl", [{"id": "x", "question": "Q?", "answers": ["a"], "gold_ids": ["p"]}])
    with pytest.raises(EvalError, match="corpus.jsonl holds nothing"):
        load_squad(tmp_path)
    write_jsonl(tmp_path / "corpus.jsonl", [{"id": "p", "title": "T", "text": "Some text."}])
    write_jsonl(tmp_path / "queries.jsonl", [])
    with pytest.raises(EvalError, match="queries.jsonl holds nothing"):
        load_squad(tmp_path)


def paragraph(doc_id: str, title: str, text: str) -> Article:
    return Article(doc_id, f"{doc_id}.txt", title, text, ((0, len(text)),), doc_id)


def test_hold_out_removes_every_fourth_paragraph_of_each_article() -> None:
    rivers = [paragraph(f"r{i}", "Rivers", f"River fact {i}.") for i in range(5)]
    peaks = [paragraph(f"m{i}", "Mountains", f"Peak fact {i}.") for i in range(4)]
    questions = (
        EvalQuestion("kept", "Fact 0?", ("fact 0",), ("r0",), "squad"),
        EvalQuestion("gone", "Fact 3?", ("fact 3",), ("r3",), "squad"),  # "fact 3" is nowhere else: unanswerable
        EvalQuestion("elsewhere", "Which river?", ("River",), ("r3",), "squad"),  # still answered by r0: dropped
        EvalQuestion("peak", "Peak 3?", ("Peak fact 3",), ("m3",), "squad"),
    )
    held = hold_out(SquadSet(tuple(rivers + peaks), questions))
    assert [a.doc_id for a in held.articles] == ["r0", "r1", "r2", "r4", "m0", "m1", "m2"]
    assert [(q.id, q.answerable, q.answers) for q in held.questions] == [
        ("kept", True, ("fact 0",)), ("gone", False, ()), ("peak", False, ())]


def test_answer_sample_takes_each_kind_evenly_spread() -> None:
    questions = [EvalQuestion(f"a{i}", "?", ("x",), ("d",)) for i in range(10)]
    questions += [EvalQuestion(f"u{i}", "?", (), ()) for i in range(3)]
    sample = answer_sample(questions, size=4)
    assert [q.id for q in sample] == ["a0", "a2", "a5", "a7", "u0", "u1", "u2"]


# --- Runner helpers ---------------------------------------------------------------------------------------


class CountingEmbedder:
    source = "fake"

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.encoded.extend(texts)
        return np.array([[float(len(text)), 1.0] for text in texts], dtype=np.float32).reshape(-1, 2)


def test_remembering_embedder_encodes_each_question_once() -> None:
    inner = CountingEmbedder()
    remembering = _RememberingEmbedder(inner)
    first = remembering.encode(["ab", "abc", "ab"])
    second = remembering.encode(["abc", "abcd"])
    assert inner.encoded == ["ab", "abc", "abcd"]
    assert first[:, 0].tolist() == [2.0, 3.0, 2.0] and second[:, 0].tolist() == [3.0, 4.0]
    assert remembering.encode([]).shape == (0, 2)
    assert remembering.source == "fake"  # everything else is the wrapped embedder's


# --- Reporting --------------------------------------------------------------------------------------------


def small_report() -> EvalReport:
    row = ConfigResult("hybrid", "hybrid", 0.4, 0.5, 0.75, 1.0, 1.0, 0.6667, 0.7, 12.34, 4)
    return EvalReport("eval/q.jsonl", "seeds", "all-MiniLM-L6-v2", 60, 180, 0.4, 5, 40, 6, 4, 2, 1, ("q9",),
                      (row, replace(row, name="bm25", method="bm25")))


def test_format_report_is_a_table_with_one_row_per_configuration() -> None:
    text = format_report(small_report())
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("configuration"))
    assert header.split() == ["configuration", "R@1", "R@3", "R@5", "R@10", "MRR@10", "nDCG@10", "ms/q"]
    assert "hybrid           0.500    0.750    1.000    1.000    0.667    0.700     12.3" in lines
    assert any(line.startswith("bm25 ") for line in lines)
    assert "6 questions: 4 scored, 2 unanswerable (excluded), 1 follow-ups" in text
    assert "q9" in text
    assert "answers:" not in text
    with_answers = format_report(replace(small_report(), answer_figures={"abstention": 0.25}))
    assert with_answers.splitlines()[-2:] == ["answers:", "  abstention: 0.250"]
    nothing_scored = format_report(replace(small_report(), scored=0)).splitlines()
    assert next(line for line in nothing_scored if line.startswith("hybrid")).split() == ["hybrid"] + ["-"] * 7


def test_report_to_json_records_settings_and_counts() -> None:
    data = report_to_json(small_report())
    json.dumps(data)  # JSON-ready
    assert data["settings"] == {"model": "all-MiniLM-L6-v2", "min_words": 60, "max_words": 180, "dense_weight": 0.4}
    assert data["set"] == "eval/q.jsonl" and data["corpus"] == "seeds"
    assert data["counts"]["scored"] == 4 and data["counts"]["unanswerable"] == 2
    assert data["results"][0]["R@1"] == 0.5 and data["results"][0]["median_ms"] == 12.34
    assert [r["name"] for r in data["results"]] == ["hybrid", "bm25"]


# --- Runs on the seed articles with the real model --------------------------------------------------------

SEED_QUESTIONS = [
    EvalQuestion("s1", "Which five countries is the special envoy visiting?", ("Qatar",), (ENVOY,), "direct"),
    EvalQuestion("s2", "Which US congressman wrote to Biden attacking the envoy's performance?",
                 ("Michael Waltz",), (CRITIC,), "synonym"),
    EvalQuestion("s3", "And what did he say should happen to him?", ("resign immediately",), (CRITIC,),
                 "followup", ("Which US congressman wrote to Biden attacking the envoy's performance?",)),
    EvalQuestion("s4", "How many American service members died over the course of the war?", (), (),
                 "unanswerable"),
    EvalQuestion("s5", "Which envoy?", ("no such phrase anywhere",), (ENVOY,), "broken"),
]


@pytest.mark.slow
def test_run_eval_on_seed_articles(seed_retriever: Retriever) -> None:
    report = run_eval(seed_retriever, SEED_QUESTIONS, configs=DEFAULT_CONFIGS + hybrid_weights(0.3),
                      set_name="inline", timed=2, answer_scorer=lambda r, qs: {"asked": float(len(qs))})
    assert [r.name for r in report.results] == ["bm25", "dense", "hybrid", "rrf", "hybrid w=0.3"]
    assert (report.questions, report.scored, report.unanswerable, report.followups) == (5, 4, 1, 1)
    assert report.without_relevant == ("s5",)  # its answer is in no passage: it counts as a miss
    assert report.articles == 5 and report.passages == len(seed_retriever)
    assert report.results[-1].dense_weight == 0.3
    assert report.results[2].dense_weight == report.dense_weight == seed_retriever.settings.dense_weight
    assert report.answer_figures == {"asked": 5.0}
    for result in report.results:
        assert 0.0 <= result.recall_at_1 <= result.recall_at_3 <= result.recall_at_5 <= result.recall_at_10 <= 0.75
        assert result.recall_at_1 <= result.mrr_at_10 <= result.recall_at_10
        assert result.timed == 2 and result.median_ms > 0
    hybrid = report.results[2]
    assert hybrid.recall_at_5 == 0.75  # s1-s3 found in the top 5; s5 cannot be found
    assert "hybrid w=0.3" in format_report(report)


@pytest.mark.slow
@pytest.mark.parametrize("index", [0, 1, 2])
def test_run_eval_agrees_with_search(seed_retriever: Retriever, index: int) -> None:
    q = SEED_QUESTIONS[index]
    hits = seed_retriever.search(q.query, k=10, method="hybrid")
    ranks = [h.rank for h in hits if h.citation.path in q.docs and any(a in h.text for a in q.answers)]
    assert ranks, "hybrid should find this known answer in the top 10"
    hybrid = run_eval(seed_retriever, [q], timed=1).results[2]
    assert hybrid.mrr_at_10 == pytest.approx(1 / ranks[0])
    assert hybrid.recall_at_1 == (1.0 if ranks[0] == 1 else 0.0)


@pytest.mark.slow
def test_with_scoring_shares_the_index(seed_retriever: Retriever) -> None:
    own = seed_retriever.settings.dense_weight
    variant = with_scoring(seed_retriever, dense_weight=0.9 if own != 0.9 else 0.1)
    assert variant.settings.dense_weight != own and seed_retriever.settings.dense_weight == own
    assert len(variant) == len(seed_retriever) and variant.embedder is seed_retriever.embedder
    assert variant.score_many(["envoy"], "hybrid").shape == seed_retriever.score_many(["envoy"], "hybrid").shape
    with pytest.raises(Exception, match="can vary"):
        with_scoring(seed_retriever, min_words=20)


@pytest.mark.slow
def test_prepare_eval_on_a_squad_folder(tmp_path: Path, embedder: Embedder) -> None:
    squad = tmp_path / "squad"
    squad.mkdir()
    write_jsonl(squad / "corpus.jsonl", [
        {"id": "p0", "title": "Rivers", "text": "The Danube flows through ten countries before the Black Sea."},
        {"id": "p1", "title": "Mountains", "text": "Mont Blanc is the highest mountain of the Alps."},
    ])
    write_jsonl(squad / "queries.jsonl", [
        {"id": "x1", "question": "Which sea does the Danube reach?", "answers": ["Black Sea"], "gold_ids": ["p0"]},
        {"id": "x2", "question": "What is the highest peak of the Alps?", "answers": ["Mont Blanc"],
         "gold_ids": ["p1"]},
    ])
    settings = Settings(cache_dir=tmp_path / "cache")
    run = prepare_eval(settings, squad=squad, limit=1, embedder=embedder)
    assert (tmp_path / "cache" / "eval" / "squad-index" / "manifest.json").is_file()
    assert len(run.retriever) == 2 and [q.id for q in run.questions] == ["x1"]
    assert (tmp_path / "cache" / "eval" / "squad-index-holdout" / "manifest.json").is_file()
    assert [q.id for q in run.answer_questions] == ["x1"]  # each article has one paragraph: none held out
    report = run_eval(run.retriever, run.questions, set_name=run.set_name, corpus=run.corpus, timed=1)
    assert report.results[0].recall_at_1 == 1.0 and report.corpus == f"{squad / 'corpus.jsonl'} (paragraphs)"


@pytest.mark.slow
def test_prepare_eval_on_a_question_set(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Envoy visits Doha\n\nThe envoy flew to Doha on Monday to meet negotiators.\n")
    questions = write_jsonl(tmp_path / "q.jsonl", [
        {"id": "q1", "question": "Where did the envoy fly?", "answers": ["Doha"], "docs": ["a.txt"]},
    ])
    settings = Settings(corpus=corpus, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    run = prepare_eval(settings, question_set=questions, embedder=embedder)
    assert run.set_name == str(questions) and run.corpus == str(corpus) and len(run.questions) == 1
    assert (tmp_path / "index" / "manifest.json").is_file()


def test_readers_are_reported_side_by_side_and_unavailable_ones_say_why() -> None:
    readers = {"extractive": {"abstained_unanswerable": 0.5, "answered_answerable": 0.9, "answer_holds_gold": 0.8,
                              "unsure_answers": 0.2, "unsure_wrong": 0.5, "sure_wrong": 0.125,
                              "median_seconds": 0.25, "format_errors": 0, "answerable_questions": 10,
                              "unanswerable_questions": 4},
               "strict": "reader 'strict' needs xllamacpp: install it with pip install -e '.[strict]' in the newsqa folder"}
    text = format_report(replace(small_report(), answer_figures={"abstention": 0.25}, readers=readers))
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("reader"))
    assert "abstained" in lines[header] and "format err" in lines[header]
    assert lines[header + 1].split() == ["extractive", "0.500", "0.900", "0.800", "-", "-", "0.200", "0.500", "0.125",
                                         "0.250", "0"]
    assert lines[header + 2].startswith("strict") and "not available: reader 'strict' needs xllamacpp" in text
    assert "(10)" in lines[header + 3] and "abstention: 0.250" not in text
    assert report_to_json(replace(small_report(), readers=readers))["readers"]["extractive"]["format_errors"] == 0
