"""What moves the accuracy of notebook 01's cross-encoder: each lever of textsim/levers.py alone, over seeds.

``python -m experiments.levers`` trains notebook 01's recipe (albert-tiny-chinese, 2 logits, ``local``) and each
lever alone, once per training seed (initialisation and batch order; the data split stays the profile's), and scores
every model on validation and test, in the given order and averaged over both orders. ``--levers combination`` then
trains every lever whose mean validation gain is positive, together. Each run writes its row and its scores under
``models/local/levers/`` (so a stopped run resumes where it stopped); ``--summary`` gathers them into
``results/local/levers.json`` and docs/levers.md's table. About 4 minutes per run on 2 CPU cores (R-Drop about 1.8x,
the longer schedule up to 1.5x): run it in the background.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats
from transformers import AutoTokenizer

import textsim
from textsim import levers
from textsim.series.results import read_json, replace_block, write_json
from textsim.series.run import Run

SEEDS = (42, 1, 2)
LEVERS = levers.LEVERS
FILE = "levers.json"
PAGE_START, PAGE_END = "<!-- levers:start -->", "<!-- levers:end -->"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.levers", description=__doc__.splitlines()[0])
    parser.add_argument("--levers", nargs="+", choices=[*LEVERS, "combination"], default=list(LEVERS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--profile", default="local")
    parser.add_argument("--summary", action="store_true", help="only gather the finished runs into levers.json")
    return parser.parse_args(argv)


def pairs_of(split) -> list[tuple[str, str]]:
    return list(zip(split["sentence1"], split["sentence2"]))


def teacher_scores(run: Run) -> np.ndarray:
    """The seed average of the baseline's models: P(相似) on the training split (the distillation teacher)."""
    files = sorted((run.models_dir / "levers").glob("baseline_*.npz"))
    if not files:
        raise FileNotFoundError("distillation needs the baseline's models first: run --levers baseline")
    return levers.seed_average([np.load(f)["train"] for f in files])


def scores_file(run: Run, lever: str, seed: int):
    return run.models_dir / "levers" / f"{lever}_{seed}.npz"


