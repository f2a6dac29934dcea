"""textsim.metrics: classification metrics, thresholds, intervals and the ranking metrics, on hand-computed cases."""
from pathlib import Path

import numpy as np
import pytest
from transformers import EvalPrediction

from textsim.metrics import (best_threshold, bootstrap_interval, classification_metrics, local_metric,
                             majority_baseline, metric_curve, metrics_at, mrr_at_k, ranking_metrics, recall_at_k,
                             recall_curve, relevant_ranks, trainer_metrics)
from textsim.retrieval import Ranking


def test_classification_metrics_hand_computed():
    labels = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    predictions = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]
    # TP=3, FN=1, FP=2, TN=4
    metrics = classification_metrics(labels, predictions)
    assert metrics == pytest.approx({"accuracy": 0.7, "precision": 0.6, "recall": 0.75, "f1": 2 / 3})
    assert all(type(value) is float for value in metrics.values())


def test_classification_metrics_positive_class_is_one():
    # Swapping which class is "positive" changes precision and recall: the positive class must be label 1.
    metrics = classification_metrics([0, 0, 0, 1], [0, 0, 1, 1])
    assert metrics["precision"] == pytest.approx(0.5)
    assert metrics["recall"] == pytest.approx(1.0)


def test_classification_metrics_without_positive_predictions_is_zero_not_nan():
    metrics = classification_metrics([1, 0, 1], [0, 0, 0])
    assert metrics == pytest.approx({"accuracy": 1 / 3, "precision": 0.0, "recall": 0.0, "f1": 0.0})


def test_classification_metrics_accepts_booleans():
    assert classification_metrics(np.array([True, False]), np.array([True, True]))["accuracy"] == 0.5


@pytest.mark.parametrize("labels, predictions", [([1, 0], [1]), ([], [])])
def test_classification_metrics_rejects_unequal_or_empty(labels, predictions):
    with pytest.raises(ValueError):
        classification_metrics(labels, predictions)


@pytest.mark.parametrize("labels, expected", [([0, 0, 0, 1], 0.75), ([1, 1, 1, 0, 0], 0.6), ([1, 1], 1.0),
                                              ([0, 1], 0.5)])
def test_majority_baseline(labels, expected):
    assert majority_baseline(labels) == pytest.approx(expected)


def test_best_threshold_separates_separable_scores():
    scores = [0.9, 0.1, 0.7, 0.3, 0.6, 0.2]
    labels = [1, 0, 1, 0, 1, 0]
    cut = best_threshold(scores, labels)
    assert 0.3 < cut <= 0.6
    assert cut == pytest.approx(0.45)  # the midpoint between the two classes
    assert metrics_at(scores, labels, cut)["accuracy"] == 1.0


def test_best_threshold_all_positive_cut_below_everything():
    cut = best_threshold([0.2, 0.5, 0.9], [1, 1, 1])
    assert cut < 0.2


def test_best_threshold_maximises_accuracy_on_noisy_data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 120)
    scores = labels * 0.3 + rng.normal(0.5, 0.25, 120)
    cut = best_threshold(scores, labels)
    best = metrics_at(scores, labels, cut)["accuracy"]
    grid = np.linspace(scores.min() - 0.01, scores.max() + 0.01, 5001)
    grid_accuracy = ((scores[None, :] >= grid[:, None]) == labels[None, :]).mean(axis=1)  # numpy: fast
    assert best == pytest.approx(grid_accuracy.max())
    assert best > majority_baseline(labels)


def test_best_threshold_hand_computed_non_separable():
    # Cuts: all positive -> 0.5; >=0.225 -> 0.75; >=0.375 -> 0.5; >=0.6 -> 0.75; none positive -> 0.5
    scores, labels = [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]
    cut = best_threshold(scores, labels)
    assert metrics_at(scores, labels, cut)["accuracy"] == pytest.approx(0.75)
    assert cut == pytest.approx(0.225) or cut == pytest.approx(0.6)


def test_best_threshold_other_metric():
    # F1 prefers calling everything positive here; accuracy does not.
    scores, labels = [0.1, 0.2, 0.3, 0.4, 0.9], [1, 0, 0, 0, 1]
    assert metrics_at(scores, labels, best_threshold(scores, labels))["accuracy"] == pytest.approx(0.8)
    f1_cut = best_threshold(scores, labels, metric="f1")
    assert metrics_at(scores, labels, f1_cut)["f1"] == pytest.approx(max(
        metrics_at(scores, labels, t)["f1"] for t in np.linspace(0, 1, 101)))


