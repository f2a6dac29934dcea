"""Which offline base model makes the better cross-encoder: albert-tiny-chinese against m3e-small.

``python -m experiments.base_models`` trains notebook 01's classifier and notebook 02's regression model on each base
model with the ``local`` recipe (the same code path: ``tokenize_pairs``, ``load_pretrained``,
``training_arguments``, ``trainer_metrics``), once per training seed (initialisation and batch order; the data split
stays the profile's), and scores each classifier as the reranker of notebook 04 (the improved bi-encoder's top
``rerank_k`` for the test queries). Each run appends one row to ``results/local/base_models.json``; docs/models.md shows
the table and the profiles' ``cross_model`` follows its validation accuracy. About 5 minutes per
albert-tiny run and 9 per m3e-small run on 2 CPU cores: run it in the background.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                          set_seed)

import textsim
from textsim import retrieval
from textsim.biencoder import BiEncoder
from textsim.metrics import ranking_metrics
from textsim.models import load_pretrained
from textsim.series.results import read_json, replace_block, write_json
from textsim.series.run import Run
from textsim.training import tokenize_pairs, training_arguments

MODELS = ("albert-tiny-chinese", "m3e-small")
JOBS = {"classification": 2, "regression": 1}  # notebook 01's and 02's heads
SEEDS = (42, 1, 2)
FILE = "base_models.json"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.base_models", description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--jobs", nargs="+", choices=JOBS, default=list(JOBS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--profile", default="local")
    return parser.parse_args(argv)


def tokenized_splits(splits, tokenizer, labels: int, max_length: int) -> dict:
    """Notebook 01's tokenization; notebook 02's float labels for the regression head."""
    def float_labels(batch):
        return {"labels": [float(label) for label in batch["label"]]}

    tokenized = {name: tokenize_pairs(part, tokenizer, max_length) for name, part in splits.items()}
    if labels == 1:
        tokenized = {name: part.map(float_labels, batched=True, remove_columns=["label"])
                     for name, part in tokenized.items()}
    return tokenized


def train_once(run: Run, splits, model_name: str, job: str, seed: int) -> tuple[dict, Trainer]:
    """One training run of one job on one base model; its validation and test metrics."""
    p, labels = run.profile, JOBS[job]
    path = textsim.resolve_model(model_name)
    tokenizer = AutoTokenizer.from_pretrained(path)
    data = tokenized_splits(splits, tokenizer, labels, p.max_length)
    names = {} if labels == 1 else dict(id2label=dict(enumerate(textsim.LABEL_NAMES)),
                                        label2id={n: i for i, n in enumerate(textsim.LABEL_NAMES)})
    set_seed(seed)  # the head's initialisation; the Trainer reseeds with args.seed and orders batches by data_seed
    model, new_weights = load_pretrained(AutoModelForSequenceClassification, path, num_labels=labels, **names)
    args = training_arguments(run, learning_rate=p.cross_lr, epochs=p.cross_epochs, part=f"{model_name}_{job}_{seed}",
                              seed=seed, data_seed=seed, disable_tqdm=True, save_total_limit=1)
    trainer = Trainer(model=model, args=args, train_dataset=data["train"], eval_dataset=data["validation"],
                      data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
                      compute_metrics=textsim.trainer_metrics(threshold=0.5 if labels == 1 else None))
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    validation = trainer.evaluate(data["validation"])["eval_accuracy"]
    prediction = trainer.predict(data["test"])
    scores = prediction.predictions.reshape(-1) if labels == 1 else prediction.predictions.argmax(-1)
    test = textsim.metrics_at(scores, prediction.label_ids, 0.5)
    row = {"model": model_name, "job": job, "seed": seed, "parameters": model.num_parameters(),
           "new_weights": new_weights, "train_seconds": round(seconds, 1), "validation_accuracy": validation,
           "test_accuracy": test["accuracy"], "test_f1": test["f1"], "test_pairs": len(prediction.label_ids)}
    return row, trainer


def rerank_metrics(run: Run, splits, trainer: Trainer, tokenizer) -> dict:
    """The classifier as notebook 04's reranker: Recall@k and MRR@10 of the improved bi-encoder's top
    ``rerank_k`` for the test queries, re-ordered by P(相似)."""
    p = run.profile
    rows = textsim.read_pairs(textsim.ensure_data())
    queries, relevant = map(list, zip(*retrieval.positive_queries(splits["test"])))
    corpus = retrieval.cap_corpus(retrieval.distinct_sentences(rows), relevant, p.max_corpus, seed=p.seed)
    folder = run.trained_model("bi_encoder_improved")
    bi, bi_tokenizer = BiEncoder.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)
    index = retrieval.VectorIndex(bi.encode(corpus, bi_tokenizer))
    retrieved = retrieval.bi_encoder_search(bi, bi_tokenizer, index, corpus, queries, p.rerank_k)
    reranked = retrieval.cross_encoder_rank(trainer.model.eval(), tokenizer, corpus, queries, retrieved.ids, 10)
    metrics = ranking_metrics(reranked, corpus, relevant)
    return {f"rerank_{name}": value for name, value in metrics.items()} | {"rerank_queries": len(queries)}


README_START, README_END = "<!-- base-models:start -->", "<!-- base-models:end -->"
COLUMNS = (("validation_accuracy", "validation accuracy"), ("test_accuracy", "test accuracy"),
           ("rerank_recall@1", "rerank Recall@1 (04)"), ("rerank_mrr@10", "rerank MRR@10 (04)"))


def mean_interval(values) -> str:
    """Mean and the 95% interval of the mean over runs (Student's t: with 3 runs it is wide, as it should be)."""
    from scipy import stats

    values = [v for v in values if v is not None]
    if not values:
        return "—"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.3f} (1 run)"
    spread = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    half = stats.t.ppf(0.975, len(values) - 1) * spread / len(values) ** 0.5
    return f"{mean:.3f} [{mean - half:.3f}, {mean + half:.3f}]"


