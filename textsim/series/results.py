"""What goes into a results file: the table rows, the library versions, writing a file and reading it back.

Taught in notebook 01 (last section); ``Run.write_results`` writes the file, ``make run`` collects the files into
``results/<profile>/summary.md``. Every JSON file the project writes goes through ``write_json``.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
from importlib.metadata import version
from pathlib import Path

from ..metrics import wilson_interval

LIBRARIES = ("torch", "transformers", "datasets", "scikit-learn", "faiss-cpu", "numpy")


def library_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except Exception:
            found[name] = "not installed"
    return found


def environment() -> str:
    """Three lines for a notebook's closing cell: the device, the CPU with its speed-related flags, the libraries."""
    from ..device import cpu_name, describe, pick_device, speed_flags

    return "\n".join([f"设备：{describe(pick_device())}",
                      f"CPU：{cpu_name()} | 与速度有关的指令集：{' '.join(speed_flags()) or '无'}",
                      "库：" + "，".join(f"{name} {number}" for name, number in library_versions().items())])


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


def write_json(path, data) -> Path:
    """``data`` as JSON in ``path`` (UTF-8 text, not escaped, indent 2, a trailing newline; numpy scalars and arrays
    as plain numbers and lists), written atomically: a value that cannot be written leaves the old file as it was."""
    encoder = json.JSONEncoder(ensure_ascii=False, indent=2, default=_plain)

    def dump(handle) -> None:
        for chunk in encoder.iterencode(data):  # streamed: a failure comes part-way through the temporary file
            handle.write(chunk.encode("utf-8"))
        handle.write(b"\n")

    try:
        return _replace(Path(path), dump)
    except (TypeError, ValueError) as error:  # not JSON, or a string that is not UTF-8
        error.add_note(f"{path} was not written; the old file, if any, is kept")
        raise


def write_atomically(path, content: str | bytes) -> Path:
    """``content`` (text as UTF-8) in ``path``, written atomically."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return _replace(Path(path), lambda handle: handle.write(data))


def replace_block(path, start_marker: str, end_marker: str, content: str) -> Path:
    """Rewrite the text between two marker lines of a Markdown file (the README's results block, a docs page's
    generated table) with ``content``; everything outside the markers stays as it was."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise ValueError(f"{path} has no {start_marker} ... {end_marker} block")
    start += len(start_marker)
    return write_atomically(path, f"{text[:start]}\n{content.strip(chr(10))}\n{text[end:]}")


def _replace(path: Path, write) -> Path:
    """Write through a temporary file in the same folder (created if missing), then ``os.replace`` it onto
    ``path``: readers, and a crash, see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "wb") as handle:
            write(handle)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def _plain(value):
    """numpy scalars and arrays as plain JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@contextlib.contextmanager
def deferred_interrupts():
    """A Ctrl-C during the block waits for its end, so the files it writes are never left half-updated."""
    received = []
    previous = signal.signal(signal.SIGINT, lambda *args: received.append(args))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def replace_folder(folder: Path, write) -> Path:
    """``write(partial)`` fills a temporary sibling folder, which then takes ``folder``'s place: a crash or an error
    part-way leaves the old folder (or none), never a half-written one that looks complete."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial, old = (folder.with_name(f".{folder.name}.{os.getpid()}.{end}") for end in ("partial", "old"))
    shutil.rmtree(partial, ignore_errors=True)
    try:
        write(partial)
        if folder.exists():
            os.replace(folder, old)
        os.replace(partial, folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return folder
