"""textsim.results: the rows of a results file, the library versions and reading a file back (``Run.write_results``
and ``Run.read_results`` are tested in test_run.py)."""
import json
from importlib.metadata import version

import pytest

import textsim.results
from textsim.results import ResultsError, library_versions, metric_row, read_json


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


def test_metric_row_with_pairs_records_the_accuracy_interval():
    row = metric_row("cross", {"accuracy": 0.837, "f1": 0.8, "precision": 0.7, "recall": 0.9}, 0.5, "argmax",
                     pairs=1000)
    assert row["pairs"] == 1000 and row["accuracy_ci95"] == [0.8128, 0.8586]
    assert "accuracy_ci95" not in metric_row("cross", {"accuracy": 1, "f1": 1, "precision": 1, "recall": 1},
                                             None, "argmax")


def test_results_files_are_written_by_the_run_only():
    assert not hasattr(textsim.results, "write_results") and not hasattr(textsim.results, "read_results")


def test_read_json_returns_the_object(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"profile": "local", "model": "m", "名": "相似"}, ensure_ascii=False), encoding="utf-8")
    assert read_json(path, required=("profile", "model")) == {"profile": "local", "model": "m", "名": "相似"}
    assert read_json(str(path)) == read_json(path)


@pytest.mark.parametrize("content, message", [
    (b"{not json", "cannot be read as JSON"), (b"\xff\xfe", "cannot be read as JSON"),
    (b"[1, 2]", "expected a JSON object, got list"), (b'{"profile": "x"}', "missing field\\(s\\) model, device"),
])
def test_read_json_names_the_file_it_cannot_use(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(ResultsError, match=f"broken.json.*{message}"):
        read_json(path, required=("profile", "model", "device"))
    assert issubclass(ResultsError, ValueError)


def test_read_json_names_a_missing_file(tmp_path):
    with pytest.raises(ResultsError, match="absent.json: cannot be read"):
        read_json(tmp_path / "absent.json")
