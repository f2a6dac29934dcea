"""The benchmarks package: its batch-sampling helpers, an end-to-end run of ``python -m benchmarks`` at a tiny size
(no timing is asserted), and the speed page's figures (docs/speed.md) against the committed results/bench.json."""
import json
import subprocess
import sys

import numpy as np
import pytest

import textsim.device
from benchmarks import precision, scoring, speed_page, timing, train_speed
from textsim.series.profiles import PROJECT_ROOT


def test_padded_tokens_pad_each_side_to_the_batch_longest():
    sides = [[3, 5, 2], [4, 1, 1]]
    assert train_speed.padded_tokens([0, 2], sides) == 2 * (3 + 4)
    assert train_speed.tokens_per_pair([[0, 1], [2]], sides) == (2 * (5 + 4) + 1 * (2 + 1)) / 3


def test_stratified_sample_takes_one_batch_per_slice_of_the_ranked_epoch():
    lengths = [[10 * i for i in range(1, 13)]]  # batch k of the epoch below pads to 10 * (k + 1)
    batches = [[i] for i in reversed(range(12))]
    sample = train_speed.stratified_sample(batches, lengths, 3)
    assert [lengths[0][b[0]] for b in sample] == [30, 70, 110]  # the middle of the slices 10-40, 50-80, 90-120


def test_row_speedup_is_how_many_times_faster_ours_is():
    assert timing.row("x", "pairs/s", timing.stats([2, 1, 3]), timing.stats([8]), 2.0)["speedup"] == 4.0
    slower = timing.row("y", "ms", timing.stats([10]), timing.stats([40]), 2.0, higher_is_better=False)
    assert slower["speedup"] == 0.25 and slower["met"] is False and slower["seed"]["median"] == 10.0


def test_markdown_table_line_keeps_its_format():
    r = timing.row("scoring, cross-encoder", "pairs/s", timing.stats([8.0, 9.5]), timing.stats([1400]), 5.0,
                   note="why")
    lines = speed_page.table([r])
    assert lines[2] == ("| scoring, cross-encoder | pairs/s | 8.75 (8–9.5) | 1,400 (1,400–1,400) | 160.0× "
                        "| ≥ 5× | yes |")
    assert lines[-1] == "- scoring, cross-encoder: why"


def test_seed_sample_is_seeded_random_and_in_test_order():
    pairs = [(f"a{i}", f"b{i}") for i in range(1000)]
    sample = scoring.random_sample(pairs, 50)
    assert sample == scoring.random_sample(pairs, 50) and len(set(sample)) == 50
    assert sample != pairs[:50] and sample == sorted(sample, key=pairs.index)
    assert max(map(pairs.index, sample)) > 500  # drawn from the whole split, not its start


def test_interleaved_rates_alternate_the_runs_within_each_round():
    calls = []
    runs = {"seed": (lambda items: calls.append(("seed", len(items))), [1] * 8),
            "ours": (lambda items: calls.append(("ours", len(items))), [1] * 6)}
    found = timing.interleaved_rates(runs, torch_device(), 2)
    assert calls == [("seed", 4), ("ours", 4), ("seed", 8), ("ours", 6), ("seed", 8), ("ours", 6)]
    assert [len(found["seed"]), len(found["ours"])] == [2, 2] and min(found["seed"] + found["ours"]) > 0


def test_latency_is_one_item_at_a_time():
    calls = []
    found = timing.latency_ms(calls.append, ["q1", "q2", "q3"], torch_device())
    assert calls == ["q1", "q1", "q2", "q3"] and len(found["runs"]) == 3 and found["median"] >= 0


