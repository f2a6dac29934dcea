"""Train one of the notebooks' recipes on your own pairs, on one process or many.

    python -m textsim.train --recipe classification --data my_pairs.csv --profile smoke
    torchrun --nproc_per_node 2 -m textsim.train --recipe bi-improved --data my_pairs.tsv
    accelerate launch --num_processes 2 -m textsim.train --recipe regression --data my_pairs.json

The data: JSON lines like the tutorial's file, or CSV / TSV with the columns sentence1, sentence2, label; bad
rows raise the same errors as the notebooks' (file and line). The seeded 80/10/10 split and the profile's limits
are those of ``load_splits``, and the model, inputs and Trainer come from ``textsim.recipes``, which the notebooks
use too. Under torchrun or accelerate launch the Trainer trains with DDP (gloo on the CPU, NCCL on CUDA): every
process splits the data the same way, each trains on its own share of each step's batches, and only the first
process saves the model (``save_pretrained``, with the tokenizer) and the results file.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from transformers import AutoTokenizer

from .config import PROJECT_ROOT, ModelNotFoundError, load_profile, project_relative, quiet_logs, resolve_model
from .data import DataError, load_splits
from .device import describe, pick_device
from .metrics import best_threshold, classification_metrics, majority_baseline, metrics_at
from .models import ModelLoadError
from .recipes import RECIPES, Recipe, load_model, recipe_trainer, tokenize
from .results import deferred_interrupts, metric_row, replace_folder
from .run import Run
from .launch_record import FirstBatch
from .training import timed_predict, timed_train

CHOSEN = "validation (max accuracy)"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m textsim.train", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", required=True, choices=sorted(RECIPES),
                        help="classification / regression: the cross-encoders of notebooks 01 / 02; bi-original / "
                        "bi-improved: the bi-encoder recipes of notebook 03")
    parser.add_argument("--data", type=Path, help="pairs: .json (JSON lines), .csv or .tsv with the columns "
                        "sentence1, sentence2, label (default: the tutorial's train_pair_1w.json)")
    parser.add_argument("--profile", help="smoke | local | paper (default: $TEXTSIM_PROFILE, else local)")
    parser.add_argument("--model", help="the base model: a Hub id or a model folder (default: the profile's "
                        "model for this recipe, or $TEXTSIM_CROSS_MODEL / $TEXTSIM_BI_MODEL / $TEXTSIM_MODEL)")
    parser.add_argument("--out", type=Path, help="write models/, results/, build/ and runs/ under this folder "
                        "(default: the project's)")
    parser.add_argument("--record-ranks", action="store_true", help="also write, per process, its rank, a "
                        "digest of its split and the pairs of its first training batch (to test launches)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Exit 0 when trained and saved; 1 with one ``error:`` line on bad input; 130 on Ctrl-C, saying when."""
    args = parse_args(argv)
    stage = Stage()
    try:
        train(args, stage)
    except KeyboardInterrupt:
        print(f"error: interrupted while {stage.now}: {stage.saved()}", file=sys.stderr)
        return 130
    except (DataError, ModelNotFoundError, ModelLoadError, ValueError) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 1
    except OSError as error:  # a file that cannot be read or written: name it
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: while {stage.now}: {where}{error.strerror or error}", file=sys.stderr)
        return 1
    return 0


