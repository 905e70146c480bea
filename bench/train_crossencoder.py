"""Fit the reader's cross-encoder, run by hand: `python bench/train_crossencoder.py [--squad DIR] [--out FILE]`.

Writes qa/reader/crossencoder.safetensors: a low-rank correction of the embedding model's attention and
feed-forward matrices and a scoring head, trained to tell whether a sentence answers a question, with the
command, the data's hashes and held-out figures in its metadata.

Data: SQuAD 1.1 dev with every 4th paragraph of each Wikipedia article held out (their questions become
unanswerable but stay on topic), the same split as bench/train_reader.py: articles whose index is 2 mod 3 are
the test split and never trained on, and the questions that script fits the reader's ranker on are left out
too, so the ranker learns how far to trust the cross-encoder on questions it has not seen. Each question gives
its gold sentences (in its paragraph, holding an answer) and the sentences of its Wikipedia article most like
it that are not gold (all of them wrong for an unanswerable question), plus one at random. While fitting, a
second head learns where the answer lies in each sentence (`--span-weight`; the first token for a wrong one,
as SQuAD 2.0 readers are trained): it teaches the correction to look for the thing asked for, which the label
alone teaches poorly, and ships too (the reader reads its margin). Each sentence is read followed by the one
before it in its paragraph (`--context previous`): the question is often restated there, or the pronoun's
referent named.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from train_reader import TEST_AT, TEST_EVERY, TEST_PER_KIND, TRAIN_PER_KIND, article_index, split_squad  # noqa: E402

from qa.embedding import DEFAULT_MODEL, Embedder, locate_model  # noqa: E402
from qa.evalsets import hold_out, load_squad  # noqa: E402
from qa.passages import split_sentences  # noqa: E402
from qa.reader.crossencoder import (  # noqa: E402
    WEIGHTS,
    encode_pairs,
    merge_low_rank,
    pool,
    span_scores,
    wrap_low_rank,
)
from qa.settings import Settings  # noqa: E402

log = logging.getLogger("train_crossencoder")
RANK, ALPHA = 16, 32


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# sentence, label, the answer's characters in it, the sentence before it ("" for none)
Pair = tuple[str, int, "tuple[int, int] | None", str]


def answer_span(text: str, answers) -> tuple[int, int] | None:
    """Where the first of `answers` found in `text` lies in it."""
    for answer in answers:
        at = text.find(answer)
        if answer and at >= 0:
            return at, at + len(answer)
    return None


def labelled(gold: list[tuple[str, str]], wrong: list[tuple[str, str]], answers) -> list[Pair]:
    """Gold (sentence, sentence before) pairs (label 1, with where the answer lies in each) and wrong ones
    (label 0)."""
    return ([(text, 1, answer_span(text, answers), before) for text, before in gold]
            + [(text, 0, None, before) for text, before in wrong])


def build_pairs(squad: Path, embedder: Embedder, split: str, exclude: set[str], limit: int,
                negatives: int, rng: random.Random) -> list[tuple[str, list[Pair]]]:
    """Per question: its text and (sentence, label, answer span) candidates."""
    data = load_squad(squad)
    title_of = {a.doc_id: a.title for a in data.articles}
    home = {q.id: q.docs[0] for q in data.questions}
    held = hold_out(data)
    sentences: dict[str, list[tuple[str, str]]] = {}  # title -> (paragraph id, sentence)
    for article in held.articles:
        for span in split_sentences(article.text):
            sentences.setdefault(article.title, []).append((article.doc_id, article.text[span.start : span.end]))
    wanted = []
    for question in held.questions:
        in_test = article_index(home[question.id]) % TEST_EVERY == TEST_AT
        if (split == "test") == in_test and question.id not in exclude:
            wanted.append(question)
    rng.shuffle(wanted)
    wanted = wanted[:limit]
    titles = sorted({title_of[home[q.id]] for q in wanted})
    vectors = {t: embedder.encode([s for _, s in sentences[t]], batch_size=64) for t in titles}
    questions = embedder.encode([q.question for q in wanted], batch_size=64)
    result = []
    for question, vector in zip(wanted, questions):
        title = title_of[home[question.id]]
        candidates = sentences[title]
        gold = [k for k, (doc, text) in enumerate(candidates)
                if doc in question.docs and any(a in text for a in question.answers)]
        order = [int(k) for k in np.argsort(-(vectors[title] @ vector)) if k not in gold]
        chosen = order[:negatives]
        rest = order[negatives:]
        if rest:
            chosen.append(rng.choice(rest))
        def with_before(k: int, candidates=candidates) -> tuple[str, str]:
            same = k > 0 and candidates[k - 1][0] == candidates[k][0]  # the paragraph's previous sentence
            return candidates[k][1], candidates[k - 1][1] if same else ""

        pairs = labelled([with_before(k) for k in gold], [with_before(k) for k in chosen], question.answers)
        result.append((question.question, pairs))
    return result


def seed_pairs(negatives: int, rng: random.Random) -> list[tuple[str, list[Pair]]]:
    """The seed set's training questions (train_reader's split), their candidates as the reader gathered them
    (from train_reader's feature cache): gold sentences and the wrong ones most like the question."""
    from train_reader import QUESTIONS, SEED_SET, load_items
    from train_reader import sha256 as digest

    from qa.evalsets import load_question_set
    from qa.reader.params import seed_split

    questions = load_question_set(SEED_SET)
    QUESTIONS.update({q.id: q.question for q in questions})
    docs = {q.id: q.docs for q in questions}
    answers = {q.id: q.answers for q in questions}
    cache = Path.home() / ".cache" / "newsqa" / "reader-cache" / f"seed-{digest(SEED_SET)[:12]}"
    items = load_items(cache) or []
    result = []
    for item in items:
        if seed_split(item.id, docs[item.id]) != "train" or not item.sentences:
            continue
        cosine = item.features[:, 0]  # the question's cosine to the sentence
        gold = [k for k in range(len(item.sentences)) if item.labels[k] and item.quotable[k]]
        wrong = [int(k) for k in np.argsort(-cosine) if k not in gold and item.quotable[k]][:negatives]
        texts, before = item.texts(), item.texts_before()
        pairs = labelled([(texts[k], before[k]) for k in gold], [(texts[k], before[k]) for k in wrong],
                         answers[item.id])
        result.append((QUESTIONS[item.id], pairs))
    log.info("seed: %d training questions", len(result))
    return result


def span_targets(offsets, inside, spans) -> tuple:
    """Start and end token of each pair's answer; 0 (the first token: no answer here) for a wrong sentence, and
    -100 (not counted) where the answer was cut off by the token budget."""
    import torch

    starts = torch.zeros(len(spans), dtype=torch.long)
    ends = torch.zeros(len(spans), dtype=torch.long)
    for row, span in enumerate(spans):
        if span is None:
            continue
        covering = inside[row] & (offsets[row, :, 1] > span[0]) & (offsets[row, :, 0] < span[1])
        tokens = torch.nonzero(covering).reshape(-1)
        starts[row], ends[row] = (tokens[0], tokens[-1]) if len(tokens) else (-100, -100)
    return starts, ends


def score(model, head, span_head, tokenizer, items, context: bool, batch: int = 64) -> tuple[list, list]:
    """Per question: the scoring head's logits of its pairs, and their span margins (none without a span head)."""
    import torch

    binary, margins = [], []
    with torch.inference_mode():
        for question, pairs in items:
            texts = [t for t, _, _, _ in pairs]
            befores = [b for _, _, _, b in pairs]
            logits, spans = [], []
            for begin in range(0, len(texts), batch):
                chunk = texts[begin : begin + batch]
                encoded = encode_pairs(tokenizer, [question] * len(chunk), chunk,
                                       befores[begin : begin + batch] if context else None)
                hidden = model(**encoded.batch).last_hidden_state
                logits.append(head(pool(hidden, encoded.pooled)).reshape(-1))
                if span_head is not None:
                    spans.append(span_scores(span_head, hidden, encoded.inside)[2])
            binary.append(torch.cat(logits).numpy())
            if spans:
                margins.append(torch.cat(spans).numpy())
    return binary, margins


def report(items, logits) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    labels = np.concatenate([[label for _, label, _, _ in pairs] for _, pairs in items])
    flat = np.concatenate(logits)
    answerable = [any(y for _, y, _, _ in pairs) for _, pairs in items]
    top = [bool(pairs[int(np.argmax(lg))][1]) for (_, pairs), lg, yes in zip(items, logits, answerable) if yes]
    best = [float(lg.max()) for lg in logits]
    return {"pairs": int(len(labels)), "pair_auc": float(roc_auc_score(labels, flat)),
            "top_sentence_is_gold": float(np.mean(top)),
            "answerable_auc_of_best": float(roc_auc_score(answerable, best))}


def fit_span_head(model, tokenizer, train, test, args, rng: random.Random) -> None:
    """Fit a span head on the finished cross-encoder in `args.out` (its weights frozen, merged as in use) and
    write the file again with the head added: the label head's scores stay exactly as they were."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(args.out, framework="pt") as stored:
        meta = dict(stored.metadata() or {})
        tensors = {key: stored.get_tensor(key) for key in stored.keys()}  # noqa: SIM118
    merge_low_rank(model, tensors, float(json.loads(meta["lowrank"])["scale"]))
    context = meta.get("context") == "previous"
    model.eval()
    head = torch.nn.Linear(model.config.hidden_size, 1)
    with torch.no_grad():
        head.weight.copy_(tensors["head.weight"].float().reshape(1, -1))
        head.bias.copy_(tensors["head.bias"].float().reshape(-1))
    span_head = torch.nn.Linear(model.config.hidden_size, 2)
    pairs = [(q, text, span, before) for q, items in train for text, _, span, before in items]
    steps = int(len(pairs) * args.epochs / args.batch)
    optimizer = torch.optim.AdamW(span_head.parameters(), lr=args.rate * 10, weight_decay=0.01)
    span_loss = torch.nn.CrossEntropyLoss(ignore_index=-100)
    order: list[int] = []
    began = time.perf_counter()
    for step in range(steps):
        if len(order) < args.batch:
            order += rng.sample(range(len(pairs)), len(pairs))
        batch = [pairs[order.pop()] for _ in range(args.batch)]
        encoded = encode_pairs(tokenizer, [b[0] for b in batch], [b[1] for b in batch],
                               [b[3] for b in batch] if context else None)
        with torch.no_grad():
            hidden = model(**encoded.batch).last_hidden_state
        starts, ends = span_targets(encoded.offsets, encoded.inside, [b[2] for b in batch])
        start, end, _ = span_scores(span_head, hidden, encoded.inside)
        loss = 0.5 * (span_loss(start, starts) + span_loss(end, ends))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if (step + 1) % 100 == 0:
            elapsed = time.perf_counter() - began
            log.info("step %d/%d loss %.3f, %.0f s left", step + 1, steps, loss.item(),
                     elapsed / (step + 1) * (steps - step - 1))
    binary, margins = score(model, head, span_head, tokenizer, test, context)
    figures = {"label": report(test, binary), "span_margin": report(test, margins)}
    log.info("held out: %s", figures)
    tensors["span.weight"] = span_head.weight.detach().contiguous()
    tensors["span.bias"] = span_head.bias.detach().contiguous()
    meta["span_head"] = json.dumps({"command": "python bench/train_crossencoder.py " + " ".join(sys.argv[1:]),
                                    "held_out": figures["span_margin"]})
    save_file(tensors, args.out, metadata=meta)
    print(json.dumps(figures, indent=1))
    print(f"written to {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", default=str(ROOT.parent / "shared" / "data" / "squad11_dev"))
    parser.add_argument("--questions", type=int, default=3000, help="training questions")
    parser.add_argument("--test", type=int, default=600, help="held-out questions for the printed figures")
    parser.add_argument("--negatives", type=int, default=4, help="most similar wrong sentences per question")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=5e-4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed-repeat", type=int, default=0,
                        help="also train on the seed set's training questions, this many times over (needs the "
                             "feature cache of bench/train_reader.py)")
    parser.add_argument("--span-weight", type=float, default=1.0,
                        help="also learn where the answer lies in the sentence (its first and last token, or the "
                             "first token for a wrong sentence), this weight beside the sentence's label")
    parser.add_argument("--span-only", action="store_true",
                        help="keep the cross-encoder in --out as it is and fit only its span head, on the same "
                             "pairs (the reader reads the span margin as a feature)")
    parser.add_argument("--context", choices=("previous", "none"), default="previous",
                        help="read each sentence followed by the one before it in its paragraph (or not)")
    parser.add_argument("--out", default=str(WEIGHTS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(0)
    rng = random.Random(0)
    squad = Path(args.squad)
    settings = Settings.from_env(corpus=ROOT / "seeds")
    source = locate_model(DEFAULT_MODEL, settings.cache_dir)
    embedder = Embedder(source)
    # train_reader's default training questions: the ranker must learn how far to trust scores of unseen ones
    reader_questions = split_squad(squad, {"train-answerable": TRAIN_PER_KIND, "train-unanswerable": TRAIN_PER_KIND,
                                           "test-answerable": TEST_PER_KIND, "test-unanswerable": TEST_PER_KIND})
    exclude = {q.id for name, qs in reader_questions.items() if name.startswith("train") for q in qs}
    train = build_pairs(squad, embedder, "train", exclude, args.questions, args.negatives, rng)
    test = build_pairs(squad, embedder, "test", set(), args.test, args.negatives, random.Random(1))
    if args.seed_repeat:
        train += seed_pairs(args.negatives, rng) * args.seed_repeat
    log.info("train: %d questions, %d pairs; test: %d questions", len(train), sum(len(p) for _, p in train), len(test))

    model = AutoModel.from_pretrained(str(source.folder), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(str(source.folder), local_files_only=True)
    if args.span_only:
        fit_span_head(model, tokenizer, train, test, args, rng)
        return
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    lowrank = wrap_low_rank(model, RANK, ALPHA)
    head = torch.nn.Linear(model.config.hidden_size, 1)
    with torch.no_grad():  # start from the bi-encoder's sense of similarity: the mean vector's length is not it
        head.weight.zero_()
        head.bias.fill_(-1.0)
    trained = [p for _, a, b in lowrank for p in (a, b)] + list(head.parameters())
    span_head = torch.nn.Linear(model.config.hidden_size, 2) if args.span_weight else None
    if span_head is not None:  # it shapes the correction too, which the label alone teaches poorly
        trained += list(span_head.parameters())
    questions = embedder.encode([q for q, _ in test], batch_size=64)
    before = report(test, [embedder.encode([t for t, _, _, _ in pairs], batch_size=64) @ v
                           for (_, pairs), v in zip(test, questions)])
    log.info("the embedding model's cosine: %s", before)

    context = args.context == "previous"
    pairs = [(q, text, label, span, previous) for q, items in train for text, label, span, previous in items]
    steps = int(len(pairs) * args.epochs / args.batch)
    optimizer = torch.optim.AdamW(trained, lr=args.rate, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 50) * max(0.0, 1 - s / steps))
    loss_of = torch.nn.BCEWithLogitsLoss()
    span_loss = torch.nn.CrossEntropyLoss(ignore_index=-100)
    model.train()
    began = time.perf_counter()
    order: list[int] = []
    for step in range(steps):
        if len(order) < args.batch:
            order += rng.sample(range(len(pairs)), len(pairs))
        batch = [pairs[order.pop()] for _ in range(args.batch)]
        encoded = encode_pairs(tokenizer, [b[0] for b in batch], [b[1] for b in batch],
                               [b[4] for b in batch] if context else None)
        hidden = model(**encoded.batch).last_hidden_state
        logits = head(pool(hidden, encoded.pooled)).reshape(-1)
        loss = loss_of(logits, torch.tensor([float(b[2]) for b in batch]))
        if span_head is not None:
            starts, ends = span_targets(encoded.offsets, encoded.inside, [b[3] for b in batch])
            start, end, _ = span_scores(span_head, hidden, encoded.inside)
            loss = loss + args.span_weight * 0.5 * (span_loss(start, starts) + span_loss(end, ends))
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if (step + 1) % 50 == 0:
            elapsed = time.perf_counter() - began
            log.info("step %d/%d loss %.3f, %.0f pairs/s, %.0f s left", step + 1, steps, loss.item(),
                     (step + 1) * args.batch / elapsed, elapsed / (step + 1) * (steps - step - 1))
    model.eval()
    binary, margins = score(model, head, span_head, tokenizer, test, context)
    after = report(test, binary)
    log.info("after: %s", after)
    if span_head is not None:
        log.info("the span head's margin: %s", report(test, margins))
    tensors = {}
    for name, a, b in lowrank:
        tensors[f"{name}.a"] = a.detach().to(torch.float16).contiguous()
        tensors[f"{name}.b"] = b.detach().to(torch.float16).contiguous()
    tensors["head.weight"] = head.weight.detach().reshape(-1).contiguous()
    tensors["head.bias"] = head.bias.detach().reshape(-1).contiguous()
    if span_head is not None:
        tensors["span.weight"] = span_head.weight.detach().contiguous()
        tensors["span.bias"] = span_head.bias.detach().contiguous()
    meta = {"lowrank": json.dumps({"rank": RANK, "alpha": ALPHA, "scale": ALPHA / RANK}),
            "command": "python bench/train_crossencoder.py " + " ".join(sys.argv[1:]),
            "model": f"{source.name} {source.fingerprint}", "context": args.context,
            "data": json.dumps({"squad_queries_sha256": sha256(squad / "queries.jsonl"),
                                "squad_corpus_sha256": sha256(squad / "corpus.jsonl")}),
            "questions": json.dumps({"train": len(train), "test": len(test)}),
            "held_out_before": json.dumps(before), "held_out_after": json.dumps(after)}
    save_file(tensors, args.out, metadata=meta)
    print(json.dumps({"before": before, "after": after}, indent=1))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
