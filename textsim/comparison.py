"""Comparisons of results, with their noise. ``accuracy_table`` and ``accuracy_comparisons``: test accuracies with
their 95% Wilson intervals and which differences exceed the noise (notebooks 01-03). ``RankingTable``: a results
table of rankings, one row per method with Recall@1/5/10, MRR@10, the 95% interval of Recall@1 and the
milliseconds per query (``frame`` shows Recall@1, Recall@10, MRR@10 and the time), and paired comparisons of two rows
on the queries both were scored on.

Used by notebooks 04 and 05; 04 explains the paired bootstrap (section 7) and the comparisons (section 9).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import bootstrap_interval, ranking_metrics, relevant_ranks, wilson_interval


def accuracy_interval(accuracy: float, pairs: int) -> tuple[float, float]:
    """The 95% Wilson interval of an accuracy measured on ``pairs`` pairs."""
    return wilson_interval(round(accuracy * pairs), pairs)


def accuracy_table(results: dict) -> pd.DataFrame:
    """One line per result ``name: (accuracy, pairs)``: the accuracy with its 95% interval (None: not run yet)."""
    return pd.DataFrame([{"result": name, "pairs": found[1] if found else None,
                          "accuracy [95% CI]": "{:.3f} [{:.3f}, {:.3f}]".format(found[0], *accuracy_interval(*found))
                          if found else "not run yet"} for name, found in results.items()]).set_index("result")


def accuracy_comparisons(results: dict, pairs) -> pd.DataFrame:
    """One line per (A, B) of ``results``: A − B in points and a verdict. Measured on different examples (or
    without their per-pair predictions) no paired interval exists, so the test is conservative: "beyond noise"
    only when the two 95% intervals do not overlap."""
    lines = []
    for a, b in pairs:
        if results.get(a) is None or results.get(b) is None:
            lines.append({"A": a, "B": b, "A − B (points)": None, "verdict": "not run yet"})
            continue
        (low_a, high_a), (low_b, high_b) = accuracy_interval(*results[a]), accuracy_interval(*results[b])
        lines.append({"A": a, "B": b, "A − B (points)": round(100 * (results[a][0] - results[b][0]), 1),
                      "verdict": "beyond noise" if high_a < low_b or high_b < low_a else "intervals overlap: tie"})
    return pd.DataFrame(lines)


class RankingTable:
    """The rows of a retrieval results file; each row's per-query ranks are kept for paired comparisons."""

    def __init__(self, seed: int = 42):
        self.rows, self.ranks, self.seed = [], {}, seed

    def add(self, method: str, ranking, corpus: list[str], relevant: list[str]) -> dict:
        """Score ``ranking`` against each query's relevant sentence and keep it as the row ``method``."""
        self.ranks[method] = relevant_ranks(ranking, corpus, relevant)
        metrics = ranking_metrics(ranking, corpus, relevant)
        n = len(ranking.ids)
        low, high = wilson_interval(round(metrics["recall@1"] * n), n)
        row = {"method": method, "corpus": len(corpus), "queries": n, **metrics,
               "recall@1_ci95": [round(low, 4), round(high, 4)], "ms_per_query": round(ranking.ms_per_query, 2)}
        self.rows.append(row)
        return row

    def row(self, method: str) -> dict:
        return next(row for row in self.rows if row["method"] == method)

    def frame(self, last: int | None = None) -> pd.DataFrame:
        """The rows (the ``last`` ones only, if given) as a compact table."""
        return pd.DataFrame([{"method": row["method"], "queries": row["queries"],
                              "R@1 [95% CI]": "{:.3f} [{:.3f}, {:.3f}]".format(row["recall@1"],
                                                                            *row["recall@1_ci95"]),
                              "R@10": f"{row['recall@10']:.3f}", "MRR@10": f"{row['mrr@10']:.3f}",
                              "ms/query": f"{row['ms_per_query']:.1f}"}
                             for row in self.rows[-last if last else 0:]]).set_index("method")

    def per_query(self, method: str, metric: str = "recall@1") -> np.ndarray:
        """Each query's share of a metric: 1 for a hit at rank 1 (Recall@1), 1/rank within the first 10 (MRR@10)."""
        if metric == "recall@1":
            return np.array([rank == 1 for rank in self.ranks[method]], dtype=float)
        return np.array([1 / rank if rank is not None and rank <= 10 else 0.0 for rank in self.ranks[method]])

    def paired_gain(self, a: str, b: str, metric: str = "recall@1") -> tuple[float, float, float]:
        """B minus A in points, and its 95% paired bootstrap interval (the same queries, resampled together)."""
        if len(self.ranks[a]) != len(self.ranks[b]):
            raise ValueError(f"{a!r} and {b!r} were scored on different queries: no paired comparison")
        difference = self.per_query(b, metric) - self.per_query(a, metric)
        return (100 * difference.mean(), *(100 * np.array(bootstrap_interval(difference, seed=self.seed))))

    def gains(self, a: str, b: str, a_label: str | None = None, b_label: str | None = None,
              metrics: tuple[str, ...] = ("recall@1", "mrr@10")) -> pd.DataFrame:
        """One line per metric: A's and B's per-query means and B − A in points with its paired 95% interval."""
        return pd.DataFrame([{"metric": metric, a_label or a: f"{self.per_query(a, metric).mean():.3f}",
                              b_label or b: f"{self.per_query(b, metric).mean():.3f}",
                              "gain, points [95% CI, paired]": "{:+.1f} [{:+.1f}, {:+.1f}]".format(
                                  *self.paired_gain(a, b, metric))} for metric in metrics]).set_index("metric")

    def verdict(self, a: str, b: str, metric: str = "recall@1") -> str:
        """Which row is higher: only when the paired interval of the difference leaves out 0."""
        _, low, high = self.paired_gain(a, b, metric)
        return "B 更高，超出噪声" if low > 0 else "A 更高，超出噪声" if high < 0 else "差值区间含 0：打平"

    def comparisons(self, pairs) -> pd.DataFrame:
        """One line per (A, B): both rows' Recall@1 with its interval, B − A with its paired interval, a verdict."""
        def with_interval(method):
            row = self.row(method)
            return "{:.3f} [{:.3f}, {:.3f}]".format(row["recall@1"], *row["recall@1_ci95"])

        return pd.DataFrame([{"A": a, "A: R@1": with_interval(a), "B": b, "B: R@1": with_interval(b),
                              "B − A (points, paired 95% CI)": "{:+.1f} [{:+.1f}, {:+.1f}]".format(
                                  *self.paired_gain(a, b)), "verdict": self.verdict(a, b)} for a, b in pairs])