def markdown_table(record: dict) -> str:
    """The comparison table of docs/models.md, made from ``base_models.json`` alone."""
    lines = ["| job | base model | parameters | runs (seeds) | " + " | ".join(t for _, t in COLUMNS) + " |",
             "|" + " --- |" * (4 + len(COLUMNS))]
    groups = {}
    for row in record["rows"]:
        groups.setdefault((row["job"], row["model"]), []).append(row)
    for (job, model), rows in sorted(groups.items()):
        seeds = ", ".join(str(r["seed"]) for r in sorted(rows, key=lambda r: r["seed"]))
        cells = [mean_interval([r.get(key) for r in rows]) for key, _ in COLUMNS]
        lines.append(f"| {job} | {model} | {rows[0]['parameters'] / 1e6:.1f}M | {len(rows)} ({seeds}) | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def update_readme(record: dict, readme: Path) -> None:
    """Replace the comparison block of a page (docs/models.md) with ``markdown_table(record)``."""
    replace_block(readme, README_START, README_END, markdown_table(record))


def main(argv=None) -> None:
    args = parse_args(argv)
    textsim.quiet_logs()
    run = Run(textsim.load_profile(args.profile), "base_models")
    splits = textsim.load_splits(run.profile)
    path = run.results_dir / FILE
    for job in args.jobs:
        for seed in args.seeds:
            for model_name in args.models:
                row, trainer = train_once(run, splits, model_name, job, seed)
                if job == "classification":
                    row |= rerank_metrics(run, splits, trainer, trainer.processing_class)
                record = read_json(path) if path.is_file() else {"profile": run.profile.name, "rows": []}
                record["rows"].append(row | {"source": "python -m experiments.base_models",
                                             "device": textsim.describe(trainer.args.device)})
                write_json(path, record)
                print({k: row[k] for k in ("model", "job", "seed", "validation_accuracy", "test_accuracy")},
                      flush=True)
    update_readme(read_json(path), run.root / "docs" / "models.md")


if __name__ == "__main__":
    main()
