"""Fit the extractive reader, run by hand: `python bench/train_reader.py [--squad DIR] [--out FILE]`.

Writes qa/reader/params.json: a sentence ranker (logistic regression over SENTENCE_FEATURES: which sentence
holds the answer) and an abstainer (logistic regression over QUESTION_FEATURES: do the articles answer at
all), the answer threshold and the second-sentence rule, with the data's hashes, the split and the held-out
figures recorded in the file.

Data: SQuAD 1.1 dev with every 4th paragraph of each Wikipedia article held out (`qa.evalsets.hold_out`: the
questions on those paragraphs become unanswerable but stay on topic), split by Wikipedia article: articles
whose index is 2 mod 3 are the test split, never seen in training; and the seed eval set, split by article
(see `seed_split`). Each set weighs the same in every fit. Features are cached under --cache, so a re-fit
(`--fit-only`) takes seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import Settings  # noqa: E402
from qa.evalsets import hold_out, load_question_set, load_squad, prepare_eval  # noqa: E402
from qa.index import SPLITTER_VERSION  # noqa: E402
from qa.reader.candidates import Sentence  # noqa: E402
from qa.reader.compose import select  # noqa: E402
from qa.reader.crossencoder import WEIGHTS as CROSS_WEIGHTS  # noqa: E402
from qa.reader.features import (  # noqa: E402
    ASKS_LIST,
    BASE_FEATURES,
    CROSS_FEATURES,
    CROSS_NONE,
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    derive,
    holds_list,
    question_features,
)
from qa.reader.params import (  # noqa: E402
    LinearModel,
    ReaderParams,
    archive_split,
    load_params,
    save_params,
    seed_split,
    untrained,
)
from qa.reader.pipeline import Reader  # noqa: E402
from qa.reader.reading import PassageWords  # noqa: E402
from qa.records import Citation  # noqa: E402

log = logging.getLogger("train_reader")
SEED_SET = ROOT / "eval" / "questions.jsonl"
ARCHIVE_SET = ROOT / "eval" / "archive_questions.jsonl"
TEST_EVERY, TEST_AT = 3, 2  # SQuAD articles whose index % 3 == 2 are held out for testing
CHUNK = 120  # questions read between saves of the feature cache
TRAIN_PER_KIND, TEST_PER_KIND = 1500, 500  # SQuAD questions of each kind (answerable, unanswerable) by default
RANKER_L2 = 0.003  # L2 penalty of the ranker's listwise fit (on standardised features)
ABSTAINER_C = 1.0  # inverse L2 strength of the abstainer's logistic regression
# The direction in which each abstainer feature can move the chance that the articles answer: a better-matching
# best sentence can only raise it, more unmatched question words only lower it. Fitted freely, correlated
# features take weights of the wrong sign that cancel out on SQuAD and misfire on news ("Where was Zalmay
# Khalilzad born?" scored higher for the words its best passage lacks). Held to these signs, the abstainer
# declines more on both (SQuAD test 0.72 vs 0.68 at 0.90 answered; seed test 3 vs 2 of 7).
# log_question_terms and follow_up have no such direction and stay free. (Held to lower it, follow_up's weight
# went from +0.57 to 0, the seed set's follow-ups, all answerable, then scored lower, and the threshold that
# still answers 0.9 of them fell from 0.35 to 0.24: SQuAD's unanswerable test questions declined 0.57, not 0.72.)
ABSTAINER_SIGNS = {
    "best_logit": 1, "margin": 1, "best_cosine": 1, "best_terms": 1, "best_coverage_window": 1, "most_cosine": 1,
    "most_terms": 1, "standout": 1, "top_z": 1, "best_cross": 1, "most_cross": 1, "best_span": 1, "most_span": 1,
    "best_unmatched_window": -1, "best_unmatched_passage": -1, "best_rarest_unmatched": -1,
    "best_numbers_unmatched": -1, "best_names_unmatched": -1,
}


@dataclass
class Item:
    """One question's cached reading: sentence features, labels and what selection needs."""

    id: str
    answerable: bool
    golds: list[str]
    features: np.ndarray  # (sentences, SENTENCE_FEATURES)
    labels: np.ndarray  # sentence holds a gold answer, in a gold article
    quotable: np.ndarray
    basics: dict[str, float]
    sentences: list[dict]  # text, doc, start, end, rank, position, previous, following

    def texts(self) -> list[str]:
        return [sentence["text"] for sentence in self.sentences]

    def texts_before(self) -> list[str]:
        """The sentence before each in its passage, "" for none: the cross-encoder's context."""
        texts = self.texts()
        return [texts[s["previous"]] if s["previous"] is not None else "" for s in self.sentences]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def article_index(doc_id: str) -> int:
    return int(doc_id.split("-a")[1].split("-")[0])  # squad-dev-aAA-pPPP