def test_machine_records_the_cpu_flags_that_decide_speed(monkeypatch):
    monkeypatch.setattr(textsim.device, "cpu_flags", lambda: frozenset({"fpu", "avx2", "amx_bf16", "amx_tile"}))
    monkeypatch.setattr(timing, "cpu_computes_bf16", lambda: True)
    found = timing.machine(torch_device())
    assert found["cpu_flags"] == ["avx2", "amx_bf16", "amx_tile"] and found["cpu_bf16"] is True
    header = speed_page.header({"size": "full", "model": "m", "finished_at": "t", "seconds": 1.0, "machine": found})
    assert "(of the speed flags avx2, avx512f, avx512_bf16, amx_bf16, amx_tile it has: avx2, amx_bf16, amx_tile)" in header[4]


def test_agreement_hand_computed():
    reference = np.array([0.2, 0.6, 0.49, 0.9])
    scores = np.array([0.21, 0.58, 0.51, 0.9])
    labels = np.array([0, 1, 1, 1])
    found = precision.agreement(reference, scores, labels, 0.5)
    assert found["max_abs_diff"] == pytest.approx(0.02) and found["label_agreement"] == 0.75
    assert found["accuracy_fp32"] == 0.75 and found["accuracy"] == 1.0
    assert found["accuracy_change_points"] == pytest.approx(25.0) and found["adoptable"] is False
    assert precision.agreement(reference, reference + 0.001, labels, 0.5)["adoptable"] is True


def torch_device():
    import torch

    return torch.device("cpu")


@pytest.mark.slow
def test_tiny_benchmark_writes_json_and_markdown(tmp_path):
    subprocess.run([sys.executable, "-m", "benchmarks", "--size", "tiny", "--out", str(tmp_path)],
                   check=True, cwd=PROJECT_ROOT, timeout=600)
    report = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert report["size"] == "tiny" and len(report["sections"]) == 6
    names = [r["name"] for section in report["sections"].values() for r in section["rows"]]
    assert {"training, cross-encoder", "training, bi-encoder", "scoring, cross-encoder", "scoring, bi-encoder",
            "scoring, cross-encoder, seed's batched Trainer path", "scoring, bi-encoder, seed's batched Trainer path",
            "ranking, ms per query (top 10)", "precision, cross-encoder, bf16 vs fp32",
            "precision, bi-encoder, int8 vs fp32"} <= set(names)
    assert set(report["machine"]["cpu_flags"]) <= set(timing.SPEED_FLAGS)
    scored = report["sections"]["2. Pair scoring throughput"]
    assert scored["tokens_per_pair"]["seed_sample"] > 0 and scored["tokens_per_pair"]["all"] > 0
    assert {"cross-encoder, one pair", "bi-encoder, one query"} == set(scored["latency_ms"])
    for by_precision in scored["latency_ms"].values():  # batch-1 latency for each precision
        assert set(by_precision) == {"fp32", "bf16", "auto"} and all(v["median"] > 0 for v in by_precision.values())
    assert [int(b) for b in scored["bf16_crossover"]] == list(scoring.CROSSOVER_BATCHES)
    assert all(found["fp32_ms"] > 0 and found["bf16_ms"] > 0 for found in scored["bf16_crossover"].values())
    agreed = report["sections"]["6. Scoring precision: fp32 vs bf16 autocast and int8"]["agreement"]
    for found in agreed.values():
        assert 0 <= found["label_agreement"] <= 1 and found["max_abs_diff"] >= 0 and found["speedup"] > 0
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


def test_update_speed_page_rewrites_only_its_table(tmp_path):
    bench = json.loads((PROJECT_ROOT / "results" / "bench.json").read_text(encoding="utf-8"))
    page = tmp_path / "speed.md"
    page.write_text(f"intro\n{speed_page.SPEED_START}\nold\n{speed_page.SPEED_END}\nprose\n", encoding="utf-8")
    speed_page.update_speed_page(bench, page)
    assert page.read_text(encoding="utf-8") == (f"intro\n{speed_page.SPEED_START}\n{speed_page.speed_table(bench)}\n"
                                                f"{speed_page.SPEED_END}\nprose\n")