def train_once(run: Run, splits, lever: str, settings: dict, seed: int) -> dict:
    """One model of one lever; its row (accuracies) and its scores on every split (saved beside the row)."""
    p = run.profile
    path = textsim.resolve_model(p.cross_model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    teacher = teacher_scores(run) if settings.get("distill") else None
    model = levers.lever_model(path, settings, seed)
    trainer = levers.lever_trainer(run, model, tokenizer, splits, settings, seed, teacher, part=f"{lever}_{seed}",
                                   disable_tqdm=True)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    model.eval()
    scores = {name: levers.pair_scores(model, tokenizer, pairs_of(splits[name]), progress=False)
              for name in ("validation", "test")}
    scores |= {f"{name}_both": levers.pair_scores(model, tokenizer, pairs_of(splits[name]), both=True,
                                                   progress=False) for name in ("validation", "test")}
    if lever == "baseline":
        scores["train"] = levers.pair_scores(model, tokenizer, pairs_of(splits["train"]), progress=False)
    labels = {name: np.asarray(splits[name]["label"]) for name in ("validation", "test")}
    row = {"lever": lever, "settings": settings, "seed": seed, "train_seconds": round(seconds, 1),
           "epochs_run": round(trainer.state.epoch, 2), "best_step": best_step(trainer),
           **{f"{name}_accuracy": accuracy(scores[name], labels[name.split("_")[0]])
              for name in ("validation", "test", "validation_both", "test_both")},
           "device": textsim.describe(trainer.args.device), "threads": torch.get_num_threads()}
    folder = scores_file(run, lever, seed).parent
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(scores_file(run, lever, seed), **scores)
    scores_file(run, lever, seed).with_suffix(".json").write_text(json.dumps(row, indent=1))
    return row


def best_step(trainer) -> int | None:
    checkpoint = trainer.state.best_model_checkpoint
    return int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else None


def accuracy(scores, labels) -> float:
    """Accuracy at P(相似) ≥ 0.5."""
    return textsim.metrics_at(scores, labels, 0.5)["accuracy"]


def finished_rows(run: Run) -> list[dict]:
    folder = run.models_dir / "levers"
    return [json.loads(f.read_text()) for f in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def mean_interval(values) -> dict:
    """Mean and the 95% Student-t interval of the mean over seeds."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return {"mean": mean, "low": None, "high": None, "runs": len(values)}
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / len(values) ** 0.5)
    return {"mean": mean, "low": mean - half, "high": mean + half, "runs": len(values)}


def as_predicted(row: dict, split: str) -> float:
    """A run's accuracy as its lever predicts: averaged over both orders for ``both_orders``, else in one order."""
    return row[f"{split}_both_accuracy" if row["settings"].get("both_orders") else f"{split}_accuracy"]


def lever_gains(rows: list[dict], split: str = "validation") -> dict[str, dict]:
    """Each lever's gain over the baseline (notebook 01's recipe, one order), seed by seed (the same seed on both
    sides), with its interval."""
    baseline = {r["seed"]: r[f"{split}_accuracy"] for r in rows if r["lever"] == "baseline"}
    gains = {}
    for lever in dict.fromkeys(r["lever"] for r in rows if r["lever"] != "baseline"):
        paired = [as_predicted(r, split) - baseline[r["seed"]] for r in rows
                  if r["lever"] == lever and r["seed"] in baseline]
        if paired:
            gains[lever] = mean_interval(paired)
    return gains


def chosen_levers(rows: list[dict]) -> list[str]:
    """The levers whose mean validation gain over the baseline is positive."""
    return [lever for lever, gain in lever_gains(rows).items() if lever in LEVERS and gain["mean"] > 0]


def combination_settings(rows: list[dict]) -> dict:
    """The chosen levers' changes, merged into one recipe."""
    settings = {}
    for lever in chosen_levers(rows):
        settings |= LEVERS[lever]
    if settings.get("both_orders") and "epochs" in settings and settings["epochs"] != 1:
        settings["epochs"] = settings["epochs"] / 2  # both orders double the pairs: keep the schedule's steps
    return settings


def combination_lever(settings: dict) -> str | None:
    """The lever that already is the combination (None: the combination needs runs of its own)."""
    return next((lever for lever, changes in LEVERS.items() if changes == settings), None)


def reported_on_test(record: dict) -> list[str]:
    """The only rows whose test accuracy the table shows: the baseline and the combination validation chose."""
    return ["baseline", record["combination_row"]]


def summary(run: Run, splits) -> dict:
    """levers.json: every run; each lever's accuracy over seeds as it predicts (``as_predicted``), in both orders, and
    averaged over its seeds' models; its seed-paired gain over the baseline; the combination validation chooses."""
    rows = finished_rows(run)
    by_lever = {}
    for row in rows:
        by_lever.setdefault(row["lever"], []).append(row)
    labels = {name: np.asarray(splits[name]["label"]) for name in ("validation", "test")}
    levers_summary = {}
    for lever, group in by_lever.items():
        entry = {f"{split}_accuracy": mean_interval([as_predicted(r, split) for r in group])
                 for split in ("validation", "test")}
        entry["validation_both_accuracy"] = mean_interval([r["validation_both_accuracy"] for r in group])
        # Timings compare only within one setting: the runs that had both cores to themselves.
        alone = [r["train_seconds"] for r in group if r["threads"] == 2]
        entry["train_seconds"] = {"mean": float(np.mean(alone)), "runs": len(alone)} if alone else None
        seeds = [r["seed"] for r in group]
        for split in ("validation", "test"):
            key = f"{split}_both" if group[0]["settings"].get("both_orders") else split
            averaged = levers.seed_average([np.load(scores_file(run, lever, s))[key] for s in seeds])
            entry[f"seed_average_{split}_accuracy"] = accuracy(averaged, labels[split])
        entry["settings"], entry["seeds"] = group[0]["settings"], seeds
        levers_summary[lever] = entry
    return {"profile": run.profile.name, "model": run.profile.cross_model, "seeds": list(SEEDS),
            "levers": levers_summary, "combination_levers": chosen_levers(rows),
            "combination_settings": combination_settings(rows),
            "combination_row": combination_lever(combination_settings(rows)) or "combination",
            "gains": {split: lever_gains(rows, split) for split in ("validation", "test")},
            "rows": rows, "source": "python -m experiments.levers"}


def points(entry: dict | None, sign: str = "") -> str:
    """A mean and its interval in accuracy points: ``85.3 [83.1, 87.5]``."""
    if not entry:
        return ""
    if entry["low"] is None:
        return f"{100 * entry['mean']:{sign}.1f} (1 run)"
    return f"{100 * entry['mean']:{sign}.1f} [{100 * entry['low']:{sign}.1f}, {100 * entry['high']:{sign}.1f}]"


def markdown_table(record: dict) -> str:
    """docs/levers.md's table, made from levers.json alone: validation for every lever, test only for
    ``reported_on_test``."""
    gains = record["gains"]["validation"]
    lines = ["| lever | changes to 01's recipe | seeds | validation accuracy % | gain over baseline (points) "
             "| both orders at prediction % | seed average % | test accuracy % | train s (2 threads) |",
             "|" + " --- |" * 9]
    for lever, entry in record["levers"].items():
        changes = ", ".join(f"{k}={v}" for k, v in entry["settings"].items()) or "—"
        test = points(entry["test_accuracy"]) if lever in reported_on_test(record) else ""
        lines.append(f"| {lever} | {changes} | {len(entry['seeds'])} | {points(entry['validation_accuracy'])} "
                     f"| {points(gains.get(lever), '+')} | {points(entry['validation_both_accuracy'])} "
                     f"| {100 * entry['seed_average_validation_accuracy']:.1f} | {test} "
                     f"| {format(entry['train_seconds']['mean'], '.0f') if entry['train_seconds'] else ''} |")
    chosen = record["combination_row"]
    if chosen != "baseline" and chosen in record["gains"]["test"]:
        gain = points(record["gains"]["test"][chosen], "+")
        lines += ["", f"Test accuracy, {chosen} − baseline, seed by seed: {gain} points."]
    return "\n".join(lines) + "\n"


def update_page(record: dict, page: Path) -> None:
    """Replace the table block of docs/levers.md with ``markdown_table(record)``."""
    replace_block(page, PAGE_START, PAGE_END, markdown_table(record))


def main(argv=None) -> None:
    args = parse_args(argv)
    textsim.quiet_logs()
    run = Run(textsim.load_profile(args.profile), "levers")
    splits = textsim.load_splits(run.profile)
    if not args.summary:
        for lever in args.levers:
            settings = combination_settings(finished_rows(run)) if lever == "combination" else LEVERS[lever]
            if lever == "combination" and combination_lever(settings):
                print(f"the combination is {combination_lever(settings)}: nothing more to train", flush=True)
                continue
            for seed in args.seeds:
                if scores_file(run, lever, seed).with_suffix(".json").is_file():
                    continue
                row = train_once(run, splits, lever, settings, seed)
                print({k: row[k] for k in ("lever", "seed", "train_seconds", "validation_accuracy",
                                           "validation_both_accuracy")}, flush=True)
    write_json(run.results_dir / FILE, summary(run, splits))
    if run.profile.name == "local":
        update_page(read_json(run.results_dir / FILE), run.root / "docs" / "levers.md")


if __name__ == "__main__":
    main()
