"""One way to evaluate a trained recipe and save it, for the notebooks and the training command alike: a score per
pair on validation and test, the test rows at the recipe's fixed threshold and at the one chosen on validation,
and the saved model with the exports its notebook teaches.

Taught in notebook 01 (``predicted_scores``, ``cut_metrics``, ``result_rows``), whose ``#@save`` cells show them as
written here; ``save_trained`` is called there, not shown. Notebooks 02-03 and ``python -m textsim.train`` use them
too, so a run on your own pairs reports exactly what the notebooks report.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .biencoder import pair_cosines
from .export import save_for_cross_encoder, save_for_sentence_transformers
from .metrics import best_threshold, classification_metrics, metrics_at
from .series.profiles import Recipe
from .series.results import metric_row, replace_folder
from .training import timed_predict

CHOSEN = "validation (max accuracy)"  # the threshold source of a cut chosen on validation


def predicted_scores(trainer, dataset):
    """A cross-encoder's score per pair from ``trainer.predict``, the pairs' labels and the pairs scored per second.

    For two logits the score is l1 - l0, so ``score > 0`` is exactly the argmax (and its sigmoid is P(相似)). The
    labels come from ``label_ids``: with length grouping the Trainer predicts in another order than the dataset's.
    """
    output, pairs_per_second = timed_predict(trainer, dataset)
    logits = output.predictions[0] if isinstance(output.predictions, tuple) else output.predictions
    scores = logits[:, 1] - logits[:, 0] if logits.shape[-1] == 2 else logits.reshape(-1)
    return scores, np.asarray(output.label_ids).reshape(-1).astype(int), pairs_per_second


def cut_metrics(recipe: Recipe, scores, labels, cut: float) -> dict:
    """The metrics when ``score >= cut`` means 相似; two logits: their argmax, whatever the reported cut."""
    if recipe.num_labels == 2:
        return classification_metrics(labels, np.asarray(scores) > 0)
    return metrics_at(scores, labels, cut)


def split_scores(recipe: Recipe, trainer, tokenizer, splits, tokenized, max_length: int):
    """``{"validation": (scores, labels), "test": (scores, labels)}`` and the test pairs scored per second (None
    for a bi-encoder, whose scores are the cosines of ``pair_cosines``, in dataset order)."""
    found, speed = {}, None
    for name in ("validation", "test"):
        if recipe.job == "bi":
            found[name] = (pair_cosines(trainer.model, tokenizer, splits[name], max_length=max_length),
                           np.asarray(splits[name]["label"], dtype=int))
        else:
            predicted, labels, speed = predicted_scores(trainer, tokenized[name])
            found[name] = (predicted, labels)
    return found, speed


def result_rows(recipe: Recipe, scores: dict, **extra):
    """The recipe's results rows (test metrics at its fixed threshold, then at the one chosen on validation), the
    validation metrics at those thresholds, and the chosen threshold (None when the recipe chooses none).
    ``extra``: more columns of every row, such as ``train_seconds``."""
    (validation_scores, validation_labels), (test_scores, test_labels) = scores["validation"], scores["test"]
    cuts = [recipe.fixed] if recipe.fixed else []
    chosen = best_threshold(validation_scores, validation_labels) if recipe.choose else None
    if chosen is not None:
        cuts.append((chosen, CHOSEN))
    rows, validation = [], {}
    for cut, source in cuts:
        rows.append(metric_row(recipe.title, cut_metrics(recipe, test_scores, test_labels, cut), cut, source,
                               pairs=len(test_labels), **extra))
        validation[source] = cut_metrics(recipe, validation_scores, validation_labels, cut)
    return rows, validation, chosen


def save_trained(recipe: Recipe, model, tokenizer, folder: Path, max_length: int,
                 threshold: float | None = None) -> Path:
    """Save the model with its tokenizer (``config.threshold``: the validation threshold, when given), plus the
    folder of its sentence-transformers class: ``SentenceTransformer`` (bi-encoders) or ``CrossEncoder``
    (regression). Written to a temporary folder that replaces ``folder`` only once complete."""
    if threshold is not None:
        model.config.threshold = threshold

    def write(target: Path) -> None:
        if recipe.job == "bi":
            save_for_sentence_transformers(model, tokenizer, target, max_length=max_length)
            return
        model.save_pretrained(target)
        tokenizer.save_pretrained(target)
        if recipe.num_labels == 1:  # a score without sigmoid: sentence-transformers' CrossEncoder reads it as is
            save_for_cross_encoder(model, tokenizer, target, max_length=max_length)

    return replace_folder(folder, write)