class Stage:
    """What the command is doing, for the message on Ctrl-C."""

    def __init__(self):
        self.now, self.done = "starting", False

    def saved(self) -> str:
        if self.done:
            return "the model and the results file had been written completely before stopping"
        return "nothing was saved (no results file, and any earlier model is left as it was)"


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def check_out(out: Path | None) -> Path:
    """The folder to write under (``--out``, else the project): created if missing, refused if it is a file."""
    folder = (out or PROJECT_ROOT).expanduser().resolve()
    blocking = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise ValueError(f"--out {out}: {blocking} is a file, not a folder; name a folder (it is created if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--out {out}: cannot create the folder ({error.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise ValueError(f"--out {out}: the folder is not writable")
    return folder


def load_base(recipe: Recipe, base: str, seed: int):
    """The tokenizer and the recipe's model from ``--model`` (or the profile's), or one ``ModelLoadError``."""
    checkpoint = resolve_model(base)
    try:
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        model, _ = load_model(recipe.name, checkpoint, seed)
    except (OSError, ValueError) as error:  # no tokenizer files, a corrupt config.json, unreadable weights
        raise ModelLoadError(f"--model {base}: cannot load a tokenizer and model from it ({one_line(error)})") \
            from None
    return tokenizer, model


def train(args: argparse.Namespace, stage: Stage | None = None) -> dict:
    """Train ``args.recipe`` and evaluate it; the first process saves the model and writes the results."""
    stage = stage or Stage()
    quiet_logs()
    recipe = RECIPES[args.recipe]
    profile = load_profile(args.profile, **{f"{recipe.job}_model": args.model})
    base = getattr(profile, f"{recipe.job}_model")
    data = args.data.expanduser().resolve() if args.data else None
    stage.now = "reading the data"
    splits = load_splits(profile, data)
    run = Run(profile, f"train_{recipe.name}", check_out(args.out), data)
    stage.now = "loading the base model"
    tokenizer, model = load_base(recipe, base, profile.seed)
    tokenized = tokenize(recipe.name, splits, tokenizer, profile.max_length)
    trainer = recipe_trainer(run, recipe.name, model, tokenizer, tokenized)
    recorder = FirstBatch.attach(trainer) if args.record_ranks else None
    stage.now = "training"
    seconds = timed_train(trainer)
    stage.now = "evaluating"
    scores, pairs_per_second = score_splits(recipe, trainer, tokenizer, splits, tokenized, profile.max_length)
    rows, validation, chosen = result_rows(recipe, scores, seconds, pairs_per_second)
    main_process = trainer.is_world_process_zero()
    if main_process:
        stage.now = "saving"
        with deferred_interrupts():  # a Ctrl-C now waits: the model and its results are written together
            folder = save(recipe, trainer, tokenizer, run, chosen)
            path = run.write_results(describe(pick_device()), splits, rows=rows, validation=validation,
                                     recipe=recipe.name, processes=trainer.args.world_size,
                                     majority_baseline=majority_baseline(splits["test"]["label"]))
            stage.done = True
        print(f"model: {project_relative(folder)}\nresults: {project_relative(path)}")
        for row in rows:
            print(f"test accuracy {row['accuracy']:.4f}  F1 {row['f1']:.4f}  threshold {row['threshold']} "
                  f"({row['threshold_source']})")
    if recorder:
        recorder.write(trainer, splits, saved=main_process)
    return {"rows": rows, "validation": validation}


def score_splits(recipe: Recipe, trainer, tokenizer, splits, tokenized, max_length: int):
    """``{split: (scores, labels)}`` for validation and test, and the test pairs scored per second (cross only).

    Cross-encoders: ``trainer.predict`` on every process (it gathers the shares); their labels come from
    ``label_ids``, since length grouping reorders the pairs. Classification's score is l1 - l0, so that
    ``score > 0`` is exactly notebook 01's argmax. Bi-encoders: the cosines of ``pair_cosines``, in dataset order.
    """
    found, speed = {}, None
    for name in ("validation", "test"):
        if recipe.job == "bi":
            from .biencoder import pair_cosines

            found[name] = (pair_cosines(trainer.model, tokenizer, splits[name], max_length=max_length),
                           np.asarray(splits[name]["label"], dtype=int))
            continue
        output, speed = timed_predict(trainer, tokenized[name])
        logits = output.predictions[0] if isinstance(output.predictions, tuple) else output.predictions
        score = logits[:, 1] - logits[:, 0] if logits.shape[-1] == 2 else logits.reshape(-1)
        found[name] = (score, np.asarray(output.label_ids).reshape(-1).astype(int))
    return found, speed


def result_rows(recipe: Recipe, scores: dict, seconds: float, pairs_per_second: float | None):
    """The notebook's rows for this recipe (test metrics at each threshold it reports), the validation metrics at
    those thresholds, and the threshold chosen on validation (None when the recipe chooses none)."""
    (val, val_labels), (test, test_labels) = scores["validation"], scores["test"]
    cuts = [recipe.fixed] if recipe.fixed else []
    chosen = best_threshold(val, val_labels) if recipe.choose else None
    if chosen is not None:
        cuts.append((chosen, CHOSEN))
    extra = {"train_seconds": round(seconds, 1)}
    if pairs_per_second:
        extra["eval_pairs_per_second"] = round(pairs_per_second, 1)
    rows, validation = [], {}
    for cut, source in cuts:
        metrics = metrics_for(recipe, test, test_labels, cut)
        rows.append(metric_row(recipe.title, metrics, cut, source, pairs=len(test_labels), **extra))
        validation[source] = metrics_for(recipe, val, val_labels, cut)
    return rows, validation, chosen


def metrics_for(recipe: Recipe, scores, labels, cut: float) -> dict:
    if recipe.num_labels == 2:  # the argmax of two logits: 相似 when l1 > l0, whatever the reported 0.5
        return classification_metrics(labels, scores > 0)
    return metrics_at(scores, labels, cut)


def save(recipe: Recipe, trainer, tokenizer, run: Run, chosen: float | None) -> Path:
    """Save the model as its notebook does (config.threshold = the validation threshold where one is chosen),
    through a temporary folder that replaces the model folder only when complete (``replace_folder``)."""
    model = trainer.model
    if chosen is not None:
        model.config.threshold = chosen

    def write(folder: Path) -> None:
        if recipe.job == "bi":  # notebook 03: also a sentence-transformers folder
            from .export import save_for_sentence_transformers

            save_for_sentence_transformers(model, tokenizer, folder, max_length=run.profile.max_length)
            return
        trainer.save_model(str(folder))  # save_pretrained, and the tokenizer (processing_class)
        if recipe.num_labels == 1:  # notebook 02: also a CrossEncoder folder (no sigmoid)
            from .export import save_for_cross_encoder

            save_for_cross_encoder(model, tokenizer, folder, max_length=run.profile.max_length)

    return replace_folder(run.model_dir(), write)


if __name__ == "__main__":
    sys.exit(main())