def split_squad(folder: Path, per_kind: dict[str, int]) -> dict[str, list]:
    """The held-out SQuAD questions by split and kind, each kind evenly spread and capped."""
    data = load_squad(folder)
    articles = {q.id: article_index(q.docs[0]) for q in data.questions}
    held = hold_out(data)
    groups: dict[str, list] = {}
    for question in held.questions:
        split = "test" if articles[question.id] % TEST_EVERY == TEST_AT else "train"
        kind = "answerable" if question.answerable else "unanswerable"
        groups.setdefault(f"{split}-{kind}", []).append(question)
    chosen = {}
    for name, questions in groups.items():
        chosen[name] = spread(questions, per_kind.get(name, len(questions)))
        log.info("%s: %d of %d", name, len(chosen[name]), len(questions))
    return chosen


def spread(values: list, cap: int) -> list:
    """At most `cap` of `values`, evenly spread over all of them."""
    step = max(1.0, len(values) / cap)
    return [values[int(i * step)] for i in range(min(cap, len(values)))]


def evenly(items: list[Item], per_kind: int) -> list[Item]:
    """At most `per_kind` answerable and as many unanswerable items, evenly spread over each kind."""
    return [item for kind in (True, False) for item in spread([i for i in items if i.answerable == kind], per_kind)]


def interleave(groups: list[list]) -> list:
    """Items of the groups in turn (a group listed twice gives twice as many), each item once."""
    seen, order, positions = set(), [], [0] * len(groups)
    while any(p < len(g) for p, g in zip(positions, groups)):
        for k, group in enumerate(groups):
            while positions[k] < len(group) and id(group[positions[k]]) in seen:
                positions[k] += 1
            if positions[k] < len(group):
                seen.add(id(group[positions[k]]))
                order.append(group[positions[k]])
                positions[k] += 1
    return order


def label(question, sentence) -> bool:
    in_doc = not question.docs or sentence.citation.doc_id in question.docs or sentence.citation.path in question.docs
    return bool(question.answers) and in_doc and any(a in sentence.text for a in question.answers)


def collect(reader: Reader, retriever, questions, name: str) -> list[Item]:
    items = []
    began = time.perf_counter()
    for n, question in enumerate(questions, start=1):
        scoring = reader.score(retriever, question.question, list(question.history))
        pool = scoring.pool
        count = len(pool.sentences)
        features = (np.column_stack([scoring.features[f] for f in BASE_FEATURES]) if scoring.features
                    else np.zeros((count, len(BASE_FEATURES))))
        basics = {k: scoring.question.get(k, 0.0) for k in ("standout", "top_z", "follow_up", "log_question_terms")}
        items.append(Item(question.id, question.answerable, list(question.answers), features.astype(np.float32),
                          np.array([label(question, s) for s in pool.sentences], dtype=bool),
                          np.array([s.quotable for s in pool.sentences], dtype=bool), basics,
                          [{"text": s.text, "doc": s.citation.doc_id, "start": s.citation.start,
                            "end": s.citation.end, "rank": s.rank, "position": s.position, "previous": s.previous,
                            "following": s.following} for s in pool.sentences]))
        if n % 100 == 0:
            log.info("%s: %d/%d questions read, %.2f s each", name, n, len(questions),
                     (time.perf_counter() - began) / n)
    return items


def cross_digest() -> str:
    """Which cross-encoder weights the cached cross features were computed with."""
    return sha256(CROSS_WEIGHTS)[:16] if CROSS_WEIGHTS.is_file() else "none"


