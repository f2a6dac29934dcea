"""Train one of the notebooks' recipes on your own pairs, on one process or many.

    python -m textsim.train --recipe classification --data my_pairs.csv --profile smoke
    torchrun --nproc_per_node 2 -m textsim.train --recipe bi-improved --data my_pairs.tsv
    accelerate launch --num_processes 2 -m textsim.train --recipe regression --data my_pairs.json

The data: JSON lines like the tutorial's file, or CSV / TSV with the columns sentence1, sentence2, label; bad
rows raise the same errors as the notebooks' (file and line). The seeded 80/10/10 split and the profile's limits
are those of ``load_splits``; the model, inputs and Trainer come from ``textsim.recipes`` and the evaluation and
saving from ``textsim.evaluation``, which the notebooks use too. Under torchrun or accelerate launch the Trainer
trains with DDP (gloo on the CPU, NCCL on CUDA): every process splits the data the same way, each trains on its own
share of each step's batches, and only the first process saves the model (``save_pretrained``, with the tokenizer)
and the results file.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from transformers import AutoTokenizer

from .data import DataError, load_splits
from .device import describe, pick_device
from .evaluation import result_rows, save_trained, split_scores
from .metrics import majority_baseline
from .models import ModelLoadError, ModelNotFoundError, resolve_model
from .recipes import load_model, recipe_trainer, tokenize
from .series.launch_record import FirstBatch
from .series.profiles import PROJECT_ROOT, RECIPES, Recipe, load_profile, project_relative, recipe_named
from .series.results import deferred_interrupts
from .series.run import Run, quiet_logs
from .training import timed_train


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
        model, _ = load_model(recipe, checkpoint, seed)
    except (OSError, ValueError) as error:  # no tokenizer files, a corrupt config.json, unreadable weights
        raise ModelLoadError(f"--model {base}: cannot load a tokenizer and model from it ({one_line(error)})") \
            from None
    return tokenizer, model


def train(args: argparse.Namespace, stage: Stage | None = None) -> dict:
    """Train ``args.recipe`` and evaluate it; the first process saves the model and writes the results."""
    stage = stage or Stage()
    quiet_logs()
    recipe = recipe_named(args.recipe)
    profile = load_profile(args.profile, args.model, jobs=(recipe.job,))
    data = args.data.expanduser().resolve() if args.data else None
    stage.now = "reading the data"
    splits = load_splits(profile, data)
    run = Run(profile, recipe.command_run, check_out(args.out), data)
    stage.now = "loading the base model"
    tokenizer, model = load_base(recipe, profile.model_for(recipe.job), profile.seed)
    tokenized = tokenize(recipe, splits, tokenizer, profile.max_length)
    trainer = recipe_trainer(run, recipe, model, tokenizer, tokenized)
    recorder = FirstBatch.attach(trainer) if args.record_ranks else None
    stage.now = "training"
    seconds = timed_train(trainer)
    stage.now = "evaluating"
    scores, pairs_per_second = split_scores(recipe, trainer, tokenizer, splits, tokenized, profile.max_length)
    speed = {"eval_pairs_per_second": round(pairs_per_second, 1)} if pairs_per_second else {}
    rows, validation, chosen = result_rows(recipe, scores, train_seconds=round(seconds, 1), **speed)
    main_process = trainer.is_world_process_zero()
    if main_process:
        stage.now = "saving"
        with deferred_interrupts():  # a Ctrl-C now waits: the model and its results are written together
            folder = save_trained(recipe, trainer.model, tokenizer, run.model_dir(), profile.max_length, chosen)
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


if __name__ == "__main__":
    sys.exit(main())
