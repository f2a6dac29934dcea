"""The committed notebooks: code shown in a ``#@save`` cell is textsim's code, and the outputs are clean.

A cell whose first line is ``#@save textsim/<module>.py`` teaches code that later notebooks, the benchmark or the
tests import from that module (the pattern of d2l's ``#@save``): each top-level ``def`` / ``class`` in it must be
identical, character for character, to the one of the same name in the module, so the two cannot drift.
"""
import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SAVE = re.compile(r"^#@save (textsim/\w+\.py)\s*$")
# Machine paths, warnings, tracebacks, raw Trainer log dicts and the text of unrendered progress widgets.
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:work|home|root|tmp|Users|usr|opt|var)/|[A-Z]:\\\\")
NOISE = re.compile(r"Warning|warnings\.warn|Traceback \(most recent|\{'(?:eval_)?loss'|^\s*\w[\w ]*:\s+0%\|",
                   re.MULTILINE)


def cells(path: Path, kind: str = "code") -> list[dict]:
    return [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == kind]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def python_only(text: str) -> str:
    """The cell without IPython magics and shell lines, which ast cannot parse."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines())


def definitions(text: str) -> dict[str, str]:
    """Each top-level def / class with its decorators, as written."""
    lines = text.splitlines()
    nodes = [node for node in ast.parse(text).body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return {node.name: "\n".join(lines[min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1:node.end_lineno])
            for node in nodes}


def saved_cells(path: Path) -> list[tuple[str, str]]:
    found = []
    for cell in cells(path):
        first = source(cell).splitlines()[:1]
        if first and first[0].startswith("#@save"):
            match = SAVE.match(first[0])
            assert match, f"{path.name}: malformed marker {first[0]!r}; write '#@save textsim/<module>.py'"
            found.append((match.group(1), python_only(source(cell))))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_saved_cells_equal_textsim(path):
    saved = saved_cells(path)
    assert saved, f"{path.name} has no '#@save textsim/<module>.py' cell"
    for module, text in saved:
        shown = definitions(text)
        assert shown, f"{path.name}: a cell saved to {module} defines nothing"
        library = definitions((ROOT / module).read_text(encoding="utf-8"))
        for name, code in shown.items():
            assert name in library, f"{path.name}: {name} is saved to {module} but is not defined there"
            assert code == library[name], f"{path.name}: {name} differs from {module}; copy one onto the other"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_shows_code_rather_than_printing_it(path):
    for cell in cells(path):
        assert "inspect.getsource" not in source(cell), f"{path.name}: write the code in the cell instead"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_ends_by_interpreting_its_numbers(path):
    headings = [source(c) for c in cells(path, "markdown") if source(c).lstrip().startswith("## 小结")]
    assert headings, f"{path.name} has no '## 小结' section"


def output_texts(cell: dict):
    for output in cell.get("outputs", []):
        if output["output_type"] == "error":
            yield "error", f"{output['ename']}: {output['evalue']}"
        if output["output_type"] == "stream":
            yield output["name"], "".join(output["text"])
        for kind, value in output.get("data", {}).items():
            if kind.startswith("text/") or kind.endswith("+json"):
                yield kind, value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict) \
                    else "".join(value)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_outputs_are_clean(path):
    problems = []
    for index, cell in enumerate(cells(path)):
        for kind, text in output_texts(cell):
            if kind in ("error", "stderr") or "widget-view" in kind:
                problems.append(f"code cell {index}: {kind} output {text[:120]!r}")
            for pattern in (ABSOLUTE_PATH, NOISE):
                found = pattern.search(text)
                if found:
                    context = text[max(0, found.start() - 60):found.end() + 60]
                    problems.append(f"code cell {index}: {found.group(0)!r} in {context!r}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems[:10])


def test_the_checks_catch_what_they_look_for():
    dirty = {"outputs": [
        {"output_type": "stream", "name": "stdout", "text": ["saved to /work/main/models/x\n"]},
        {"output_type": "stream", "name": "stdout", "text": ["{'loss': '0.65', 'epoch': '0.04'}\n"]},
        {"output_type": "display_data", "data": {"text/plain": ["Loading weights:   0%|   | 0/71"]}}]}
    texts = [text for _, text in output_texts(dirty)]
    assert ABSOLUTE_PATH.search(texts[0]) and NOISE.search(texts[1]) and NOISE.search(texts[2])
    assert not ABSOLUTE_PATH.search("models/local/01 and 3/4 of the pairs") and not NOISE.search("accuracy 0.837")
    assert definitions("import x\n\ndef f(a):\n    return a\n") == {"f": "def f(a):\n    return a"}
    assert definitions("@torch.inference_mode()\ndef f(a):\n    return a\n") == {
        "f": "@torch.inference_mode()\ndef f(a):\n    return a"}  # a dropped decorator is a difference


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_closes_with_the_machine_it_ran_on(path):
    heading, last = cells(path, "markdown")[-1], cells(path)[-1]
    assert source(heading).startswith("## 本篇运行环境"), f"{path.name}: end with a '## 本篇运行环境' section"
    assert "textsim.environment()" in source(last), f"{path.name}: its last cell prints textsim.environment()"
    printed = "".join("".join(output.get("text", "")) for output in last.get("outputs", []))
    assert all(line in printed for line in ("设备：", "CPU：", "库：")) or not last.get("outputs"), printed
