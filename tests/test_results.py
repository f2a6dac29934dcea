"""textsim.series.results: the rows of a results file, the library versions, writing a file and reading it back
(``Run.write_results`` and ``Run.read_results`` are tested in test_run.py)."""
import json
from importlib.metadata import version
from pathlib import Path

import pytest

import textsim.series.results
from textsim.series.results import ResultsError, library_versions, metric_row, read_json, replace_block


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
    assert not hasattr(textsim.series.results, "write_results") and not hasattr(textsim.series.results, "read_results")


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


# --- writing: one atomic JSON writer ---------------------------------------------------------------------------

def test_write_json_writes_plain_utf8_json(tmp_path):
    import numpy as np

    path = tmp_path / "new" / "folder" / "r.json"  # the folders are created
    data = {"名": "相似", "accuracy": np.float32(0.5), "pairs": np.int64(3), "ok": np.bool_(True),
            "vector": np.array([[1, 2], [3, 4]]), "nested": [{"x": None}]}
    assert textsim.series.results.write_json(path, data) == path
    plain = {"名": "相似", "accuracy": 0.5, "pairs": 3, "ok": True, "vector": [[1, 2], [3, 4]], "nested": [{"x": None}]}
    assert path.read_text(encoding="utf-8") == json.dumps(plain, ensure_ascii=False, indent=2) + "\n"
    assert type(json.loads(path.read_text(encoding="utf-8"))["pairs"]) is int
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]


class Unwritable:
    """Not JSON: serialising it fails part-way through the file."""


def circular() -> list:
    loop = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize("bad", [Unwritable(), {1j: "key not a string"}, "\ud800", circular()],
                         ids=["object", "key", "lone surrogate", "circular"])
def test_write_json_that_fails_leaves_the_old_file(tmp_path, bad):
    path = tmp_path / "r.json"
    path.write_text('{"old": 1}\n', encoding="utf-8")
    with pytest.raises((TypeError, ValueError)) as raised:
        textsim.series.results.write_json(path, {"first": list(range(2000)), "bad": bad})
    assert any(str(path) in note for note in raised.value.__notes__)
    assert path.read_text(encoding="utf-8") == '{"old": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left behind


def test_write_json_is_replaced_in_one_step(tmp_path, monkeypatch):
    """The new file is written beside the old one and moved onto it; a failure of the move keeps the old one."""
    path = tmp_path / "r.json"
    path.write_text("old", encoding="utf-8")
    moves = []

    def failing_replace(source, target):
        moves.append((Path(source), Path(target), Path(source).read_text(encoding="utf-8")))
        raise OSError("disk full")

    monkeypatch.setattr(textsim.series.results.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        textsim.series.results.write_json(path, {"new": 2})
    [(source, target, written)] = moves
    assert source.parent == tmp_path and source != path and target == path
    assert json.loads(written) == {"new": 2}
    assert path.read_text(encoding="utf-8") == "old" and [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize("content", ["相似\n", "相似\n".encode("utf-8")])
def test_write_atomically_text_or_bytes(tmp_path, content):
    path = textsim.series.results.write_atomically(tmp_path / "sub" / "summary.md", content)
    assert path.read_bytes() == "相似\n".encode("utf-8")
    assert [p.name for p in path.parent.iterdir()] == ["summary.md"]


def test_replace_block_rewrites_only_between_the_markers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("intro\n<!-- a -->\nold\n<!-- b -->\nafter\n", encoding="utf-8")
    replace_block(page, "<!-- a -->", "<!-- b -->", "new\n\n")
    assert page.read_text(encoding="utf-8") == "intro\n<!-- a -->\nnew\n<!-- b -->\nafter\n"


def test_replace_block_names_the_file_without_its_markers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- b -->\n<!-- a -->\n", encoding="utf-8")
    with pytest.raises(ValueError, match="page.md has no <!-- a --> ... <!-- b --> block"):
        replace_block(page, "<!-- a -->", "<!-- b -->", "new")
    assert page.read_text(encoding="utf-8") == "<!-- b -->\n<!-- a -->\n"


def test_environment_names_the_device_the_cpu_and_the_libraries():
    lines = textsim.environment().splitlines()
    assert [line.split("：")[0] for line in lines] == ["设备", "CPU", "库"]
    assert "torch " in lines[2] and "transformers " in lines[2]
