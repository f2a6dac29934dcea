"""textsim.comparison: the rows of a retrieval results table and paired comparisons of two rows."""
import numpy as np
import pytest

from textsim.comparison import RankingTable
from textsim.metrics import bootstrap_interval
from textsim.retrieval import Ranking

CORPUS = ["a", "b", "c", "d"]
RELEVANT = ["a", "b", "c", "d"]


def ranking(first_choices, ms=2.0) -> Ranking:
    """Each query's ranked ids: the given first choice, then the rest in order."""
    ids = [[first] + [i for i in range(4) if i != first] for first in first_choices]
    return Ranking(ids, [[0.0] * 4 for _ in ids], ms)


@pytest.fixture
def table():
    table = RankingTable(seed=0)
    table.add("A", ranking([0, 1, 0, 0]), CORPUS, RELEVANT)  # right on queries 0 and 1
    table.add("B", ranking([0, 1, 2, 3]), CORPUS, RELEVANT)  # right on all four
    return table


def test_a_row_holds_the_metrics_the_interval_and_the_time(table):
    row = table.row("A")
    assert row["recall@1"] == 0.5 and row["recall@10"] == 1.0 and row["queries"] == 4 and row["corpus"] == 4
    assert row["mrr@10"] == pytest.approx((1 + 1 + 1 / 3 + 1 / 4) / 4)  # answers third and fourth on queries 2, 3
    assert row["recall@1_ci95"][0] < 0.5 < row["recall@1_ci95"][1] and row["ms_per_query"] == 2.0
    assert table.ranks["A"] == [1, 1, 3, 4]


def test_frame_shows_all_rows_or_the_last_ones(table):
    assert list(table.frame().index) == ["A", "B"] and list(table.frame(last=1).index) == ["B"]
    assert table.frame().loc["B", "R@1 [95% CI]"].startswith("1.000 [")


def test_paired_gain_is_the_mean_difference_with_a_paired_bootstrap_interval(table):
    gain, low, high = table.paired_gain("A", "B")
    assert gain == pytest.approx(50.0)
    expected = 100 * np.array(bootstrap_interval(np.array([0.0, 0.0, 1.0, 1.0]), seed=0))
    assert (low, high) == pytest.approx(tuple(expected))
    assert table.paired_gain("A", "B", "mrr@10")[0] == pytest.approx(100 * ((1 - 1 / 3) + (1 - 1 / 4)) / 4)


def test_verdict_calls_a_tie_a_tie(table):
    table.add("A again", ranking([0, 1, 0, 0]), CORPUS, RELEVANT)
    assert table.verdict("A", "A again") == "差值区间含 0：打平"
    many = RankingTable(seed=0)
    many.add("worse", ranking([1] * 40), CORPUS * 10, RELEVANT * 10)
    many.add("better", ranking([0, 1, 2, 3] * 10), CORPUS * 10, RELEVANT * 10)
    assert many.verdict("worse", "better") == "B 更高，超出噪声"
    assert many.verdict("better", "worse") == "A 更高，超出噪声"


def test_rows_of_other_queries_are_not_compared(table):
    table.add("C", Ranking([[0, 1], [1, 0]], [[0.0, 0.0]] * 2, 1.0), CORPUS[:2], RELEVANT[:2])
    with pytest.raises(ValueError, match="different queries"):
        table.paired_gain("A", "C")


def test_comparisons_have_one_line_per_pair(table):
    lines = table.comparisons([("A", "B")])
    assert list(lines.columns) == ["A", "A: R@1", "B", "B: R@1", "B − A (points, paired 95% CI)", "verdict"]
    assert lines.iloc[0]["B − A (points, paired 95% CI)"].startswith("+50.0 [")


def test_gains_shows_both_means_and_the_paired_gain_per_metric(table):
    frame = table.gains("A", "B", b_label="best: B")
    assert list(frame.index) == ["recall@1", "mrr@10"] and list(frame.columns)[:2] == ["A", "best: B"]
    assert frame.loc["recall@1", "A"] == "0.500" and frame.loc["recall@1", "best: B"] == "1.000"
    gain, low, high = table.paired_gain("A", "B")
    assert frame.loc["recall@1", "gain, points [95% CI, paired]"] == f"{gain:+.1f} [{low:+.1f}, {high:+.1f}]"


def test_accuracy_table_shows_each_accuracy_with_its_wilson_interval():
    from textsim.comparison import accuracy_table
    from textsim.metrics import wilson_interval

    frame = accuracy_table({"ours": (0.84, 1000), "later": None})
    low, high = wilson_interval(840, 1000)
    assert frame.loc["ours", "accuracy [95% CI]"] == f"0.840 [{low:.3f}, {high:.3f}]"
    assert frame.loc["later", "accuracy [95% CI]"] == "not run yet"


def test_accuracy_comparisons_call_overlapping_intervals_a_tie():
    from textsim.comparison import accuracy_comparisons

    results = {"a": (0.84, 1000), "b": (0.83, 1000), "c": (0.70, 1000), "d": None}
    frame = accuracy_comparisons(results, [("a", "b"), ("a", "c"), ("a", "d")]).set_index("B")
    assert frame.loc["b", "verdict"] == "intervals overlap: tie" and frame.loc["b", "A − B (points)"] == 1.0
    assert frame.loc["c", "verdict"] == "beyond noise" and frame.loc["c", "A − B (points)"] == 14.0
    assert frame.loc["d", "verdict"] == "not run yet"