def test_metric_curve():
    curve = metric_curve([0.2, 0.8], [0, 1], [0.0, 0.5, 1.0])
    assert curve == {"accuracy": [0.5, 1.0, 0.5], "f1": pytest.approx([2 / 3, 1.0, 0.0])}


def evaluate(threshold, predictions, labels):
    return trainer_metrics(threshold)(EvalPrediction(predictions=predictions, label_ids=np.asarray(labels)))


def test_trainer_metrics_two_logits_argmax():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    metrics = evaluate(0.5, logits, [0, 1, 1, 1])
    assert metrics == pytest.approx({"accuracy": 0.75, "precision": 1.0, "recall": 2 / 3, "f1": 0.8})
    assert "threshold" not in metrics


def test_trainer_metrics_two_logits_ignores_the_threshold():
    logits = np.array([[0.0, 0.1], [0.1, 0.0]])  # softmax near 0.5: argmax decides, not a cut
    assert evaluate(0.99, logits, [1, 0])["accuracy"] == 1.0


def test_trainer_metrics_single_score_with_threshold():
    scores = np.array([[0.9], [0.6], [0.4], [0.7]])
    metrics = evaluate(0.65, scores, [1, 1, 0, 0])
    # predictions 1, 0, 0, 1
    assert metrics == pytest.approx({"accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5,
                                     "threshold": 0.65})


def test_trainer_metrics_picks_and_reports_the_threshold():
    scores = np.array([0.95, 0.2, 0.85, 0.3, 0.81])
    metrics = evaluate(None, scores, [1, 0, 1, 0, 1])
    assert metrics["accuracy"] == 1.0
    assert 0.3 < metrics["threshold"] <= 0.81


def test_trainer_metrics_minus_one_one_labels():
    scores = np.array([0.1, 0.9, 0.7, 0.2])
    labels = np.array([-1.0, 1.0, 1.0, -1.0])
    assert evaluate(0.5, scores, labels)["accuracy"] == 1.0
    assert evaluate(None, scores, labels)["accuracy"] == 1.0
    # With -1/1 labels a cut at 0.8 misses one positive.
    assert evaluate(0.8, scores, labels) == pytest.approx(
        {"accuracy": 0.75, "precision": 1.0, "recall": 0.5, "f1": 2 / 3, "threshold": 0.8})


def test_trainer_metrics_tuple_predictions_uses_the_first():
    scores = (np.array([0.9, 0.1]), np.array([[5.0, 5.0], [5.0, 5.0]]))
    assert evaluate(0.5, scores, [1, 0])["accuracy"] == 1.0


def test_wilson_interval_matches_the_textbook_values():
    from textsim.metrics import wilson_interval

    low, high = wilson_interval(837, 1000)
    assert (round(low, 4), round(high, 4)) == (0.8128, 0.8586)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(5, 10)[0] == pytest.approx(1 - wilson_interval(5, 10)[1])  # symmetric at one half
    narrow, wide = wilson_interval(8370, 10000), wilson_interval(837, 1000)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]


@pytest.mark.parametrize("successes, total", [(1, 0), (-1, 5), (6, 5)])
def test_wilson_interval_refuses_impossible_counts(successes, total):
    from textsim.metrics import wilson_interval

    with pytest.raises(ValueError, match="successes"):
        wilson_interval(successes, total)


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_items():
    rng = np.random.default_rng(1)
    few, many = rng.random(50), rng.random(5000)
    low, high = bootstrap_interval(few)
    assert low < few.mean() < high
    wide, narrow = high - low, np.subtract(*bootstrap_interval(many)[::-1])
    assert narrow < wide / 5  # the width shrinks like 1/sqrt(n): about 10x here
    assert bootstrap_interval(few, seed=3) == bootstrap_interval(few, seed=3)
    assert bootstrap_interval([0.5] * 10) == (0.5, 0.5)


@pytest.mark.parametrize("values, level, message", [([], 0.95, "non-empty"), ([[1.0]], 0.95, "non-empty"),
                                                     ([1.0], 1.0, "level must lie")])
