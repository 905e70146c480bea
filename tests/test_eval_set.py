"""Validate the retrieval evaluation set in eval/questions.jsonl against the seed articles."""

import json
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "questions.jsonl"
SEEDS = ROOT / "seeds"

KINDS = {"paraphrase", "synonym", "multi", "unanswerable", "followup", "direct"}
REQUIRED = {"id", "question", "answers", "docs", "kind"}
SPUN_DOC = "002_8157d92ee579a465.txt"

MIN_TOTAL = 70
MIN_PER_ARTICLE = 8
MIN_SPUN_ONLY = 10  # answered only in the spun article 002
MIN_MULTI = 6
MIN_UNANSWERABLE = 12
MIN_FOLLOWUP = 10


def _load_lines():
    return QUESTIONS.read_text(encoding="utf-8").splitlines()


def _load_items():
    return [json.loads(line) for line in _load_lines() if line.strip()]


@pytest.fixture(scope="module")
def items():
    return _load_items()


@pytest.fixture(scope="module")
def articles():
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}
    if not texts:
        pytest.fail(f"no seed articles found in {SEEDS}")
    return texts


def test_every_line_parses_as_object():
    lines = _load_lines()
    assert lines, "questions.jsonl is empty"
    for n, line in enumerate(lines, 1):
        assert line.strip(), f"line {n} is blank"
        obj = json.loads(line)
        assert isinstance(obj, dict), f"line {n} is not a JSON object"


def test_required_keys_and_types(items):
    for item in items:
        missing = REQUIRED - item.keys()
        assert not missing, f"{item.get('id')}: missing keys {missing}"
        assert isinstance(item["id"], str) and item["id"].strip()
        assert isinstance(item["question"], str) and item["question"].strip(), item["id"]
        assert isinstance(item["answers"], list), item["id"]
        assert all(isinstance(a, str) and a.strip() for a in item["answers"]), item["id"]
        assert isinstance(item["docs"], list), item["id"]
        assert all(isinstance(d, str) for d in item["docs"]), item["id"]
        assert len(set(item["answers"])) == len(item["answers"]), f"{item['id']}: duplicate answers"
        assert len(set(item["docs"])) == len(item["docs"]), f"{item['id']}: duplicate docs"


def test_ids_unique(items):
    counts = Counter(item["id"] for item in items)
    dupes = [i for i, c in counts.items() if c > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_questions_unique(items):
    counts = Counter(item["question"] for item in items)
    dupes = [q for q, c in counts.items() if c > 1]
    assert not dupes, f"duplicate questions: {dupes}"


def test_kind_valid(items):
    for item in items:
        assert item["kind"] in KINDS, f"{item['id']}: bad kind {item['kind']!r}"


def test_docs_exist(items, articles):
    for item in items:
        for doc in item["docs"]:
            assert doc in articles, f"{item['id']}: unknown doc {doc!r}"


def test_answers_are_exact_substrings_of_a_listed_doc(items, articles):
    for item in items:
        for answer in item["answers"]:
            assert any(answer in articles[d] for d in item["docs"] if d in articles), (
                f"{item['id']}: answer {answer!r} not found verbatim in {item['docs']}"
            )


def test_every_listed_doc_contains_an_answer(items, articles):
    for item in items:
        for doc in item["docs"]:
            assert any(a in articles.get(doc, "") for a in item["answers"]), (
                f"{item['id']}: no answer string occurs in listed doc {doc}"
            )


def test_unanswerable_items_are_empty(items):
    for item in items:
        if item["kind"] == "unanswerable":
            assert item["answers"] == [] and item["docs"] == [], item["id"]
        else:
            assert item["answers"] and item["docs"], f"{item['id']}: answerable item needs answers and docs"


def test_unanswerable_items_have_no_history(items):
    for item in items:
        if item["kind"] != "followup":
            assert "history" not in item, f"{item['id']}: only follow-ups carry history"


def test_multi_items_span_several_docs(items):
    for item in items:
        if item["kind"] == "multi":
            assert len(item["docs"]) >= 2, item["id"]


def test_followups_have_history_that_is_asked_elsewhere(items):
    questions = {item["question"] for item in items}
    for item in items:
        if item["kind"] != "followup":
            continue
        history = item.get("history")
        assert isinstance(history, list) and history, f"{item['id']}: follow-up needs a non-empty history"
        assert all(isinstance(h, str) and h.strip() for h in history), item["id"]
        assert history[0] in questions, f"{item['id']}: first history question is not its own line"
        assert item["question"] not in history, item["id"]


def test_minimum_counts(items):
    kinds = Counter(item["kind"] for item in items)
    assert len(items) >= MIN_TOTAL
    assert kinds["multi"] >= MIN_MULTI
    assert kinds["unanswerable"] >= MIN_UNANSWERABLE
    assert kinds["followup"] >= MIN_FOLLOWUP
    spun_only = [i for i in items if i["kind"] == "synonym" and i["docs"] == [SPUN_DOC]]
    assert len(spun_only) >= MIN_SPUN_ONLY


def test_multi_doc_items_count(items):
    assert sum(1 for i in items if len(i["docs"]) >= 2) >= MIN_MULTI


def test_every_article_covered(items, articles):
    per_doc = Counter(doc for item in items for doc in item["docs"])
    for name in articles:
        assert per_doc[name] >= MIN_PER_ARTICLE, f"{name} is the gold doc of only {per_doc[name]} questions"
