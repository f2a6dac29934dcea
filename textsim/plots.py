"""The figures of the series: learning curves, score histograms, confusion matrices, threshold curves, the
rerank ceiling and the latency per query.

Labels are in English so that every figure renders without a CJK font. Used by notebooks 01-05.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import ConfusionMatrixDisplay

from .metrics import metric_curve, ranking_metrics, recall_curve


def learning_curves(log_history: list[dict], title: str = "", before: dict | None = None, smooth: int = 5):
    """Training loss by step (raw and a running mean of ``smooth`` logs), validation loss and metrics by epoch.

    ``before`` is ``trainer.evaluate()`` from before training: it becomes the point at step 0 / epoch 0.
    """
    train = np.array([(row["step"], row["loss"]) for row in log_history if "loss" in row]).reshape(-1, 2)
    evals = ([{**before, "step": 0, "epoch": 0.0}] if before else []) + \
        [row for row in log_history if "eval_loss" in row]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    if len(train):
        left.plot(train[:, 0], train[:, 1], color="tab:blue", alpha=0.3, label="train loss")
        if len(train) >= smooth:
            kernel = np.ones(smooth) / smooth
            left.plot(train[smooth - 1:, 0], np.convolve(train[:, 1], kernel, mode="valid"), color="tab:blue",
                      label=f"train loss, mean of {smooth} logs")
    if evals:
        left.plot([r["step"] for r in evals], [r["eval_loss"] for r in evals], "o-", color="tab:orange",
                  label="validation loss")
        for name, style in (("accuracy", dict(marker="o")), ("f1", dict(marker="s", markersize=9, mfc="none"))):
            right.plot([r["epoch"] for r in evals], [r[f"eval_{name}"] for r in evals], "-", **style,
                       label=f"validation {name}")  # hollow, larger squares: neither marker hides the other
    left.set(xlabel="step", ylabel="loss", title=title)
    right.set(xlabel="epoch", ylabel="validation", ylim=(0, 1), title="epoch 0 = before training" if before else "")
    right.xaxis.set_major_locator(MaxNLocator(integer=True))  # ticks at whole epochs only
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


def score_histogram(scores, labels, threshold: float | None = None, title: str = "", ax=None,
                    marks: dict[str, float] | None = None):
    """Scores of the 相似 and 不相似 pairs, overlaid; a good model separates the two humps.

    ``threshold`` draws one dashed line; ``marks`` draws several named ones (e.g. the seed's 0.8 and ours).
    """
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    scores, labels = np.asarray(scores), np.asarray(labels).astype(int)
    bins = np.linspace(scores.min(), scores.max(), 40)
    for value, name in ((0, "label 0 (dissimilar)"), (1, "label 1 (similar)")):
        ax.hist(scores[labels == value], bins=bins, alpha=0.6, label=name)
    marks = dict(marks or {})
    if threshold is not None:
        marks[f"threshold {threshold:.3f}"] = threshold
    for (name, cut), style in zip(marks.items(), ("--", ":", "-.", "-")):
        ax.axvline(cut, color="k", linestyle=style, label=name)
    ax.set(xlabel="score", ylabel="pairs", title=title)
    ax.legend()
    return ax.figure


def threshold_curve(scores, labels, marks: dict[str, float], title: str = "", split: str = "validation"):
    """Accuracy and F1 on ``split`` against the threshold, with named thresholds marked."""
    cuts = np.linspace(np.min(scores), np.max(scores), 101)
    curve = metric_curve(scores, labels, cuts)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(cuts, curve["accuracy"], label="accuracy")
    ax.plot(cuts, curve["f1"], label="F1")
    for name, cut in marks.items():
        ax.axvline(cut, linestyle="--", color="gray")
        ax.text(cut, 0.05, f" {name}", rotation=90)
    ax.set(xlabel="threshold", ylabel=split, ylim=(0, 1), title=title)
    ax.legend()
    return fig


def rerank_ceiling(retrieved, test_rankings: dict, depths: dict, corpus: list[str], relevant: list[str],
                   max_k: int):
    """The retriever's Recall@k up to ``max_k`` (the ceiling of reranking its top k), each pipeline's Recall@1 at
    the depth it reranks (``test_rankings[name][how]``, ``how`` "fused" as a dot, "alone" as a cross, depth
    ``depths[name][how]``) and the retriever's own Recall@1 as a dotted line."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(range(1, max_k + 1), recall_curve(retrieved, corpus, relevant, max_k), "-",
            label="improved bi-encoder: Recall@k (the ceiling of reranking its top k)")
    for name, pair in test_rankings.items():
        for how, ranking in pair.items():
            depth = depths[name][how]
            ax.plot([depth], [ranking_metrics(ranking, corpus, relevant)["recall@1"]], "o" if how == "fused" else "x",
                    label=f"Recall@1: {name}, {how} (top {depth})")
    ax.axhline(ranking_metrics(retrieved, corpus, relevant)["recall@1"], color="grey", linestyle=":",
               label="Recall@1: bi-encoder alone")
    ax.set(xscale="log", xlabel="k (log scale)", ylabel="recall", title=f"{len(relevant)} test queries")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    return fig


def latency_per_query(sizes, faiss_ms: dict, ms_per_pair: float, rerank_ms: float, rerank_depth: int,
                      corpus_size: int, retrieve_ms: float, pipeline_ms: float):
    """Notebook 05's latency figure, log-log against the corpus size: the cross-encoder on every candidate
    (extrapolated from ``ms_per_pair``), faiss exact search alone (``faiss_ms``: size -> ms), the reranking of the
    top ``rerank_depth`` (``rerank_ms``), and the measured per-query times of retrieval and of the whole pipeline
    at ``corpus_size``. Every time is one query at a time."""
    sizes = np.asarray(sizes)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.loglog(sizes, ms_per_pair * sizes, "o--",
              label="cross-encoder on every candidate (ms per pair × size, extrapolated)")
    ax.loglog(sizes, [faiss_ms[s] for s in sizes], "o-", label="faiss exact search alone (measured, random vectors)")
    ax.axhline(rerank_ms, color="tab:green", linestyle=":",
               label=f"rerank + fusion of the top {rerank_depth} (measured)")
    ax.loglog([corpus_size], [retrieve_ms], "k^", label="encode query + search, this corpus (measured)")
    ax.loglog([corpus_size], [pipeline_ms], "kv", label="encode + search + rerank + fuse, this corpus (measured)")
    ax.set(xlabel="corpus size (sentences)", ylabel="ms per query", title="Latency per query")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    return fig
