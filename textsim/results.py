"""What goes into a results file: the table rows, the library versions, and reading a file back.

Taught in notebook 01 (last section); ``Run.write_results`` writes the file, ``make run`` collects the files into
``results/<profile>/summary.md``.
"""
from __future__ import annotations

import json
import platform
from importlib.metadata import version
from pathlib import Path

from .metrics import wilson_interval

LIBRARIES = ("torch", "transformers", "datasets", "scikit-learn", "faiss-cpu", "numpy")


def library_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except Exception:
            found[name] = "not installed"
    return found


def metric_row(recipe: str, metrics: dict, threshold: float | None, threshold_source: str,
               pairs: int | None = None, **extra) -> dict:
    """One line of the summary table: a recipe's test metrics, where its threshold came from and, given the
    number of test ``pairs``, the 95% Wilson interval of its accuracy."""
    row = {"recipe": recipe, **{k: round(float(metrics[k]), 4) for k in ("accuracy", "f1", "precision", "recall")},
           "threshold": None if threshold is None else round(float(threshold), 4),
           "threshold_source": threshold_source}
    if pairs is not None:
        low, high = wilson_interval(round(float(metrics["accuracy"]) * pairs), pairs)
        row.update(pairs=pairs, accuracy_ci95=[round(low, 4), round(high, 4)])
    row.update(extra)
    return row


class ResultsError(ValueError):
    """A results file that cannot be used; the message names the file."""


def read_json(path: Path, required: tuple[str, ...] = ()) -> dict:
    """A JSON object from ``path`` with the ``required`` fields, or a ``ResultsError`` naming the file."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path}: cannot be read as JSON ({error}). Delete it and run the notebook again.") \
            from None
    if not isinstance(record, dict):
        raise ResultsError(f"{path}: expected a JSON object, got {type(record).__name__}.")
    missing = [field for field in required if field not in record]
    if missing:
        raise ResultsError(f"{path}: missing field(s) {', '.join(missing)}; the file is incomplete. "
                           f"Run the notebook again.")
    return record
