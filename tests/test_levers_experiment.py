"""experiments/levers.py: the seed-paired gains behind notebook 06 and the combination it trains."""
import numpy as np
import pytest
from scipy import stats

from experiments import levers as experiment


def rows(**by_lever):
    return [{"lever": lever, "seed": seed, "validation_accuracy": value, "validation_both_accuracy": value,
             "settings": experiment.LEVERS.get(lever, {})}
            for lever, values in by_lever.items() for seed, value in zip((42, 1, 2), values)]


def test_mean_interval_is_the_student_t_interval_of_the_mean():
    values = [0.84, 0.86, 0.85]
    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) / 3 ** 0.5
    got = experiment.mean_interval(values)
    assert got["mean"] == pytest.approx(0.85)
    assert (got["low"], got["high"]) == pytest.approx((0.85 - half, 0.85 + half))
    assert experiment.mean_interval([0.8]) == {"mean": 0.8, "low": None, "high": None, "runs": 1}


def test_gains_are_paired_by_seed():
    gains = experiment.lever_gains(rows(baseline=[0.80, 0.90, 0.85], joint=[0.81, 0.91, 0.86]))
    assert gains["joint"]["mean"] == pytest.approx(0.01)
    assert gains["joint"]["low"] == pytest.approx(0.01) and gains["joint"]["high"] == pytest.approx(0.01)


def test_both_orders_is_judged_as_it_predicts_against_the_baseline_in_one_order():
    found = rows(baseline=[0.80, 0.90, 0.85], both_orders=[0.70, 0.70, 0.70])
    for row in found:
        row["validation_both_accuracy"] = row["validation_accuracy"] + 0.02
    gains = experiment.lever_gains(found)
    assert gains["both_orders"]["mean"] == pytest.approx(0.72 - 0.85)  # both orders vs the baseline's one order
    assert experiment.as_predicted(found[0], "validation") == 0.80  # the baseline predicts in one order


def test_the_combination_takes_every_lever_with_a_positive_mean_gain():
    found = rows(baseline=[0.80, 0.80, 0.80], joint=[0.82, 0.79, 0.81], rdrop=[0.79, 0.80, 0.80],
                 both_orders=[0.81, 0.81, 0.81], longer=[0.81, 0.80, 0.80])
    assert experiment.chosen_levers(found) == ["joint", "both_orders", "longer"]
    settings = experiment.combination_settings(found)
    assert settings == {"joint": True, "both_orders": True, "epochs": 1.5, "patience": 1}  # longer: 3 epochs


def test_the_combination_of_nothing_is_the_baseline():
    assert experiment.combination_settings(rows(baseline=[0.8] * 3, rdrop=[0.7] * 3)) == {}


def test_distillation_without_the_baseline_names_what_to_run(make_run):
    with pytest.raises(FileNotFoundError, match="--levers baseline"):
        experiment.teacher_scores(make_run("levers"))


def entry(mean, low=None, high=None, seeds=(42, 1, 2), **settings):
    interval = {"mean": mean, "low": low, "high": high, "runs": len(seeds)}
    return {"settings": settings, "seeds": list(seeds), "validation_accuracy": interval,
            "validation_both_accuracy": interval, "test_accuracy": interval, "seed_average_validation_accuracy": mean,
            "train_seconds": {"mean": 225.4}}


def test_the_table_shows_test_only_for_the_baseline_and_the_combination():
    record = {"levers": {"baseline": entry(0.85, 0.83, 0.87), "joint": entry(0.86, 0.84, 0.88, joint=True),
                         "combination": entry(0.87, 0.86, 0.88, joint=True, longer=True)},
              "combination_row": "combination",
              "gains": {"test": {"combination": {"mean": 0.004, "low": -0.01, "high": 0.018, "runs": 3}},
                        "validation": {"joint": {"mean": 0.01, "low": -0.005, "high": 0.025, "runs": 3},
                                                "combination": {"mean": 0.02, "low": 0.01, "high": 0.03, "runs": 3}}}}
    lines = experiment.markdown_table(record).splitlines()
    assert len(lines) == 7 and lines[0].startswith("| lever |")
    assert lines[6] == "Test accuracy, combination − baseline, seed by seed: +0.4 [-1.0, +1.8] points."
    assert lines[2] == "| baseline | — | 3 | 85.0 [83.0, 87.0] |  | 85.0 [83.0, 87.0] | 85.0 | 85.0 [83.0, 87.0] | 225 |"
    assert lines[3] == ("| joint | joint=True | 3 | 86.0 [84.0, 88.0] | +1.0 [-0.5, +2.5] | 86.0 [84.0, 88.0] | 86.0 "
                        "|  | 225 |")
    assert lines[4].split(" | ")[7] == "87.0 [86.0, 88.0]"
    assert experiment.points({"mean": 0.8, "low": None, "high": None}) == "80.0 (1 run)"


def test_update_page_replaces_only_the_block(tmp_path):
    record = {"levers": {"baseline": entry(0.85, 0.83, 0.87)}, "gains": {"validation": {}, "test": {}},
              "combination_row": "baseline"}
    page = tmp_path / "levers.md"
    page.write_text(f"intro\n{experiment.PAGE_START}\nold\n{experiment.PAGE_END}\nend\n", encoding="utf-8")
    experiment.update_page(record, page)
    assert page.read_text(encoding="utf-8") == (f"intro\n{experiment.PAGE_START}\n{experiment.markdown_table(record)}"
                                                f"{experiment.PAGE_END}\nend\n")


def test_a_combination_of_one_lever_is_that_lever():
    assert experiment.combination_lever(experiment.LEVERS["both_orders"]) == "both_orders"
    assert experiment.combination_lever({}) == "baseline"
    assert experiment.combination_lever({"joint": True, "rdrop": 1.0, "dropout": 0.1}) is None
    assert experiment.reported_on_test({"combination_row": "joint"}) == ["baseline", "joint"]
