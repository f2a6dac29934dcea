"""textsim.plots: each figure draws what it says, from the data it is given."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from textsim import plots  # noqa: E402

LOG = [{"step": s, "loss": 1.0 / s} for s in range(10, 110, 10)] + [
    {"step": 50, "epoch": 1.0, "eval_loss": 0.5, "eval_accuracy": 0.7, "eval_f1": 0.6},
    {"step": 100, "epoch": 2.0, "eval_loss": 0.4, "eval_accuracy": 0.8, "eval_f1": 0.7}]
BEFORE = {"eval_loss": 0.7, "eval_accuracy": 0.6, "eval_f1": 0.2}


def lines(ax) -> dict[str, np.ndarray]:
    return {line.get_label(): np.asarray(line.get_xydata()) for line in ax.get_lines()}


def test_learning_curves_start_at_the_evaluation_before_training():
    left, right = plots.learning_curves(LOG, before=BEFORE, smooth=5).axes
    drawn = lines(left)
    assert drawn["validation loss"].tolist() == [[0, 0.7], [50, 0.5], [100, 0.4]]
    assert len(drawn["train loss"]) == 10 and len(drawn["train loss, mean of 5 logs"]) == 6
    assert drawn["train loss, mean of 5 logs"][0, 1] == pytest.approx(np.mean([1 / s for s in range(10, 60, 10)]))
    assert lines(right)["validation accuracy"].tolist() == [[0, 0.6], [1, 0.7], [2, 0.8]]


def test_learning_curves_without_before_start_at_the_first_epoch():
    _, right = plots.learning_curves(LOG).axes
    assert lines(right)["validation f1"][:, 0].tolist() == [1, 2]


def test_score_histogram_marks_every_named_threshold():
    rng = np.random.default_rng(0)
    figure = plots.score_histogram(rng.random(50), rng.integers(0, 2, 50), threshold=0.6,
                                   marks={"seed 0.8": 0.8})
    marked = {label: xy[0, 0] for label, xy in lines(figure.axes[0]).items()}
    assert marked == {"seed 0.8": 0.8, "threshold 0.600": 0.6}


def test_threshold_curve_names_its_split_and_is_right_at_the_ends():
    scores, labels = np.array([0.1, 0.4, 0.6, 0.9]), np.array([0, 0, 1, 1])
    figure = plots.threshold_curve(scores, labels, {"chosen": 0.5}, split="validation")
    ax = figure.axes[0]
    assert ax.get_ylabel() == "validation"
    accuracy = lines(ax)["accuracy"]
    assert accuracy[0, 1] == 0.5 and accuracy[:, 1].max() == 1.0  # all 相似 at the lowest cut; perfect between


def test_confusion_counts_each_cell():
    figure = plots.confusion([0, 0, 1, 1, 1], [0, 1, 1, 1, 0])
    texts = sorted(t.get_text() for t in figure.axes[0].texts)
    assert texts == ["1", "1", "1", "2"]


def test_rerank_ceiling_draws_the_curve_each_pipeline_and_the_baseline():
    from textsim.retrieval import Ranking

    corpus, relevant = ["a", "b", "c"], ["a", "b"]
    retrieved = Ranking([[1, 0, 2], [1, 0, 2]], [[0.9, 0.5, 0.1]] * 2, 1.0)  # right at rank 2, then rank 1
    fused = Ranking([[0, 1, 2], [1, 0, 2]], [[1.0, 0.5, 0.0]] * 2, 1.0)  # both right at rank 1
    fig = plots.rerank_ceiling(retrieved, {"x": {"alone": retrieved, "fused": fused}},
                               {"x": {"alone": 3, "fused": 2}}, corpus, relevant, max_k=3)
    lines = fig.axes[0].get_lines()
    assert list(lines[0].get_ydata()) == [0.5, 1.0, 1.0]  # Recall@1..3 of the retriever
    assert (lines[1].get_xdata()[0], lines[1].get_ydata()[0]) == (3, 0.5)
    assert (lines[2].get_xdata()[0], lines[2].get_ydata()[0]) == (2, 1.0)
    assert list(lines[3].get_ydata()) == [0.5, 0.5]  # the dotted baseline
    assert fig.axes[0].get_title() == "2 test queries"


def test_latency_per_query_draws_the_extrapolation_faiss_the_rerank_line_and_the_two_measured_points():
    fig = plots.latency_per_query([1_000, 10_000], {1_000: 0.1, 10_000: 1.0}, ms_per_pair=2.0, rerank_ms=40.0,
                                  rerank_depth=20, corpus_size=5_000, retrieve_ms=10.0, pipeline_ms=50.0)
    lines = fig.axes[0].get_lines()
    assert list(lines[0].get_ydata()) == [2_000.0, 20_000.0]  # ms per pair × size
    assert list(lines[1].get_ydata()) == [0.1, 1.0]
    assert list(lines[2].get_ydata()) == [40.0, 40.0]
    assert [list(line.get_xydata()[0]) for line in lines[3:]] == [[5_000, 10.0], [5_000, 50.0]]
    assert "top 20" in lines[2].get_label()
