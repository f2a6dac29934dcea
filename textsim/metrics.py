"""Every metric of the series: classification metrics (scikit-learn), thresholds chosen on the validation split,
intervals (Wilson, bootstrap), and the ranking metrics of notebook 04 (Recall@k, MRR@k).

Notebook 01 teaches the Trainer's ``compute_metrics`` with ``evaluate`` (local metric modules in
``textsim/evaluate_metrics/``, found by ``local_metric``, since ``evaluate.load("accuracy")`` needs the Hub); these
functions give the same numbers and are what notebooks 02-04 use for thresholds, test reports and intervals.
"""
from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

from .checks import check_positive_int

if TYPE_CHECKING:
    from .retrieval import Ranking


def classification_metrics(labels, predictions) -> dict[str, float]:
    """Accuracy, and F1 / precision / recall of the positive class (label 1, 相似)."""
    labels, predictions = np.asarray(labels).astype(int), np.asarray(predictions).astype(int)
    if labels.shape != predictions.shape or labels.size == 0:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} must be equal, non-empty")
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predictions, average="binary", pos_label=1, zero_division=0)
    return {"accuracy": float(accuracy_score(labels, predictions)), "f1": float(f1),
            "precision": float(precision), "recall": float(recall)}


def majority_baseline(labels) -> float:
    """Accuracy of always answering the most frequent label: every model must beat it."""
    counts = np.bincount(np.asarray(labels).astype(int), minlength=2)
    return float(counts.max() / counts.sum())


def best_threshold(scores, labels, metric: str = "accuracy") -> float:
    """The cut that maximises ``metric`` when ``score >= cut`` means 相似; midpoints between scores."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels).astype(int)
    cuts = np.unique(scores)
    candidates = np.concatenate([[cuts[0] - 1e-6], (cuts[:-1] + cuts[1:]) / 2, [cuts[-1] + 1e-6]])
    values = [classification_metrics(labels, scores >= cut)[metric] for cut in candidates]
    return float(candidates[int(np.argmax(values))])


def metrics_at(scores, labels, threshold: float) -> dict[str, float]:
    """The metrics when ``score >= threshold`` means 相似 (a NaN or infinite threshold is refused)."""
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    return classification_metrics(labels, np.asarray(scores) >= threshold)


def metric_curve(scores, labels, thresholds) -> dict[str, list[float]]:
    """Accuracy and F1 at each threshold, for the threshold plot of notebook 02."""
    rows = [metrics_at(scores, labels, t) for t in thresholds]
    return {name: [row[name] for row in rows] for name in ("accuracy", "f1")}


def trainer_metrics(threshold: float | None = 0.5):
    """A Trainer ``compute_metrics``: argmax over 2 logits, else ``score >= threshold`` for one score.

    ``threshold=None`` picks the best cut on the evaluated (validation) split itself and reports it, so that
    checkpoints of a bi-encoder are compared at their own best threshold. Labels may be 0/1, floats
    (regression) or -1/1 (``CosineEmbeddingLoss``): positive means 相似.
    """
    def compute(eval_prediction) -> dict[str, float]:
        scores = eval_prediction.predictions
        scores = scores[0] if isinstance(scores, tuple) else scores
        labels = np.asarray(eval_prediction.label_ids).reshape(-1) > 0
        if scores.ndim == 2 and scores.shape[1] == 2:
            return classification_metrics(labels, scores.argmax(axis=1))
        cut = best_threshold(scores.reshape(-1), labels) if threshold is None else threshold
        return {**classification_metrics(labels, scores.reshape(-1) >= cut), "threshold": float(cut)}

    return compute


def wilson_interval(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion such as a test accuracy or a Recall@1.

    With 1,000 test pairs an accuracy near 0.84 is known to about ±2.3 points: two models whose intervals overlap
    that much are not told apart by this test set.
    """
    if total < 1 or not 0 <= successes <= total:
        raise ValueError(f"need 0 <= successes <= total and total >= 1, got {successes} of {total}")
    share = successes / total
    centre = (share + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))



def bootstrap_interval(values, resamples: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of per-item ``values``: a metric that is a mean over queries (MRR,
    one reciprocal rank each), or the per-query difference of two systems on the same queries (paired, so the
    queries' own difficulty cancels out). scipy: ``scipy.stats.bootstrap``."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"values must be a non-empty list of numbers, got shape {values.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    tail = 100 * (1 - level) / 2
    return float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def local_metric(name: str) -> str:
    """The folder of one of textsim's own ``evaluate`` metrics: ``evaluate.load`` of it needs no network."""
    return str(files("textsim") / "evaluate_metrics" / name)


# Ranking metrics (notebook 04): where the relevant document lands in each query's ranking.

def relevant_ranks(ranking: Ranking, corpus: list[str], relevant: list[str]) -> list[int | None]:
    """Rank (1 = first) of each query's relevant document in its ranking; None where it is not in the list."""
    if len(ranking.ids) != len(relevant):
        raise ValueError(f"{len(ranking.ids)} rankings but {len(relevant)} relevant documents: give one per query")
    if not relevant:
        raise ValueError("no queries to evaluate: the ranking is empty")
    ranks = []
    for ids, document in zip(ranking.ids, relevant):
        hits = [rank for rank, i in enumerate(ids, start=1) if i >= 0 and corpus[i] == document]  # -1: no result
        ranks.append(hits[0] if hits else None)
    return ranks


def recall_at_k(ranks: list[int | None], k: int) -> float:
    """Share of queries whose relevant document is among the first k."""
    if not ranks:
        raise ValueError("no queries to evaluate: ranks is empty")
    check_positive_int(k, "k")
    return float(np.mean([rank is not None and rank <= k for rank in ranks]))


def mrr_at_k(ranks: list[int | None], k: int) -> float:
    """Mean of 1/rank of the relevant document, counting 0 where it is not among the first k."""
    if not ranks:
        raise ValueError("no queries to evaluate: ranks is empty")
    check_positive_int(k, "k")
    return float(np.mean([1 / rank if rank is not None and rank <= k else 0.0 for rank in ranks]))


def ranking_metrics(ranking: Ranking, corpus: list[str], relevant: list[str], ks=(1, 5, 10)) -> dict[str, float]:
    """Recall@k for each k of ``ks`` and MRR@max(ks): the columns of the results tables."""
    ranks = relevant_ranks(ranking, corpus, relevant)
    if not ks:
        raise ValueError("ks is empty: give at least one k")
    for k in ks:
        check_positive_int(k, f"each k of ks={ks!r}")
    metrics = {f"recall@{k}": recall_at_k(ranks, k) for k in ks}
    metrics[f"mrr@{max(ks)}"] = mrr_at_k(ranks, max(ks))
    return metrics


def recall_curve(ranking: Ranking, corpus, relevant, depth: int) -> list[float]:
    """Recall@k for k = 1 .. depth, for the recall-against-k plot."""
    ranks = relevant_ranks(ranking, corpus, relevant)
    return [recall_at_k(ranks, k) for k in range(1, depth + 1)]
