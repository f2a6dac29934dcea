"""The series' four training recipes, each wired once: the model it starts from, its inputs and its Trainer.

Notebooks 01 and 02 (cross-encoders) and 03 (the two bi-encoder recipes) build their Trainers here, and so does
``python -m textsim.train``, so a run on your own pairs, on one process or many, trains what the notebooks train.
"""
from __future__ import annotations

import dataclasses

from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding, Trainer, set_seed

from .biencoder import BiEncoder, PairCollator, tokenize_sides
from .data import LABEL_NAMES
from .device import pick_device
from .metrics import trainer_metrics
from .models import load_pretrained
from .run import Run
from .training import tokenize_pairs, training_arguments


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What differs between the recipes; the results rows name them by ``title``, as the notebooks do."""

    name: str  # python -m textsim.train --recipe NAME
    job: str  # "cross" or "bi": the base model is Profile.cross_model or Profile.bi_model
    title: str
    hyper: str  # Profile fields <hyper>_lr and <hyper>_epochs
    num_labels: int = 1  # cross-encoders: 2 logits (classification) or 1 score (regression)
    settings: tuple = ()  # bi-encoders: BiEncoder config fields, as (name, value) pairs
    part: str = ""  # the notebook's name for this training run (checkpoints, TensorBoard)
    fixed: tuple | None = None  # (threshold, source) of the fixed cut the notebook reports
    choose: bool = True  # also report the threshold chosen on validation
    metric_threshold: float | None = 0.5  # trainer_metrics(threshold): None picks the best cut per evaluation


RECIPES = {recipe.name: recipe for recipe in (
    Recipe("classification", "cross", "cross-encoder (classification)", "cross", num_labels=2,
           fixed=(0.5, "fixed (argmax of 2 logits)"), choose=False),
    Recipe("regression", "cross", "cross-encoder (regression)", "cross", fixed=(0.5, "fixed 0.5 (original)")),
    Recipe("bi-original", "bi", "bi-encoder original recipe (pooler + CosineEmbeddingLoss)", "original_bi",
           settings=(("pooling", "pooler"), ("loss", "cosine_embedding"), ("margin", 0.3), ("threshold", 0.8)),
           part="original_recipe", fixed=(0.8, "fixed 0.8 (original)"), metric_threshold=0.8),
    Recipe("bi-improved", "bi", "bi-encoder improved (mean + contrastive)", "improved_bi",
           settings=(("pooling", "mean"), ("loss", "contrastive"), ("margin", 0.5)), part="improved",
           metric_threshold=None),
)}


def recipe_named(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of {sorted(RECIPES)}")
    return RECIPES[name]


def load_model(recipe: str, base: str, seed: int):
    """The recipe's model from the checkpoint ``base``, its new weights seeded: ``(model, new_weight_names)``."""
    recipe = recipe_named(recipe)
    set_seed(seed)  # the head (and a missing pooler) start from random values: the same ones every run
    if recipe.job == "bi":
        return load_pretrained(BiEncoder, base, **dict(recipe.settings))
    labels = dict(id2label=dict(enumerate(LABEL_NAMES)), label2id={n: i for i, n in enumerate(LABEL_NAMES)})
    return load_pretrained(AutoModelForSequenceClassification, base, num_labels=recipe.num_labels,
                           **(labels if recipe.num_labels == 2 else {}))


def tokenize(recipe: str, splits, tokenizer, max_length: int = 128) -> dict:
    """Each split as the recipe's model reads it: pairs (float labels for regression) or each side alone."""
    recipe = recipe_named(recipe)
    if recipe.job == "bi":
        return {name: tokenize_sides(part, tokenizer, max_length) for name, part in splits.items()}
    tokenized = {name: tokenize_pairs(part, tokenizer, max_length) for name, part in splits.items()}
    if recipe.num_labels == 1:  # MSE needs float targets
        tokenized = {name: part.map(float_labels, batched=True, remove_columns=["label"])
                     for name, part in tokenized.items()}
    return tokenized


def float_labels(batch):
    return {"labels": [float(label) for label in batch["label"]]}


def cross_encoder_trainer(run: Run, model, tokenizer, tokenized, compute_metrics=None) -> Trainer:
    """Notebooks 01 and 02: the cross-encoder's Trainer. ``compute_metrics`` defaults to ``trainer_metrics(0.5)``
    (notebook 01 passes its own, built on ``evaluate``, which gives the same numbers)."""
    return Trainer(
        model=model,
        args=training_arguments(run, learning_rate=run.profile.cross_lr, epochs=run.profile.cross_epochs,
                                **launch_overrides()),
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"],  # checkpoints are chosen on validation
        data_collator=DataCollatorWithPadding(tokenizer),  # each batch padded to its own longest pair
        processing_class=tokenizer,  # saved with the model
        compute_metrics=compute_metrics or trainer_metrics(threshold=0.5),
        callbacks=[run.tensorboard()],  # learning curves in runs/<profile>/<notebook>/
    )


def bi_encoder_trainer(run: Run, model, tokenizer, tokenized, recipe: str) -> Trainer:
    """Notebook 03: the Trainer of the bi-encoder recipe ``bi-original`` or ``bi-improved``."""
    recipe = recipe_named(recipe)
    profile = run.profile
    args = training_arguments(run, learning_rate=getattr(profile, f"{recipe.hyper}_lr"),
                              epochs=getattr(profile, f"{recipe.hyper}_epochs"), part=recipe.part,
                              remove_unused_columns=False,  # PairCollator reads the _1 / _2 columns itself
                              **launch_overrides())
    return Trainer(model=model, args=args, data_collator=PairCollator(tokenizer),
                   train_dataset=tokenized["train"], eval_dataset=tokenized["validation"],
                   compute_metrics=trainer_metrics(threshold=recipe.metric_threshold),
                   callbacks=[run.tensorboard(recipe.part)])


def launch_overrides() -> dict:
    """What one process does not need and several do (under torchrun / accelerate launch). ``use_cpu``: without
    it, CPU processes would each train alone instead of with DDP over gloo. ``average_tokens_across_devices``:
    our losses are per-pair means, so the Trainer must not multiply them by the number of processes (that scales
    the logged losses and the gradients, which are clipped, by that number)."""
    return {"use_cpu": pick_device().type == "cpu", "average_tokens_across_devices": False}


def recipe_trainer(run: Run, recipe: str, model, tokenizer, tokenized) -> Trainer:
    if recipe_named(recipe).job == "bi":
        return bi_encoder_trainer(run, model, tokenizer, tokenized, recipe)
    return cross_encoder_trainer(run, model, tokenizer, tokenized)