def test_bootstrap_interval_refuses_bad_input(values, level, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_interval(values, level=level)


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), -float("inf")])
def test_metrics_at_refuses_a_threshold_that_is_not_a_finite_number(threshold):
    """A NaN cut used to label every pair 不相似 (score >= nan is False) and report those metrics."""
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        metrics_at([0.2, 0.9], [0, 1], threshold)


# --- ranking metrics (notebook 04) ----------------------------------------------------------------------------

CORPUS = ["今天天气很好", "我喜欢吃苹果", "你在哪里", "这是一个测试句子", "小时候动画片", "想买台新电脑"]


def ranking(ids) -> Ranking:
    return Ranking(ids, [[0.0] * len(row) for row in ids], 1.0)


def test_relevant_ranks_recall_and_mrr_hand_computed():
    found = ranking([[1, 0], [0, 3, 2], [0, 1]])  # relevant at rank 1, rank 3, not found
    ranks = relevant_ranks(found, ["a", "b", "c", "d"], ["b", "c", "d"])
    assert ranks == [1, 3, None]
    assert [recall_at_k(ranks, k) for k in (1, 2, 3)] == pytest.approx([1 / 3, 1 / 3, 2 / 3])
    assert mrr_at_k(ranks, 3) == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert mrr_at_k(ranks, 2) == pytest.approx(1 / 3)  # rank 3 lies beyond k = 2: it counts 0


def test_relevant_ranks_take_the_first_copy_of_a_repeated_document():
    assert relevant_ranks(ranking([[0, 2, 1]]), ["x", "b", "b"], ["b"]) == [2]


def test_recall_and_mrr_of_no_queries_or_a_bad_k():
    for metric in (recall_at_k, mrr_at_k):
        with pytest.raises(ValueError, match="no queries"):
            metric([], 1)
        for k in (0, -1, 1.5, True):
            with pytest.raises(ValueError, match="k must be"):
                metric([1], k)


def test_ranking_metrics_hand_computed():
    corpus, relevant = ["a", "b", "c", "d"], ["b", "c", "d"]
    found = ranking([[1, 0], [0, 2], [0, 1]])  # relevant at rank 1, rank 2, not found
    assert ranking_metrics(found, corpus, relevant, ks=(1, 2)) == pytest.approx(
        {"recall@1": 1 / 3, "recall@2": 2 / 3, "mrr@2": (1 + 1 / 2 + 0) / 3})
    assert ranking_metrics(found, corpus, relevant, ks=(1,)) == pytest.approx({"recall@1": 1 / 3, "mrr@1": 1 / 3})


def test_ranking_metrics_default_ks_and_mrr_depth():
    corpus = [str(i) for i in range(12)]
    metrics = ranking_metrics(ranking([list(range(12))]), corpus, ["10"])  # relevant at rank 11
    assert metrics == {"recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr@10": 0.0}
    metrics = ranking_metrics(ranking([list(range(12))]), corpus, ["3"])  # rank 4
    assert metrics == pytest.approx({"recall@1": 0.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 0.25})


def test_recall_curve():
    found = ranking([[1, 0, 3], [0, 2, 1], [0, 1, 3]])  # ranks 1, 2, 3
    assert recall_curve(found, ["a", "b", "c", "d"], ["b", "c", "d"], 3) == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_ranking_metrics_need_one_relevant_document_per_query():
    with pytest.raises(ValueError, match="2 rankings but 3 relevant documents"):
        ranking_metrics(ranking([[0], [1]]), ["a", "b"], ["a", "b", "a"])


def test_ranking_metrics_of_no_queries_or_a_bad_k():
    with pytest.raises(ValueError, match="no queries"):
        ranking_metrics(ranking([]), ["a"], [])
    for ks in [(0,), (1, -1), (), (1.5,)]:
        with pytest.raises(ValueError, match="ks"):
            ranking_metrics(ranking([[0]]), ["a"], ["a"], ks=ks)


def test_ranking_metrics_never_read_the_no_result_id():
    assert ranking_metrics(ranking([[0, -1]]), ["a", "b"], ["b"], ks=(2,))["recall@2"] == 0.0



def test_local_metric_is_a_metric_folder_inside_the_package():
    folder = Path(local_metric("accuracy"))
    assert folder.name == "accuracy" and (folder / "accuracy.py").is_file()