def recross(items: list[Item], cross) -> None:
    """Compute the cached items' cross-encoder columns (CROSS_FEATURES) again, with `cross` (its weights
    changed since)."""
    column = {name: SENTENCE_FEATURES.index(name) for name in CROSS_FEATURES}
    for item in items:
        if not item.sentences:
            continue
        scores = cross.scores(QUESTIONS.get(item.id, ""), item.texts(), item.texts_before())
        logits = scores.logits
        item.features[:, column["cross"]] = logits
        item.features[:, column["cross_previous"]] = [logits[s["previous"]] if s["previous"] is not None
                                                      else CROSS_NONE for s in item.sentences]
        item.features[:, column["cross_next"]] = [logits[s["following"]] if s["following"] is not None
                                                  else CROSS_NONE for s in item.sentences]
        item.features[:, column["span"]] = scores.spans


def save_items(items: list[Item], path: Path) -> None:
    offsets = np.cumsum([0] + [len(i.features) for i in items])
    np.savez_compressed(path.with_suffix(".npz"), offsets=offsets,
                        features=np.vstack([i.features[:, : len(BASE_FEATURES)] for i in items]) if items
                        else np.zeros((0, 0)),
                        labels=np.concatenate([i.labels for i in items]),
                        quotable=np.concatenate([i.quotable for i in items]))
    meta = [{"id": i.id, "answerable": i.answerable, "golds": i.golds, "basics": i.basics, "sentences": i.sentences}
            for i in items]
    path.with_suffix(".json").write_text(json.dumps({"features": list(BASE_FEATURES), "cross": cross_digest(),
                                                     "splitter": SPLITTER_VERSION, "items": meta}))


QUESTIONS: dict[str, str] = {}  # question id -> text, for the derived features that read it


def load_items(path: Path) -> list[Item] | None:
    """The cached items, their cross-encoder columns computed again (and saved) if its weights changed since."""
    if not path.with_suffix(".npz").exists() or not path.with_suffix(".json").exists():
        return None
    meta = json.loads(path.with_suffix(".json").read_text())
    if meta.get("splitter") != SPLITTER_VERSION:
        return None  # read from other passages or BM25 terms: read again
    others = [name for name in BASE_FEATURES if name not in CROSS_FEATURES]
    if [name for name in meta["features"] if name not in CROSS_FEATURES] != others:
        return None  # only the cross-encoder's columns can be computed again from the cache
    items = _load_items(path, meta)
    if meta.get("cross") != cross_digest() or meta["features"] != list(BASE_FEATURES):
        log.info("%s: computing the cross-encoder's features again", path.name)
        recross(items, cross_encoder())
        save_items(items, path)
    return items


def cross_encoder(weights: Path = CROSS_WEIGHTS):
    from qa.embedding import locate_model
    from qa.reader.crossencoder import shared

    settings = Settings()
    source = locate_model(settings.model, settings.cache_dir)
    return shared(source.folder, source.fingerprint, weights)


def read_unseen(items: list[Item], weights: Path) -> list[Item]:
    """Copies of `items` whose cross-encoder columns are read with `weights`, a cross-encoder fitted without these
    questions. The shipped cross-encoder was trained on the seed set's training questions, so its scores for them
    are higher than for any question it has not seen; a reader fitted on those would trust it too far."""
    copies = [Item(i.id, i.answerable, i.golds, i.features.copy(), i.labels, i.quotable, i.basics, i.sentences)
              for i in items]
    recross(copies, cross_encoder(weights))
    return copies


def _load_items(path: Path, meta: dict) -> list[Item]:
    arrays = np.load(path.with_suffix(".npz"))
    o = arrays["offsets"]
    parts = []
    for k, m in enumerate(meta["items"]):
        stored = {name: arrays["features"][o[k] : o[k + 1], j] for j, name in enumerate(meta["features"])}
        base = {name: stored.get(name, np.zeros(o[k + 1] - o[k])) for name in BASE_FEATURES}
        derived = derive(base, [s["text"] for s in m["sentences"]], QUESTIONS.get(m["id"], ""),
                         [(s["doc"], s["rank"]) for s in m["sentences"]])
        parts.append(np.column_stack([derived[name] for name in SENTENCE_FEATURES]) if o[k + 1] > o[k]
                     else np.zeros((0, len(SENTENCE_FEATURES))))
    features = np.vstack(parts) if parts else np.zeros((0, len(SENTENCE_FEATURES)))
    return [Item(m["id"], m["answerable"], m["golds"], features[o[k] : o[k + 1]],
                 arrays["labels"][o[k] : o[k + 1]], arrays["quotable"][o[k] : o[k + 1]], m["basics"], m["sentences"])
            for k, m in enumerate(meta["items"])]


