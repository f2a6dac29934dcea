"""textsim's local ``evaluate`` metrics (textsim/evaluate_metrics/): they load offline, give scikit-learn's
numbers, draw no random numbers, and merged the seed's way they equal ``textsim.classification_metrics``."""
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from textsim.metrics import classification_metrics
from textsim.metrics import local_metric

NAMES = ("accuracy", "f1")
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "01_cross_encoder_classification.ipynb"


@pytest.fixture(scope="module")
def metrics():
    import huggingface_hub.constants

    import evaluate

    assert huggingface_hub.constants.HF_HUB_OFFLINE  # conftest switches the Hub off before any import
    return {name: evaluate.load(local_metric(name)) for name in NAMES}


def random_labels(seed: int, size: int):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, size), rng.integers(0, 2, size)


@pytest.mark.parametrize("name", NAMES)
def test_local_metric_is_a_folder_with_its_script(name):
    folder = Path(local_metric(name))
    assert folder.is_dir() and (folder / f"{name}.py").is_file()
    assert folder.parent.name == "evaluate_metrics" and folder.parent.parent.name == "textsim"


@pytest.mark.parametrize("name", NAMES)
def test_one_import_per_line(name):
    """evaluate's import scanner reads ``import a, b`` as one module named "a,": one import per line."""
    source = (Path(local_metric(name)) / f"{name}.py").read_text(encoding="utf-8")
    for line in source.splitlines():
        if re.match(r"^import\s", line):
            assert "," not in line, line


def test_loaded_offline(metrics, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert {name: metric.name for name, metric in metrics.items()} == {"accuracy": "accuracy", "f1": "f1"}
    assert "int32" in str(metrics["f1"].features)


@pytest.mark.parametrize("seed", range(5))
def test_same_numbers_as_scikit_learn(metrics, seed):
    predictions, references = random_labels(seed, size=int(np.random.default_rng(seed).integers(20, 400)))
    assert metrics["accuracy"].compute(predictions=predictions, references=references) == {
        "accuracy": pytest.approx(accuracy_score(references, predictions))}
    assert metrics["f1"].compute(predictions=predictions, references=references) == {
        "f1": pytest.approx(f1_score(references, predictions)),
        "precision": pytest.approx(precision_score(references, predictions)),
        "recall": pytest.approx(recall_score(references, predictions))}


def test_hand_computed(metrics):
    predictions, references = [0, 1, 1, 0], [0, 1, 0, 0]  # one true positive, one false positive
    assert metrics["accuracy"].compute(predictions=predictions, references=references) == {"accuracy": 0.75}
    assert metrics["f1"].compute(predictions=predictions, references=references) == pytest.approx(
        {"f1": 2 / 3, "precision": 0.5, "recall": 1.0})


def test_no_positive_prediction_scores_zero(metrics):
    """A head that answers 不相似 everywhere (before training) gets precision 0, not an error."""
    scores = metrics["f1"].compute(predictions=[0, 0, 0], references=[0, 1, 1])
    assert scores == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


@pytest.mark.parametrize("seed", range(3))
def test_seed_shaped_merge_equals_classification_metrics(metrics, seed):
    """Notebook 01's compute_metrics merges accuracy and f1 as the seed does; the Trainer then sees the same
    eval_accuracy (its metric_for_best_model) as with textsim.trainer_metrics."""
    logits = np.random.default_rng(seed).normal(size=(300, 2)).astype(np.float32)
    labels = np.random.default_rng(seed + 100).integers(0, 2, 300)
    predictions = logits.argmax(axis=-1)
    merged = metrics["accuracy"].compute(predictions=predictions, references=labels)
    merged.update(metrics["f1"].compute(predictions=predictions, references=labels))
    assert merged == pytest.approx(classification_metrics(labels, predictions))


def test_draws_no_random_numbers(metrics):
    """compute runs between training epochs: it must leave every generator as it found it."""
    import evaluate

    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    expected = (random.random(), np.random.rand(), torch.rand(2))
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    evaluate.load(local_metric("accuracy"))
    for metric in metrics.values():
        metric.compute(predictions=[0, 1, 1], references=[1, 1, 0])
    got = (random.random(), np.random.rand(), torch.rand(2))
    assert got[:2] == expected[:2] and torch.equal(got[2], expected[2])


def test_notebook_01_shows_the_f1_module_as_it_is():
    """Notebook 01 shows f1.py in a cell (a '#@save' marker names only textsim/<module>.py): no drift allowed."""
    cells = ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code"]
    shown = [text for text in cells if "class F1(evaluate.Metric)" in text]
    assert len(shown) == 1, "notebook 01 should show the F1 module in exactly one cell"
    lines = shown[0].splitlines()
    while lines and lines[0].startswith("#"):  # the cell's heading comments
        lines.pop(0)
    source = (Path(local_metric("f1")) / "f1.py").read_text(encoding="utf-8")
    without_docstring = source.split('"""', 2)[2]
    assert "\n".join(lines).strip() == without_docstring.strip()
