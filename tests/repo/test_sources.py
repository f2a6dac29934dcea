"""Static checks over the Python sources of textsim/, benchmarks/ and experiments/: no environment writes, one
module that reads it, an import graph without cycles, small modules.

A notebook, the runner and the tests share one process with whatever they import: a module that writes
``os.environ`` changes the next notebook's or test's run behind its back. Settings travel as arguments (the
notebooks' ``PROFILE`` / ``MODEL`` parameters, ``Run``), and the environment is only read (``os.environ.get``).
"""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(path for folder in ("textsim", "benchmarks", "experiments") for path in (ROOT / folder).rglob("*.py"))
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
    assert {"textsim/series/run.py", "textsim/series/runner.py", "textsim/training.py", "benchmarks/__main__.py"} <= names


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


def test_one_module_reads_the_environment():
    readers = {path.relative_to(ROOT).as_posix() for path in SOURCES
               if path.is_relative_to(ROOT / "textsim") and "os.environ" in path.read_text(encoding="utf-8")}
    assert readers == {"textsim/series/profiles.py"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``path`` imports (relative imports resolved; ``from package import module``
    counts the module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            stem = ".".join(base + ([node.module] if node.module else []))
            targets = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target in known and target != name}
    return found


def cycle_in(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as a list of modules, or [] when it has none."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_import_graph_has_no_cycles():
    sources = [path for path in SOURCES if path.is_relative_to(ROOT / "textsim")]
    known = {module_name(path) for path in sources}
    graph = {module_name(path): imported_modules(path, known) - {"textsim"} for path in sources}
    assert "textsim.series.run" in graph["textsim.recipes"]  # the check sees relative imports
    assert cycle_in(graph) == [], f"an import cycle: {' -> '.join(cycle_in(graph))}"


def test_the_cycle_check_finds_a_cycle():
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set()}) == []