# --- fitting -----------------------------------------------------------------------------------------------


def fit_linear(rows: np.ndarray, targets: np.ndarray, names, weights: np.ndarray | None = None,
               c: float = 1.0, signs: dict[str, int] | None = None) -> LinearModel:
    """L2-regularised logistic regression on standardised features (sklearn's objective: |w|^2 / 2 plus `c`
    times the weighted log loss; the bias is not penalised), each weight named in `signs` held to that sign."""
    from scipy.optimize import minimize

    signs = signs or {}
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    x, y = (rows - mean) / scale, targets.astype(np.float64)
    weights = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)

    def loss_and_gradient(p: np.ndarray) -> tuple[float, np.ndarray]:
        w, bias = p[:-1], p[-1]
        z = x @ w + bias
        residual = weights * (1.0 / (1.0 + np.exp(-z)) - y)
        loss = 0.5 * float(w @ w) + c * float(weights @ (np.logaddexp(0.0, z) - y * z))
        return loss, np.r_[w + c * (x.T @ residual), c * residual.sum()]

    bounds = [(0.0, None) if signs.get(n) == 1 else (None, 0.0) if signs.get(n) == -1 else (None, None)
              for n in names] + [(None, None)]
    p = minimize(loss_and_gradient, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds).x
    return LinearModel(tuple(names), tuple(map(float, mean)), tuple(map(float, scale)), tuple(map(float, p[:-1])),
                       float(p[-1]))


def columns_of(names, wanted) -> list[int]:
    return [list(SENTENCE_FEATURES).index(n) for n in wanted]


