"""Score every question of the seed set and of held-out SQuAD with a reader and a reading model's judge.

    python bench/measure_judge.py [--squad-size 100] [--out ~/.cache/newsqa/judge-scores.jsonl]

Each line of the output holds one question: its set, whether it is answerable, the reader's learned
probability that the articles answer it, the evidence the reader chose, the judge's probability that the
evidence answers it, seconds the judge took, and whether the evidence holds a gold answer. Lines already in
the output (same model and prompt: question, evidence and wording) are kept, so a rerun only judges what
changed; each run writes every question again with the reader's current probability and its run's time, and
fit_judge reads the last run. Load time and peak RSS go to the log. `bench/fit_judge.py` fits the judge's
threshold and the combination from this file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCORES = Path.home() / ".cache" / "newsqa" / "judge-scores.jsonl"  # what measure_judge writes, fit_judge reads
sys.path.insert(0, str(ROOT))

from train_reader import TEST_AT, TEST_EVERY, article_index  # noqa: E402  (bench/, beside this script)

from qa import Settings  # noqa: E402
from qa.evalsets import answer_sample, hold_out, load_question_set, load_squad  # noqa: E402
from qa.llm import local_backend, local_model  # noqa: E402
from qa.llm.prompts import judge_messages  # noqa: E402
from qa.reader.params import seed_split  # noqa: E402
from qa.reader.pipeline import Reader, evidence  # noqa: E402
from qa.retriever import Retriever  # noqa: E402

log = logging.getLogger("measure_judge")
SQUAD = ROOT.parent / "shared" / "data" / "squad11_dev"  # ../shared beside the checkout


def evidence_of(reader: Reader, retriever, question: str, history: tuple[str, ...]) -> tuple[float, list[str]]:
    """(learned probability, the chosen sentences as the judge reads them) from the reader on this checkout."""
    scoring = reader.score(retriever, question, list(history))
    if not scoring.pool.candidates:
        return scoring.probability, []
    return scoring.probability, evidence(scoring.pool, reader.choose(question, scoring))


def verdict_key(model: str, question: str, chosen: list[str]) -> str:
    """What a kept verdict stands for: the model and the exact prompt it read, so a changed prompt is judged
    again instead of reusing verdicts given to another wording."""
    prompt = judge_messages(question, chosen)
    return hashlib.sha256(json.dumps([model, prompt]).encode()).hexdigest()[:16]


def judged_sets(settings: Settings, squad_size: int, seed_every: int = 1) -> tuple[list, dict[str, str]]:
    """[(set name, its retriever, its questions)] for the seed set's and held-out SQuAD's test splits, and each
    SQuAD question's article title (its group for out-of-fold fits)."""
    seed = Retriever.from_settings(settings)
    # Only questions the reader was not fitted on (its test splits): on the others its probability is
    # overconfident, and a combination fitted on them would trust it too much.
    seed_questions = [q for q in load_question_set(ROOT / "eval" / "questions.jsonl")
                      if seed_split(q.id, q.docs) == "test"]
    answerable_seed = [q for q in seed_questions if q.answerable][::seed_every]
    sets = [("seed", seed, [q for q in seed_questions if not q.answerable or q in answerable_seed])]
    full = load_squad(SQUAD)
    titles = {a.doc_id: a.title for a in full.articles}
    title_of = {q.id: titles.get(q.docs[0], q.id) for q in full.questions if q.docs}
    article_of = {q.id: article_index(q.docs[0]) for q in full.questions if q.docs}
    data = hold_out(full)
    index_dir = settings.cache_dir / "eval" / "squad11_dev-index-holdout"
    held = Retriever.from_articles(data.articles, settings.with_overrides(index_dir=index_dir), embedder=seed.embedder)
    sample = answer_sample([q for q in data.questions if article_of[q.id] % TEST_EVERY == TEST_AT], squad_size)
    answerable, unanswerable = [q for q in sample if q.answerable], [q for q in sample if not q.answerable]
    # Alternate the two kinds, so a run stopped early still has both.
    sets.append(("squad", held, [q for pair in zip(answerable, unanswerable) for q in pair]))
    return sets, title_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad-size", type=int, default=100, help="answerable and as many held-out questions")
    parser.add_argument("--seed-every", type=int, default=1,
                        help="judge every Nth answerable seed question (all unanswerable ones always)")
    parser.add_argument("--out", type=Path, default=SCORES)
    parser.add_argument("--llm-model", default="", help="local model (default qwen2.5-coder-1.5b)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings = Settings.from_env(llm_model=args.llm_model or None)

    done: dict[str, dict] = {}
    if args.out.is_file():
        for line in args.out.read_text().splitlines():
            row = json.loads(line)
            done[row["key"]] = row

    backend = local_backend(settings)
    start = time.perf_counter()
    backend.load()
    log.info("model load %.1f s, peak RSS %.0f MB", time.perf_counter() - start,
             resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    model = local_model(settings)
    reader = Reader()

    sets, title_of = judged_sets(settings, args.squad_size, args.seed_every)

    rows: list[dict] = []
    times: list[float] = []
    run = time.strftime("%Y-%m-%dT%H:%M:%S")  # every question of this run is written with it; fit_judge reads the last run
    with args.out.open("a") as out:
        for set_name, retriever, questions in sets:
            for number, q in enumerate(questions, 1):
                learned, chosen = evidence_of(reader, retriever, q.question, q.history)
                key = verdict_key(backend.name, q.question, chosen)
                row = done.get(key)
                if row is not None:  # judged before: the verdict stands, the reader's probability may not
                    row = {**row, "learned": learned, "run": run}
                    out.write(json.dumps(row) + "\n")
                else:
                    started = time.perf_counter()
                    judged = model.judge(q.question, chosen) if chosen else 0.0
                    seconds = time.perf_counter() - started
                    times.append(seconds)
                    group = title_of.get(q.id, q.id) if set_name == "squad" else q.id
                    row = {"key": key, "set": set_name, "id": q.id, "kind": q.kind, "group": group,
                           "answerable": q.answerable, "reader": reader.name, "model": backend.name,
                           "learned": learned, "judge": judged, "seconds": seconds, "evidence": chosen,
                           "gold_in_evidence": any(a in " ".join(chosen) for a in q.answers), "run": run}
                    out.write(json.dumps(row) + "\n")
                    out.flush()
                rows.append(row)
                if number % 10 == 0:
                    log.info("%s %d/%d, median judge %.2f s", set_name, number, len(questions),
                             sorted(times)[len(times) // 2] if times else 0.0)
    log.info("done: %d questions, %d judged now, format errors %d, peak RSS %.0f MB", len(rows), len(times),
             model.format_errors, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


if __name__ == "__main__":
    main()
