"""The series' four training recipes (``RECIPES``, in series/profiles.py), each wired once: the model it starts
from, its inputs and its Trainer.

Notebooks 01 and 02 (cross-encoders) and 03 (the two bi-encoder recipes) build their Trainers here, and so does
``python -m textsim.train``, so a run on your own pairs, on one process or many, trains what the notebooks train.
Every function takes a ``Recipe``; only the command line looks one up by name (``recipe_named``).
"""
from __future__ import annotations

from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding, Trainer, set_seed

from .biencoder import BiEncoder, PairCollator, tokenize_sides
from .data import LABEL_NAMES
from .device import launch_overrides
from .metrics import trainer_metrics
from .models import load_pretrained
from .series.profiles import Recipe
from .series.run import Run
from .training import tokenize_pairs, training_arguments


def load_model(recipe: Recipe, base: str, seed: int):
    """The recipe's model from the checkpoint ``base``, its new weights seeded: ``(model, new_weight_names)``."""
    set_seed(seed)  # the head (and a missing pooler) start from random values: the same ones every run
    if recipe.job == "bi":
        return load_pretrained(BiEncoder, base, **dict(recipe.settings))
    labels = dict(id2label=dict(enumerate(LABEL_NAMES)), label2id={n: i for i, n in enumerate(LABEL_NAMES)})
    return load_pretrained(AutoModelForSequenceClassification, base, num_labels=recipe.num_labels,
                           **(labels if recipe.num_labels == 2 else {}))


def tokenize(recipe: Recipe, splits, tokenizer, max_length: int = 128) -> dict:
    """Each split as the recipe's model reads it: pairs (float labels for regression) or each side alone."""
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
        callbacks=[run.tensorboard()],  # learning curves for TensorBoard
    )


def bi_encoder_trainer(run: Run, model, tokenizer, tokenized, recipe: Recipe) -> Trainer:
    """Notebook 03: the Trainer of the bi-encoder recipe ``bi-original`` or ``bi-improved``."""
    learning_rate, epochs = run.profile.schedule(recipe.hyper)
    args = training_arguments(run, learning_rate=learning_rate, epochs=epochs, part=recipe.part,
                              remove_unused_columns=False,  # PairCollator reads the _1 / _2 columns itself
                              **launch_overrides())
    return Trainer(model=model, args=args, data_collator=PairCollator(tokenizer),
                   train_dataset=tokenized["train"], eval_dataset=tokenized["validation"],
                   compute_metrics=trainer_metrics(threshold=recipe.metric_threshold),
                   callbacks=[run.tensorboard(recipe.part)])


def recipe_trainer(run: Run, recipe: Recipe, model, tokenizer, tokenized) -> Trainer:
    """The Trainer of any recipe: ``bi_encoder_trainer`` or ``cross_encoder_trainer``."""
    if recipe.job == "bi":
        return bi_encoder_trainer(run, model, tokenizer, tokenized, recipe)
    return cross_encoder_trainer(run, model, tokenizer, tokenized)