def fit_ranker(sets: list[list[Item]], names, l2: float = RANKER_L2) -> LinearModel:
    """The sentence ranker: a linear score fitted listwise (softmax over each answerable question's quotable
    sentences, the likelihood of its gold ones), the way it is used: to pick a question's best sentences. Each
    set weighs the same, and within a set each question, whatever its number of sentences. Its scale and
    offset are then fitted pointwise (Platt scaling), so that sigmoid(logit) is the chance that the sentence
    holds the answer, as composition and the abstainer read it."""
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    cols = columns_of(SENTENCE_FEATURES, names)
    rows, golds, question_of, weights = [], [], [], []
    for items in sets:
        use = [i for i in items if i.answerable and (i.labels & i.quotable).any()]
        for item in use:
            rows.append(item.features[item.quotable][:, cols])
            golds.append(item.labels[item.quotable])
            question_of.append(np.full(int(item.quotable.sum()), len(weights)))
            weights.append(1.0 / (len(use) * len(sets)))
    x, gold, question_of = np.vstack(rows).astype(np.float64), np.concatenate(golds), np.concatenate(question_of)
    weights = np.asarray(weights)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    x = (x - mean) / scale
    starts = np.flatnonzero(np.r_[True, question_of[1:] != question_of[:-1]])

    def log_sum_exp(values: np.ndarray) -> np.ndarray:  # per question
        top = np.maximum.reduceat(values, starts)
        return top + np.log(np.add.reduceat(np.exp(values - top[question_of]), starts))

    def loss_and_gradient(w: np.ndarray) -> tuple[float, np.ndarray]:
        score = x @ w
        every = log_sum_exp(score)
        golden = log_sum_exp(np.where(gold, score, -np.inf))
        # d/dscore: softmax over all sentences minus softmax over the gold ones
        share = np.exp(score - every[question_of]) - np.where(gold, np.exp(score - golden[question_of]), 0.0)
        loss = float(weights @ (every - golden)) + l2 * float(w @ w)
        return loss, x.T @ (weights[question_of] * share) + 2 * l2 * w

    w = minimize(loss_and_gradient, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x
    score = (x @ w)[:, None]
    pointwise = np.concatenate([np.full(len(g), weight / len(g)) for g, weight in zip(golds, weights)])
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(score, gold, sample_weight=pointwise / pointwise.mean())
    a = float(platt.coef_[0][0])
    return LinearModel(tuple(names), tuple(map(float, mean)), tuple(map(float, scale)), tuple(map(float, a * w)),
                       float(platt.intercept_[0]))


def logits_of(ranker: LinearModel, item: Item) -> np.ndarray:
    cols = columns_of(SENTENCE_FEATURES, ranker.names)
    logits = ranker.logits(item.features[:, cols]) if len(item.features) else np.zeros(0)
    logits[~item.quotable] = -np.inf
    return logits


def question_rows(ranker: LinearModel, items: list[Item], names) -> np.ndarray:
    rows = []
    for item in items:
        columns = {n: item.features[:, k] for k, n in enumerate(SENTENCE_FEATURES)}
        row = question_features(item.basics, columns, logits_of(ranker, item), item.quotable)
        rows.append([row[n] for n in names])
    return np.array(rows, dtype=np.float64)


def sentences_of(item: Item) -> list[Sentence]:
    result = []
    for s, quotable in zip(item.sentences, item.quotable):
        cited = Citation(s["doc"], "", "", s["start"], s["end"])
        result.append(Sentence(s["text"], cited, cited, s["rank"], s["position"], bool(quotable), s["previous"],
                               s["following"]))
    return result


def answer_text(item: Item, ranker: LinearModel, params: ReaderParams, second: float) -> str:
    logits = logits_of(ranker, item)
    question = QUESTIONS.get(item.id, "")
    lists = [holds_list(s["text"], question) for s in item.sentences] if ASKS_LIST.search(question) else None
    chosen = select(sentences_of(item), 1.0 / (1.0 + np.exp(-logits)), None, limit=params.max_sentences,
                    second=second, duplicate=params.duplicate, lists=lists)
    return " ".join(c.sentence.text for c in chosen)


def holds(item: Item, text: str) -> bool:
    return any(g.casefold() in text.casefold() for g in item.golds)


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    pos, neg = scores[positive], scores[~positive]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="stable")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def figures(items: list[Item], params: ReaderParams, threshold: float | None = None,
            second: float | None = None) -> dict[str, float]:
    """The answer figures of the reader on cached items, as `qa eval` measures them."""
    threshold = params.threshold if threshold is None else threshold
    second = params.second if second is None else second
    probability = params.abstainer.probabilities(question_rows(params.ranker, items, params.abstainer.names))
    answered = probability >= threshold
    answerable = np.array([i.answerable for i in items])
    texts = [answer_text(i, params.ranker, params, second) if i.answerable else "" for i in items]
    gold = np.array([holds(i, t) for i, t in zip(items, texts)])
    top = []
    for item in items:
        if item.answerable and item.quotable.any():
            logits = logits_of(params.ranker, item)
            top.append(bool(item.labels[int(np.argmax(logits))]))
    reachable = [bool((i.labels & i.quotable).any()) for i in items if i.answerable]

    def share(values) -> float:
        return float(np.mean(values)) if len(values) else float("nan")

    return {"answerable": int(answerable.sum()), "unanswerable": int((~answerable).sum()),
            "abstained_unanswerable": share(~answered[~answerable]),
            "answered_answerable": share(answered[answerable]),
            "answer_holds_gold": share(gold[answerable]),
            "answered_and_holds_gold": share((gold & answered)[answerable]),
            "top_sentence_is_gold": share(top), "gold_sentence_in_candidates": share(reachable),
            "abstention_auc": auc(probability, answerable)}


