"""Every figure in a notebook's prose is one the reader can see: printed by an output of the same notebook (a code
cell may read it from a committed results file), or quoted from the seed tutorial in a cell that names it.

A figure is a decimal number (0.840, 3.6e-03, 19,829.5), or a number followed by a unit of time, a percentage or a
ratio (25 ms, 5%, 3 倍, 2.4×). A printed number shows a figure when it rounds to it (0.8400 shows 0.840; 0.84 as a
fraction shows 84%). Headings and section references (第 2.3 节) are not figures; nor is code in backticks, a link
target or a formula in dollars. The README's figures outside its results block are held to that block.
"""
import json
import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from textsim.series.summary import README_END, README_START

ROOT = Path(__file__).resolve().parents[2]
CODE_BLOCK = re.compile(r"```.*?```", re.DOTALL)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

FIGURE = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?e-\d+|\d+(?:,\d{3})*\.\d+(?!\d*e-)"
                    r"|\d+(?:,\d{3})*(?:\.\d+)?(?=\s*(?:%|×|倍|ms|毫秒|秒|分钟|小时|GFLOP)))")
NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?:e-\d+)?")
# Not figures: code, link targets, formulas, headings, section references, and facts of the software and the models
# rather than measurements (a Python version, a parameter count such as 4.1M).
NOT_PROSE = re.compile(r"`[^`]*`|\]\([^)]*\)|\$[^$]*\$|^#.*$|第\s*\d+(?:\.\d+)*\s*节|Python\s*\d+(?:\.\d+)+"
                       r"|\d+(?:\.\d+)?M(?= 参数| parameters)", re.MULTILINE)
# What the seed tutorial (zyds/transformers-code, 文本相似度) reports or sets: test accuracy and F1 of its three
# models, its raw pipeline scores, its thresholds, its margin and its learning rate. Quoted only where the cell says
# 原教程.
SEED_FIGURES = {"0.914", "0.888", "0.9135", "0.7625", "0.70", "0.079", "0.907", "0.8", "0.5", "0.3", "2e-5"}


def outputs(notebook: dict) -> str:
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            texts.append("".join(output.get("text", "")))
            texts += ["".join(output.get("data", {}).get(kind, "")) for kind in ("text/plain", "text/html")]
    return "\n".join(texts)


def printed_numbers(text: str) -> set[Decimal]:
    return {Decimal(n.replace(",", "")) for n in NUMBER.findall(text)}


def shown(figure: str, printed: set[Decimal]) -> bool:
    """Whether some printed number, or a printed fraction as a percentage, rounds to the figure."""
    value = Decimal(figure.replace(",", ""))
    step = Decimal(1).scaleb(value.as_tuple().exponent)
    return any(number.quantize(step, rounding) == value
               for n in printed for number in (n, n * 100) for rounding in (ROUND_HALF_UP, ROUND_HALF_EVEN))


def unseen_figures(notebook: dict) -> list[tuple[int, str]]:
    """(cell index, figure) for every figure in the markdown that the notebook does not print or quote."""
    printed, found = printed_numbers(outputs(notebook)), []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = NOT_PROSE.sub(" ", "".join(cell["source"]))
        for figure in FIGURE.findall(text):
            quoted = figure in SEED_FIGURES and "原教程" in text
            if not quoted and not shown(figure, printed):
                found.append((index, figure))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_in_the_prose_is_printed_beside_it(path):
    unseen = unseen_figures(json.loads(path.read_text(encoding="utf-8")))
    assert not unseen, f"{path.name}: figures in the prose that no output prints: " + ", ".join(
        f"{figure} (cell {index})" for index, figure in unseen)


def notebook(markdown: str, printed: str) -> dict:
    return {"cells": [{"cell_type": "code", "source": [], "outputs": [{"output_type": "stream", "text": [printed]}]},
                      {"cell_type": "markdown", "source": [markdown]}]}


def test_a_figure_that_no_output_prints_is_found():
    assert unseen_figures(notebook("准确率 0.840，区间 [0.816, 0.861]，用时 25 秒，快 3.1 倍", "0.8400 [0.8160, 0.8614]")) == [
        (1, "25"), (1, "3.1")]


def test_a_printed_figure_passes_however_it_is_rounded_or_written():
    printed = "accuracy 0.84, 19829.4 ms, diff 6.0e-08, share 0.093"
    assert unseen_figures(notebook("0.840、84%、19,829 ms、6.0e-08、9%、9.3%", printed)) == []


def test_seed_figures_pass_only_where_the_cell_names_the_seed():
    assert unseen_figures(notebook("原教程报告 0.914、F1 0.888", "")) == []
    assert unseen_figures(notebook("报告 0.914", "")) == [(1, "0.914")]


def test_headings_section_references_and_code_are_not_figures():
    assert unseen_figures(notebook("### 2.3 训练\n见第 3.1 节；`lr=2e-05`，[链接](a/1.5.md)，$e^{0.5}$", "")) == []
    assert unseen_figures(notebook("需要 Python 3.11+；albert-tiny-chinese（4.1M 参数）", "")) == []


def test_a_wrong_figure_planted_in_a_committed_notebook_is_found():
    path = NOTEBOOKS[0]
    planted = json.loads(path.read_text(encoding="utf-8"))
    last = max(i for i, c in enumerate(planted["cells"]) if c["cell_type"] == "markdown")
    planted["cells"][last]["source"] = ["测试准确率 0.123（区间 [0.100, 0.150]）"]
    assert (last, "0.123") in unseen_figures(planted)


def readme_unseen_figures(readme: str) -> list[str]:
    """Figures in the README's prose that its results block does not show."""
    start, end = readme.index(README_START), readme.index(README_END)
    prose = NOT_PROSE.sub(" ", CODE_BLOCK.sub(" ", readme[:start] + readme[end:]))
    printed = printed_numbers(readme[start:end])
    return [figure for figure in FIGURE.findall(prose) if not shown(figure, printed)]


def test_every_figure_in_the_readme_is_in_its_results_block():
    assert readme_unseen_figures((ROOT / "README.md").read_text(encoding="utf-8")) == []


def test_a_readme_figure_outside_the_results_block_is_found():
    readme = f"准确率 0.840，快 3 倍\n```\nlr 0.5\n```\n{README_START}\n| 0.8400 |\n{README_END}\n"
    assert readme_unseen_figures(readme) == ["3"]
