"""Static checks over the Python sources of textsim/ and benchmarks/: no environment writes, small modules.

A notebook, the runner and the tests share one process with whatever they import: a module that writes
``os.environ`` changes the next notebook's or test's run behind its back. Settings travel as arguments (the
notebooks' ``PROFILE`` / ``MODEL`` parameters, ``Run``), and the environment is only read (``os.environ.get``).
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(path for folder in ("textsim", "benchmarks") for path in (ROOT / folder).rglob("*.py"))
MAX_LINES = 250
# os.environ[...] (a write, or a read that .get would do without a KeyError), its mutating methods, os.putenv /
# os.unsetenv, and environ imported bare (which the patterns above would not see).
ENVIRONMENT_WRITE = re.compile(r"os\.environ\s*\[|environ\.(?:update|setdefault|pop|popitem|clear|__setitem__)\s*\("
                               r"|os\.(?:putenv|unsetenv)\s*\(|\bdel\s+os\.environ"
                               r"|from\s+os\s+import\s+[^\n]*\benviron\b")


def environment_writes(text: str) -> list[str]:
    return [f"{number}: {line.strip()}" for number, line in enumerate(text.splitlines(), start=1)
            if ENVIRONMENT_WRITE.search(line)]


def test_the_sources_are_found():
    names = {path.relative_to(ROOT).as_posix() for path in SOURCES}
    assert {"textsim/run.py", "textsim/report.py", "textsim/training.py", "benchmarks/__main__.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_writes_the_environment(path):
    found = environment_writes(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)} writes os.environ (pass the value as an argument): {found}"


@pytest.mark.parametrize("line", [
    'os.environ["TENSORBOARD_LOGGING_DIR"] = str(folder)', "os.environ.update(TEXTSIM_MODEL=model)",
    'os.environ.setdefault("HF_HUB_OFFLINE", "1")', 'os.putenv("X", "1")', 'os.environ.pop("X", None)',
    'del os.environ["X"]', "from os import environ", "from os import path, environ",
])
def test_the_check_sees_each_kind_of_write(line):
    assert environment_writes(f"import os\n{line}\n") == [f"2: {line}"]


@pytest.mark.parametrize("line", ['os.environ.get("TEXTSIM_MODEL")', "dict(os.environ)", "import os.path"])
def test_the_check_lets_reads_through(line):
    assert environment_writes(line) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_is_longer_than_250_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it"