def fit(sets: list[list[Item]], base: ReaderParams, sentence_names=SENTENCE_FEATURES,
        question_names=QUESTION_FEATURES, answered_goal: float = 0.9, ranker_l2: float = RANKER_L2,
        abstainer_c: float = ABSTAINER_C) -> ReaderParams:
    """Fit the ranker, then the abstainer on the question features it gives (each set weighing the same, and
    within a set answerable and unanswerable questions weighing the same; weights held to ABSTAINER_SIGNS),
    then the threshold (the highest that still answers `answered_goal` of each set's answerable questions) and
    the second-sentence rule."""
    ranker = fit_ranker(sets, sentence_names, ranker_l2)
    train = [item for items in sets for item in items]
    rows = question_rows(ranker, train, question_names)
    answerable = np.array([i.answerable for i in train])
    weights = np.concatenate([np.where(np.array([i.answerable for i in items]),
                                       0.5 / max(1, sum(i.answerable for i in items)),
                                       0.5 / max(1, sum(not i.answerable for i in items))) for items in sets])
    abstainer = fit_linear(rows, answerable, question_names, weights * len(weights) / weights.sum(), abstainer_c,
                           ABSTAINER_SIGNS)
    probability = abstainer.probabilities(rows)
    at, thresholds = 0, []
    for items in sets:
        mine = probability[at : at + len(items)][answerable[at : at + len(items)]]
        thresholds.append(float(np.quantile(mine, 1.0 - answered_goal)))
        at += len(items)
    threshold = min(thresholds)
    params = base.with_models(ranker, abstainer, threshold, 0.5, {})
    # second sentence: the strictest rule within 0.01 of the best share of answers holding a gold answer
    answerable_items = [i for i in train if i.answerable]
    results = {s: figures(answerable_items, params, 0.0, s)["answer_holds_gold"]
               for s in (0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.01)}
    best = max(results.values())
    second = max(s for s, v in results.items() if v >= best - 0.01)
    return base.with_models(ranker, abstainer, threshold, second, {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", default=str(ROOT.parent / "shared" / "data" / "squad11_dev"))
    parser.add_argument("--train", type=int, default=TRAIN_PER_KIND, help="training questions of each kind")
    parser.add_argument("--test", type=int, default=TEST_PER_KIND, help="test questions of each kind")
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "newsqa" / "reader-cache"), help="folder for cached features")
    parser.add_argument("--out", default=str(ROOT / "qa" / "reader" / "params.json"))
    parser.add_argument("--archive", metavar="DIR",
                        help="the archive set's corpus (written by bench/archive_sample.py): its training half "
                             "is fitted on with the seed set's, its test half reported")
    parser.add_argument("--fit-on", type=int, metavar="N",
                        help="fit on N of each kind of the training questions read (evenly spread)")
    parser.add_argument("--fit-only", action="store_true", help="fail rather than read questions afresh")
    parser.add_argument("--partial", action="store_true", help="fit on the chunks read so far")
    parser.add_argument("--chunks", type=int, metavar="K",
                        help=f"read and fit on only the first K chunks of {CHUNK} SQuAD questions (train and test "
                             "interleaved 2:1): a shorter run that another can repeat exactly")
    parser.add_argument("--ablate", action="store_true", help="also refit without each group of features")
    parser.add_argument("--seed-cross", metavar="WEIGHTS",
                        help="a cross-encoder trained without the seed set (train_crossencoder.py --seed-repeat 0):"
                             " the seed training questions' cross-encoder features are read with it")
    args = parser.parse_args()
    if args.fit_on is not None and args.fit_on < 1:
        parser.error("--fit-on needs at least 1 question of each kind")
    if args.chunks is not None and args.chunks < 1:
        parser.error("--chunks needs at least 1 chunk")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    squad = Path(args.squad)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    base = load_params()
    sets = split_squad(squad, {"train-answerable": args.train, "train-unanswerable": args.train,
                               "test-answerable": args.test, "test-unanswerable": args.test})
    # One sequence, train and test interleaved 2:1 and each kind alternating, read in chunks that are cached as
    # they finish: a re-run resumes, and `--partial` fits on the chunks read so far.
    order = interleave([sets["train-answerable"], sets["train-unanswerable"], sets["train-answerable"],
                        sets["train-unanswerable"], sets["test-answerable"], sets["test-unanswerable"]])
    split_of = {q.id: name.split("-")[0] for name, questions in sets.items() for q in questions}
    QUESTIONS.update({q.id: q.question for questions in sets.values() for q in questions})
    QUESTIONS.update({q.id: q.question for q in load_question_set(SEED_SET)})
    key = hashlib.sha256(" ".join(q.id for q in order).encode()).hexdigest()[:12]
    items: dict[str, list[Item]] = {"train": [], "test": []}
    settings = Settings.from_env(corpus=ROOT / "seeds")
    reader = Reader("train", untrained(SENTENCE_FEATURES, QUESTION_FEATURES), _words=PassageWords(5000))
    retriever = None
    for start in range(0, len(order) if args.chunks is None else min(len(order), args.chunks * CHUNK), CHUNK):
        path = cache / f"squad-{key}-{start // CHUNK:03d}"
        found = load_items(path)
        if found is None:
            if args.fit_only or args.partial:
                if args.partial:
                    break
                raise SystemExit(f"no cached features for {path}")
            if retriever is None:
                retriever = prepare_eval(settings, squad=squad).answer_retriever
            save_items(collect(reader, retriever, order[start : start + CHUNK], path.name), path)
            found = load_items(path)  # with the derived features, as a later run reads them
        for item in found:
            items[split_of[item.id]].append(item)
    seed = load_items(cache / f"seed-{sha256(SEED_SET)[:12]}")
    if seed is None:
        save_items(collect(reader, prepare_eval(settings).retriever, load_question_set(SEED_SET), "seed"),
                   cache / f"seed-{sha256(SEED_SET)[:12]}")
        seed = load_items(cache / f"seed-{sha256(SEED_SET)[:12]}")
    docs = {q.id: q.docs for q in load_question_set(SEED_SET)}
    items["seed"] = seed
    items["seed-train"] = [i for i in seed if seed_split(i.id, docs[i.id]) == "train"]
    items["seed-test"] = [i for i in seed if seed_split(i.id, docs[i.id]) == "test"]
    if args.archive:
        archive = read_archive(reader, settings, Path(args.archive), cache)
        items["archive-train"] = [i for i in archive if archive_split(i.id) == "train"]
        items["archive-test"] = [i for i in archive if archive_split(i.id) == "test"]
    log.info("questions: %s", {name: len(found) for name, found in items.items()})

    if args.fit_on:
        items["train"] = evenly(items["train"], args.fit_on)
        log.info("fitting on %d SQuAD training questions", len(items["train"]))
    seed_train = items["seed-train"]
    if args.seed_cross:
        seed_train = read_unseen(seed_train, Path(args.seed_cross))
        report_unseen(items["seed-train"], seed_train)
    archive_sets = ("archive-train", "archive-test") if args.archive else ()
    # The archive's training half joins the seed set's: one set of news questions beside SQuAD. (As a third set,
    # weighing as much as SQuAD, it cost SQuAD's test split 0.01 of answers holding a gold answer.)
    params = fit([items["train"], seed_train + items.get("archive-train", [])], base)
    report = {name: figures(items[name], params)
              for name in ("train", "seed-train", "test", "seed-test", "seed", *archive_sets)}
    for name, values in report.items():
        print(name, json.dumps({k: round(v, 3) for k, v in values.items()}))
    training = {
        "command": "python bench/train_reader.py " + " ".join(sys.argv[1:]),
        "data": {"squad_queries_sha256": sha256(squad / "queries.jsonl"),
                 "squad_corpus_sha256": sha256(squad / "corpus.jsonl"), "seed_set_sha256": sha256(SEED_SET),
                 "cross_encoder_sha256": sha256(CROSS_WEIGHTS),
                 **({"seed_cross_sha256": sha256(Path(args.seed_cross))} if args.seed_cross else {}),
                 **({"archive_set_sha256": sha256(ARCHIVE_SET),
                     "archive_corpus_sha256": sha256(archive_export(Path(args.archive)))} if args.archive else {})},
        "split": f"SQuAD dev, every 4th paragraph of each article held out (unanswerable); articles with index % "
                 f"{TEST_EVERY} == {TEST_AT} are the test split. Seed set: questions on articles 002 and 004 only, "
                 f"and unanswerable ones with an even number, train; the rest test"
                 + (". Archive set: questions on archive lines 5001-5200 (ids a-A..) train, on lines 9001-9200 "
                    "(a-B..) test" if args.archive else ""),
        "questions": {name: len(items[name]) for name in items},
        "held_out_figures": {"squad_test": report["test"], "seed_test": report["seed-test"],
                             **({"archive_test": report["archive-test"]} if args.archive else {})},
        "train_figures": {"squad_train": report["train"], "seed_train": report["seed-train"],
                          **({"archive_train": report["archive-train"]} if args.archive else {})},
        "whole_seed_set_partly_trained_on": report["seed"],
    }
    params = params.with_models(params.ranker, params.abstainer, params.threshold, params.second, training)
    save_params(params, args.out)
    print(f"threshold {params.threshold:.3f}, second {params.second}; written to {args.out}")
    if args.ablate:
        ablate(items | {"seed-train": seed_train}, base, bool(args.archive))


