import dataclasses
import json
from datetime import datetime
from importlib.metadata import version

import pytest

import textsim
import textsim.config
from textsim.results import library_versions, metric_row, read_results, write_results


@pytest.fixture
def profile(tmp_path, monkeypatch):
    """A profile whose results_dir lies in tmp_path (the Profile folders hang off config.PROJECT_ROOT)."""
    monkeypatch.setattr(textsim.config, "PROJECT_ROOT", tmp_path)
    chosen = dataclasses.replace(textsim.PROFILES["smoke"], name="unit", model="tiny-model", seed=5)
    assert chosen.results_dir == tmp_path / "results" / "unit"
    return chosen


def test_write_results(profile, tmp_path):
    row = metric_row("cross", {"accuracy": 0.9, "f1": 0.8, "precision": 0.7, "recall": 0.95}, 0.5, "validation")
    path = write_results(profile, "01_cross_encoder", rows=[row], train_seconds=12.5, labels=["不相似", "相似"])
    assert path == tmp_path / "results" / "unit" / "01_cross_encoder.json"
    text = path.read_text(encoding="utf-8")
    assert "相似" in text  # readable Chinese, not \u escapes
    record = json.loads(text)
    assert record["notebook"] == "01_cross_encoder"
    assert record["profile"] == "unit" and record["model"] == "tiny-model" and record["seed"] == 5
    assert record["rows"] == [row] and record["train_seconds"] == 12.5
    assert record["versions"]["torch"] == version("torch")
    assert record["versions"]["transformers"] == version("transformers")
    assert "python" in record["versions"] and record["platform"]
    assert datetime.fromisoformat(record["finished_at"]).tzinfo is not None


def test_read_results_round_trip_and_missing(profile):
    assert read_results(profile, "02_regression") is None
    write_results(profile, "02_regression", accuracy=0.75)
    record = read_results(profile, "02_regression")
    assert record["accuracy"] == 0.75 and record["notebook"] == "02_regression"
    assert read_results(profile, "03_bi_encoder") is None


def test_write_results_overwrites(profile):
    write_results(profile, "nb", accuracy=0.5)
    write_results(profile, "nb", accuracy=0.6)
    assert read_results(profile, "nb")["accuracy"] == 0.6


def test_results_are_per_profile(profile):
    write_results(profile, "nb", accuracy=0.5)
    other = dataclasses.replace(profile, name="other")
    assert read_results(other, "nb") is None


def test_metric_row_rounds():
    metrics = {"accuracy": 0.123456, "f1": 0.98765, "precision": 1, "recall": 0.5, "loss": 3.0}
    row = metric_row("bi", metrics, 0.876543, "validation", seconds=1.5)
    assert row == {"recipe": "bi", "accuracy": 0.1235, "f1": 0.9877, "precision": 1.0, "recall": 0.5,
                   "threshold": 0.8765, "threshold_source": "validation", "seconds": 1.5}
    assert type(row["precision"]) is float


def test_metric_row_without_threshold():
    row = metric_row("cross", {"accuracy": 1, "f1": 1, "precision": 1, "recall": 1}, None, "argmax")
    assert row["threshold"] is None and row["threshold_source"] == "argmax"


def test_metric_row_needs_the_four_metrics():
    with pytest.raises(KeyError):
        metric_row("cross", {"accuracy": 1.0}, 0.5, "validation")


def test_library_versions():
    found = library_versions()
    assert set(found) == {"python", "torch", "transformers", "datasets", "scikit-learn", "faiss-cpu", "numpy"}
    assert found["numpy"] == version("numpy")


def test_numpy_numbers_are_written_as_plain_json(tmp_path, monkeypatch):
    import json

    import numpy as np

    from textsim import results
    from textsim.config import PROFILES

    profile = PROFILES["smoke"]
    monkeypatch.setattr(type(profile), "results_dir", property(lambda self: tmp_path))
    path = results.write_results(profile, "nb", accuracy=np.float32(0.5), count=np.int64(3), v=np.arange(2))
    record = json.loads(path.read_text(encoding="utf-8"))
    assert (record["accuracy"], record["count"], record["v"]) == (0.5, 3, [0, 1])


def test_metric_row_with_pairs_records_the_accuracy_interval():
    row = metric_row("cross", {"accuracy": 0.837, "f1": 0.8, "precision": 0.7, "recall": 0.9}, 0.5, "argmax",
                     pairs=1000)
    assert row["pairs"] == 1000 and row["accuracy_ci95"] == [0.8128, 0.8586]
    assert "accuracy_ci95" not in metric_row("cross", {"accuracy": 1, "f1": 1, "precision": 1, "recall": 1},
                                             None, "argmax")
