"""The benchmarks package: its batch-sampling helpers, an end-to-end run of ``python -m benchmarks`` at a tiny size
(no timing is asserted), and the README's speed figures against the committed results/bench.json."""
import json
import re
import subprocess
import sys

import pytest

from benchmarks import report, timing, training
from textsim.config import PROJECT_ROOT


def test_padded_tokens_pad_each_side_to_the_batch_longest():
    sides = [[3, 5, 2], [4, 1, 1]]
    assert training.padded_tokens([0, 2], sides) == 2 * (3 + 4)
    assert training.tokens_per_pair([[0, 1], [2]], sides) == (2 * (5 + 4) + 1 * (2 + 1)) / 3


def test_stratified_sample_takes_one_batch_per_slice_of_the_ranked_epoch():
    lengths = [[10 * i for i in range(1, 13)]]  # batch k of the epoch below pads to 10 * (k + 1)
    batches = [[i] for i in reversed(range(12))]
    sample = training.stratified_sample(batches, lengths, 3)
    assert [lengths[0][b[0]] for b in sample] == [30, 70, 110]  # the middle of the slices 10-40, 50-80, 90-120


def test_row_speedup_is_how_many_times_faster_ours_is():
    assert timing.row("x", "pairs/s", timing.stats([2, 1, 3]), timing.stats([8]), 2.0)["speedup"] == 4.0
    slower = timing.row("y", "ms", timing.stats([10]), timing.stats([40]), 2.0, higher_is_better=False)
    assert slower["speedup"] == 0.25 and slower["met"] is False and slower["seed"]["median"] == 10.0


def test_markdown_table_line_keeps_its_format():
    r = timing.row("scoring, cross-encoder", "pairs/s", timing.stats([8.0, 9.5]), timing.stats([1400]), 5.0,
                   note="why")
    lines = report.table([r])
    assert lines[2] == ("| scoring, cross-encoder | pairs/s | 8.75 (8–9.5) | 1,400 (1,400–1,400) | 160.0× "
                        "| ≥ 5× | yes |")
    assert lines[-1] == "- scoring, cross-encoder: why"


@pytest.mark.slow
def test_tiny_benchmark_writes_json_and_markdown(tmp_path):
    subprocess.run([sys.executable, "-m", "benchmarks", "--size", "tiny", "--out", str(tmp_path)],
                   check=True, cwd=PROJECT_ROOT, timeout=600)
    report = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert report["size"] == "tiny" and len(report["sections"]) == 5
    names = [r["name"] for section in report["sections"].values() for r in section["rows"]]
    assert {"training, cross-encoder", "training, bi-encoder", "scoring, cross-encoder", "scoring, bi-encoder",
            "ranking, ms per query (top 10)"} <= set(names)
    for section in report["sections"].values():
        for r in section["rows"]:
            assert r["speedup"] > 0 and r["seed"]["median"] > 0 and r["ours"]["median"] > 0
    trained = {r["name"]: r for r in report["sections"]["1. Training throughput"]["rows"]}
    # the original tutorial pads every sentence (pair) to 128 tokens; ours pads each batch only to its longest
    assert trained["training, cross-encoder"]["epoch_tokens"]["seed"] == 128
    assert trained["training, bi-encoder"]["epoch_tokens"]["seed"] == 256
    for r in trained.values():
        assert r["epoch_tokens"]["ours"] < r["epoch_tokens"]["seed"]
        assert 0 < r["optimizer_share"]["seed"] < 1 and 0 < r["optimizer_share"]["ours"] < 1
    assert "GFLOP/s" in " ".join(report["sections"]["2. Pair scoring throughput"]["notes"])
    assert "paper" in (tmp_path / "bench.md").read_text(encoding="utf-8")


def ratio(speedup: float) -> str:
    """How the README writes a speed-up: one decimal below 100x, whole numbers with commas above."""
    return f"{speedup:,.0f}×" if speedup >= 100 else f"{speedup:.1f}×"


def test_readme_speed_table_equals_the_committed_benchmark():
    report = json.loads((PROJECT_ROOT / "results" / "bench.json").read_text(encoding="utf-8"))
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    speed = readme.split("Speed: `make bench`", 1)[1].split("\n## ", 1)[0]
    assert report["size"] == "full"
    assert f"took {report['seconds'] / 60:.1f} minutes" in speed
    rows = [r for section in report["sections"].values() for r in section["rows"]]
    table = [line for line in speed.splitlines() if line.startswith("| ") and "×" in line]
    assert len(table) == len(rows)
    for line, r in zip(table, rows):
        assert f"| {ratio(r['speedup'])} | ≥ {r['target']:g}× {'met' if r['met'] else 'missed'} |" in line
    why = " ".join(report["sections"]["2. Pair scoring throughput"]["notes"])
    for figure in re.findall(r"(\d+ GFLOP/s|\d+% )", why):
        assert figure.strip() in speed
    paper = report["sections"]["5. What the paper profile (MacBERT-base) would cost here"]["estimate"][0]
    assert f"at {paper['rate']['median']:.1f} pairs/s" in readme and f"about {paper['hours']:.1f} hours" in readme