def archive_export(folder: Path) -> Path:
    from archive_sample import EXPORT_NAME  # bench/ is on the path when this runs as a script

    path = folder / EXPORT_NAME
    if not path.is_file():
        raise SystemExit(f"{path} is missing: write it with `python bench/archive_sample.py {folder}`")
    return path


def read_archive(reader: Reader, settings: Settings, folder: Path, cache: Path) -> list[Item]:
    """The archive set's items, read on its corpus (cached by the set's and the corpus's hashes)."""
    path = cache / f"archive-{sha256(ARCHIVE_SET)[:12]}-{sha256(archive_export(folder))[:12]}"
    questions = load_question_set(ARCHIVE_SET)
    QUESTIONS.update({q.id: q.question for q in questions})
    found = load_items(path)
    if found is None:
        chosen = settings.with_overrides(corpus=folder, index_dir=cache / "archive-index")
        save_items(collect(reader, prepare_eval(chosen, question_set=ARCHIVE_SET).retriever, questions, "archive"),
                   path)
        found = load_items(path)
    return found


def report_unseen(seen: list[Item], unseen: list[Item]) -> None:
    """The seed training questions' median best cross-encoder logit, answerable and not, as the shipped
    cross-encoder (which was trained on them) and as one that never saw them read them."""
    column = SENTENCE_FEATURES.index("cross")
    for name, items in (("seen", seen), ("unseen", unseen)):
        best = {kind: [float(i.features[i.quotable, column].max()) for i in items
                       if i.answerable == kind and i.quotable.any()] for kind in (True, False)}
        log.info("seed-train, cross-encoder that %s them: median best logit answerable %.2f, unanswerable %.2f",
                 "saw" if name == "seen" else "never saw", np.median(best[True]), np.median(best[False]))


