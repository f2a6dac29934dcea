"""The figures of the series: learning curves, score histograms, confusion matrices, threshold curves.

Taught in notebook 01 (learning curves, confusion matrix) and notebook 02 (histogram, threshold curve).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay

from .metrics import metric_curve

plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"]
plt.rcParams["axes.unicode_minus"] = False


def learning_curves(log_history: list[dict], title: str = ""):
    """Training loss by step, validation loss and accuracy by epoch, from ``trainer.state.log_history``."""
    train = [(row["step"], row["loss"]) for row in log_history if "loss" in row]
    evals = [row for row in log_history if "eval_loss" in row]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    if train:
        left.plot(*zip(*train), label="train loss")
    if evals:
        left.plot([r["step"] for r in evals], [r["eval_loss"] for r in evals], "o-", label="validation loss")
        right.plot([r["epoch"] for r in evals], [r["eval_accuracy"] for r in evals], "o-", label="accuracy")
        right.plot([r["epoch"] for r in evals], [r["eval_f1"] for r in evals], "s-", label="F1")
    left.set(xlabel="step", ylabel="loss", title=title)
    right.set(xlabel="epoch", ylabel="validation", ylim=(0, 1))
    left.legend(), right.legend()
    fig.tight_layout()
    return fig


def confusion(labels, predictions, title: str = ""):
    display = ConfusionMatrixDisplay.from_predictions(
        np.asarray(labels).astype(int), np.asarray(predictions).astype(int),
        display_labels=["0 (dissimilar)", "1 (similar)"], colorbar=False)
    display.ax_.set_title(title)
    display.figure_.set_size_inches(4, 3.5)
    return display.figure_


def score_histogram(scores, labels, threshold: float | None = None, title: str = "", ax=None):
    """Scores of the 相似 and 不相似 pairs, overlaid; a good model separates the two humps."""
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    scores, labels = np.asarray(scores), np.asarray(labels).astype(int)
    bins = np.linspace(scores.min(), scores.max(), 40)
    for value, name in ((0, "label 0 (dissimilar)"), (1, "label 1 (similar)")):
        ax.hist(scores[labels == value], bins=bins, alpha=0.6, label=name)
    if threshold is not None:
        ax.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold:.3f}")
    ax.set(xlabel="score", ylabel="pairs", title=title)
    ax.legend()
    return ax.figure


def threshold_curve(scores, labels, marks: dict[str, float], title: str = ""):
    """Accuracy and F1 against the threshold, with named thresholds (fixed, chosen on validation) marked."""
    cuts = np.linspace(np.min(scores), np.max(scores), 101)
    curve = metric_curve(scores, labels, cuts)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(cuts, curve["accuracy"], label="accuracy")
    ax.plot(cuts, curve["f1"], label="F1")
    for name, cut in marks.items():
        ax.axvline(cut, linestyle="--", color="gray")
        ax.text(cut, 0.05, f" {name}", rotation=90)
    ax.set(xlabel="threshold", ylabel="test", ylim=(0, 1), title=title)
    ax.legend()
    return fig

