"""benchmarks/bench.py runs end to end at a tiny size and writes both reports (no timing is asserted)."""
import json
import subprocess
import sys

import pytest

from textsim.config import PROJECT_ROOT


@pytest.mark.slow
def test_tiny_benchmark_writes_json_and_markdown(tmp_path):
    subprocess.run([sys.executable, str(PROJECT_ROOT / "benchmarks" / "bench.py"), "--size", "tiny",
                    "--out", str(tmp_path)], check=True, cwd=PROJECT_ROOT, timeout=600)
    report = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert report["size"] == "tiny" and len(report["sections"]) == 5
    names = [r["name"] for section in report["sections"].values() for r in section["rows"]]
    assert {"training, cross-encoder", "training, bi-encoder", "scoring, cross-encoder", "scoring, bi-encoder",
            "ranking, ms per query (top 10)"} <= set(names)
    for section in report["sections"].values():
        for r in section["rows"]:
            assert r["speedup"] > 0 and r["seed"]["median"] > 0 and r["ours"]["median"] > 0
    assert "paper" in (tmp_path / "bench.md").read_text(encoding="utf-8")
