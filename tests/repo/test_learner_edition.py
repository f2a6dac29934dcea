"""The series stays a tutorial a learner reads: its size, how much of its prose speaks of runs and machines rather
than of the lesson, and a README a newcomer reads in two minutes.

How the prose is counted: a notebook's markdown cells without fenced code; sentences end at 。！？ or a line break
and count when they hold a CJK character. A sentence is about runs, profiles or machines when, outside backticks
and link targets, it names one (``RUN_TALK``). The limits are the ones the series set itself: at most 367 code
lines a notebook on average (notebooks 01-05 were cut to 1,835 lines), at most about 4,000 CJK characters of prose
per notebook, at most 5% of the sentences about runs, profiles or machines, none about the project's own history.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")
FENCED = re.compile(r"```.*?```", re.DOTALL)
CODE_OR_LINK = re.compile(r"`[^`]*`|\]\([^)]*\)")
SENTENCE_END = re.compile(r"[。！？\n]+")
RUN_TALK = re.compile(r"配置|profile|\blocal\b|\bsmoke\b|CPU|GPU|处理器|机器|本机|运行环境|核心|AVX|AMX|avx|amx|torchrun"
                      r"|分钟|本次运行|这次运行", re.IGNORECASE)
# What a reader cannot see: the project's issues, earlier runs, what was or was not run again, publishing.
HISTORY = re.compile(r"\bissues?\b|问题\s*#\d+|未重跑|没有重跑|没重跑|上一版|早先|之前(?:的)?[一两几\d]*\s*次运行|还没有人跑过"
                     r"|发布|publish", re.IGNORECASE)
CODE_LINES_PER_NOTEBOOK = 367  # 1,835 lines over notebooks 01-05
CJK_PER_NOTEBOOK = 4_000
RUN_TALK_SHARE = 0.05


def cells(path: Path, kind: str) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == kind]


def code_lines(sources: list[str]) -> int:
    return sum(len(text.split("\n")) for text in sources if text)


def prose(markdown: list[str]) -> str:
    return FENCED.sub("", "\n".join(markdown))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if CJK.search(s)]


def about_runs(sentence: str) -> bool:
    return bool(RUN_TALK.search(CODE_OR_LINK.sub("", sentence)))


def test_the_series_code_fits_its_budget():
    total, budget = sum(code_lines(cells(path, "code")) for path in NOTEBOOKS), CODE_LINES_PER_NOTEBOOK * len(NOTEBOOKS)
    assert total <= budget, f"the {len(NOTEBOOKS)} notebooks hold {total} lines of code, more than {budget}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebooks_prose_fits_its_budget(path):
    characters = len(CJK.findall(prose(cells(path, "markdown"))))
    assert characters <= CJK_PER_NOTEBOOK, f"{path.name}: {characters} CJK characters of prose"


def test_few_sentences_speak_of_runs_profiles_or_machines():
    found = [s for path in NOTEBOOKS for s in sentences(prose(cells(path, "markdown")))]
    talk = [s for s in found if about_runs(s)]
    assert len(talk) <= RUN_TALK_SHARE * len(found), f"{len(talk)} of {len(found)} sentences: {talk}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_sentence_speaks_of_the_projects_own_history(path):
    history = [s for s in sentences(prose(cells(path, "markdown"))) if HISTORY.search(CODE_OR_LINK.sub("", s))]
    assert not history, f"{path.name}: {history}"


def test_the_counts_see_what_they_look_for():
    assert code_lines(["a = 1\n\nb = 2", "", "c"]) == 4  # blank lines count, an empty cell does not
    text = "双塔把句子编码成向量。这个数字来自 local 配置的一次运行！\n见 `smoke` 与 [说明](docs/cpu.md)。\n```\n配置\n```"
    assert sentences(prose([text])) == ["双塔把句子编码成向量", "这个数字来自 local 配置的一次运行", "见 `smoke` 与 [说明](docs/cpu.md)"]
    assert [about_runs(s) for s in sentences(prose([text]))] == [False, True, False]  # code and links do not count
    assert HISTORY.search("早先的 0.821 未重跑") and HISTORY.search("见 issue #11")
    assert not HISTORY.search("transformers 的 PR #34066 改了这条规则")


def test_the_readme_is_short_and_gives_its_commands_first():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines"
    head = "\n".join(lines[:20])
    for command in ("make setup", "make run", "make test"):
        assert command in head, f"{command!r} is not in the README's first 20 lines"