GROUPS = {
    "kind of answer (regexes)": ("holds_name", "holds_number", "holds_year", "holds_date", "who_name", "where_name",
                                 "when_date", "year_year", "number_number", "which_name", "kind_match"),
    "points back (regex)": ("points_back",),
    "kernels": ("kernel_1", "kernel_2", "kernel_3", "kernel_4", "kernel_5"),
    "neighbours": ("cosine_previous", "cosine_next", "terms_previous", "terms_next", "coverage_previous",
                   "coverage_next", "coverage_window", "unmatched_window"),
    "unmatched terms": ("unmatched_window", "unmatched_passage", "rarest_unmatched"),
    "numbers/names unmatched": ("numbers_unmatched_article", "numbers_unmatched_passage", "names_unmatched_article",
                                "names_unmatched_passage", "best_numbers_unmatched", "best_names_unmatched"),
    "passage rank/score": ("inverse_rank", "passage_z", "top_passage"),
    "word coverage": ("coverage", "coverage_previous", "coverage_next", "coverage_window"),
    "cross-encoder": ("cross", "cross_previous", "cross_next", "best_cross", "most_cross", "span", "best_span",
                      "most_span"),
    "span margin": ("span", "best_span", "most_span"),
}


def ablate(items: dict[str, list[Item]], base: ReaderParams, archive: bool = False) -> None:
    print("ablation (test split / seed test" + (" / archive test" if archive else "")
          + "): gold in answer, top sentence gold, answered, abstained, AUC")
    for group, dropped in {"(all features)": (), **GROUPS}.items():
        names = [n for n in SENTENCE_FEATURES if n not in dropped]
        question_names = [n for n in QUESTION_FEATURES if n not in dropped]
        sets = [items["train"], items["seed-train"] + (items["archive-train"] if archive else [])]
        params = fit(sets, base, names, question_names)
        cells = []
        for name in ("test", "seed-test", *(("archive-test",) if archive else ())):
            f = figures(items[name], params)
            cells.append(f"{f['answer_holds_gold']:.3f} {f['top_sentence_is_gold']:.3f} "
                         f"{f['answered_answerable']:.3f} {f['abstained_unanswerable']:.3f} {f['abstention_auc']:.3f}")
        print(f"  {group:28s} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
