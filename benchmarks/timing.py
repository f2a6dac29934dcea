"""Measuring helpers that every section shares: GPU-synchronised timing, statistics, rates, a table row, the
device's fp32 ceiling, and the machine the benchmark ran on."""
from __future__ import annotations

import os
import platform
import statistics
import time

import torch

from textsim.device import SPEED_FLAGS, cpu_computes_bf16, cpu_name, speed_flags
from textsim.series.results import library_versions

SEED = 42  # the random seed of every choice the benchmark makes: model heads, batch orders, samples
LOAD_AT_START = os.getloadavg() if hasattr(os, "getloadavg") else None  # other work on the machine skews timings


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device: torch.device) -> float:
    """Seconds that one call of ``fn`` takes (GPU work included)."""
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def stats(values) -> dict:
    values = [float(v) for v in values]
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def rates(fn, items: list, device, reps: int) -> list[float]:
    """Items/second of ``fn(items)``, ``reps`` times, after a warm-up call on a few items."""
    fn(items[:4])
    return [len(items) / timed(lambda: fn(items), device) for _ in range(reps)]


def interleaved_rates(runs: dict, device, reps: int) -> dict[str, list[float]]:
    """``{name: (fn, items)}`` -> items/second of each, ``reps`` rounds in which every run goes once in turn (after
    a warm-up of each on a few items), so that a change in the machine's load hits every run alike."""
    for fn, items in runs.values():
        fn(items[:4])
    found = {name: [] for name in runs}
    for _ in range(reps):
        for name, (fn, items) in runs.items():
            found[name].append(len(items) / timed(lambda: fn(items), device))
    return found


def latency_ms(fn, items: list, device) -> dict:
    """Milliseconds of ``fn(item)`` for one item at a time (batch 1: one live query), after one warm-up call."""
    fn(items[0])
    return stats(1000 * timed(lambda: fn(item), device) for item in items)


def row(name: str, unit: str, tutorial: dict, ours: dict, target: float, higher_is_better: bool = True,
        note: str = "") -> dict:
    """One line of a table; ``speedup`` is always how many times faster ours is than the original tutorial's.
    The tutorial's figures go under the key "seed", the name that the committed results use."""
    speedup = ours["median"] / tutorial["median"] if higher_is_better else tutorial["median"] / ours["median"]
    return {"name": name, "unit": unit, "seed": tutorial, "ours": ours, "speedup": speedup,
            "target": target, "met": bool(speedup >= target), "note": note}


def matmul_gflops(device, reps: int, n: int = 2048) -> float:
    """The practical fp32 ceiling of ``device``: GFLOP/s of a large matrix product (median of ``reps``)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    torch.mm(a, b)
    return statistics.median(2 * n ** 3 / 1e9 / timed(lambda: torch.mm(a, b), device) for _ in range(reps))


def machine(device: torch.device) -> dict:
    return {"cpu": cpu_name(), "cpu_flags": speed_flags(),
            "cpu_bf16": cpu_computes_bf16(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "device": str(device), "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            "load_average_at_start": LOAD_AT_START, "platform": platform.platform(), "versions": library_versions()}
