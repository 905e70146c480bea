"""Ask the judge several yes/no probes about the same question and quotes, sharing one cached prompt prefix.

    python bench/probe_judge.py [--squad-size 100] [--out ~/.cache/newsqa/judge-probes.jsonl]
    python bench/probe_judge.py --fit [--out ...]

Every probe's prompt is the shipped judge prompt up to the closing quote fence, then its own last line, so
llama.cpp computes the system message, question and quotes once and each further probe costs only its last
line. The run writes, per question (the test splits of the seed set and held-out SQuAD, as measure_judge
picks them), P(yes) of every probe and the seconds each took. `--fit` prints each probe's AUC and, out of fold
(two folds by question group), how many unanswerable questions a logistic fit of the probes' logits declines
where both sets still answer 0.9 of their answerable questions, against the shipped probe alone.
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fit_judge import auc, figures, fit_logistic, logit, pick_threshold  # noqa: E402  (bench/, beside this script)
from measure_judge import evidence_of, judged_sets  # noqa: E402

from qa import Settings  # noqa: E402
from qa.llm import local_backend  # noqa: E402
from qa.llm.model import TOP_LOGPROBS, verdict_probability  # noqa: E402
from qa.llm.prompts import JUDGE_SYSTEM, clean, fenced  # noqa: E402
from qa.reader.pipeline import Reader  # noqa: E402

log = logging.getLogger("probe_judge")
OUT = Path.home() / ".cache" / "newsqa" / "judge-probes.jsonl"

# The first is the shipped judge's last line; each probe ends asking for yes or no.
PROBES = {
    "answer": 'Do the quotes answer "{q}"? yes or no',
    "exact": 'Do the quotes state exactly what "{q}" asks for (the person, number, date, place or reason), '
             'not only related facts? yes or no',
    "alone": 'Could someone answer "{q}" from the quotes alone, without guessing? yes or no',
    "same": 'Are the quotes about the same event, people and time as "{q}"? yes or no',
    "first": 'Does quote [1] answer "{q}"? yes or no',
}


def probe_messages(question: str, evidence: list[str], probe: str) -> list[dict[str, str]]:
    question = clean(question)
    user = f"Question: {question}\n{fenced(evidence)}\n{PROBES[probe].format(q=question)}"
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def run(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    done = {json.loads(line)["id"] for line in args.out.read_text().splitlines()} if args.out.is_file() else set()
    backend = local_backend(settings)
    backend.load()
    reader = Reader()
    sets, title_of = judged_sets(settings, args.squad_size)
    with args.out.open("a") as out:
        for set_name, retriever, questions in sets:
            for number, q in enumerate(questions, 1):
                if q.id in done:
                    continue
                learned, chosen = evidence_of(reader, retriever, q.question, q.history)
                row = {"set": set_name, "id": q.id, "group": title_of.get(q.id, q.id) if set_name == "squad" else q.id,
                       "answerable": q.answerable, "learned": learned, "evidence": chosen,
                       "gold_in_evidence": any(a in " ".join(chosen) for a in q.answers), "p": {}, "seconds": {}}
                for probe in PROBES:
                    started = time.perf_counter()
                    if chosen:
                        request = {"messages": probe_messages(q.question, chosen, probe), "max_tokens": 1,
                                   "temperature": 0, "logprobs": True, "top_logprobs": TOP_LOGPROBS}
                        p = verdict_probability(backend.chat(request))
                    else:
                        p = 0.0
                    row["p"][probe] = 0.5 if p is None else p
                    row["seconds"][probe] = time.perf_counter() - started
                out.write(json.dumps(row) + "\n")
                out.flush()
                if number % 10 == 0:
                    log.info("%s %d/%d", set_name, number, len(questions))
    log.info("peak RSS %.0f MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def fit(args: argparse.Namespace) -> None:
    rows = [json.loads(line) for line in args.out.read_text().splitlines()]
    sets = np.array([r["set"] for r in rows])
    answerable = np.array([r["answerable"] for r in rows])
    groups = np.array([int(hashlib.sha256(r["group"].encode()).hexdigest(), 16) % 2 for r in rows])
    weight = np.ones(len(rows))  # as fit_judge: each set, and each kind within it, weighs the same
    for s in np.unique(sets):
        for a in (True, False):
            mask = (sets == s) & (answerable == a)
            weight[mask] = 1.0 / max(1, mask.sum())
    print(f"{len(rows)} questions: seed {int((sets == 'seed').sum())} ({int(((sets == 'seed') & ~answerable).sum())} "
          f"unanswerable), squad {int((sets == 'squad').sum())}")
    for probe in PROBES:
        p = np.array([r["p"][probe] for r in rows])
        median = np.median([r["seconds"][probe] for r in rows if r["evidence"]])
        aucs = [auc(p[(sets == s) & answerable], p[(sets == s) & ~answerable]) for s in ("seed", "squad")]
        print(f"{probe:7s} AUC seed {aucs[0]:.3f} squad {aucs[1]:.3f}  median {median:.2f} s")
    columns = {probe: logit(np.array([r["p"][probe] for r in rows])) for probe in PROBES}
    columns["learned"] = logit(np.array([r["learned"] for r in rows]))
    combos = [["answer"], ["answer", "exact"], ["answer", "alone"], ["answer", "same"], ["answer", "first"],
              ["exact", "alone"], list(PROBES), [*PROBES, "learned"], ["answer", "learned"]]
    for combo in combos:
        x = np.column_stack([columns[c] for c in combo])
        scores = np.zeros(len(rows))
        for fold in (0, 1):
            train, test = groups != fold, groups == fold
            beta = fit_logistic(x[train], answerable[train].astype(float), weight[train])
            train_score = beta[0] + x[train] @ beta[1:]
            threshold = pick_threshold(train_score, answerable[train], sets[train])
            scores[test] = beta[0] + x[test] @ beta[1:] - threshold
        parts = []
        for f_set, f in figures(scores, 0.0, answerable, sets).items():
            parts.append(f"{f_set} {f['abstained_unanswerable']:.2f} of {f['unanswerable']} at "
                         f"{f['answered_answerable']:.2f}, AUC {f['auc']:.3f}")
        print(f"{'+'.join(combo):40s} " + "; ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad-size", type=int, default=100)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--fit", action="store_true", help="print the figures of a finished run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    fit(args) if args.fit else run(args)


if __name__ == "__main__":
    main()
