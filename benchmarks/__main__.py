"""Speed benchmark: the seed's code path against ours, on the same model (m3e-small) and the same data.

Run with ``make bench`` (or ``python -m benchmarks --size tiny --out /tmp/bench``); writes ``bench.json`` and
``bench.md`` in ``--out``. See benchmarks/README.md for what each section measures.
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import transformers
from transformers import AutoTokenizer

import textsim
from textsim.series.profiles import PROJECT_ROOT

from . import gpu, paper, precision, ranking, scoring, speed_page, train_speed
from .timing import machine

SIZES = {  # tiny: a smoke run for the tests (well under a minute); full: `make bench` (minutes on 2 CPU cores)
    "tiny": dict(train_rows=100, batch=2, batches=2, reps=1, pairs=8, seed_pairs=4, seed_batched_pairs=4,
                 corpus=100, corpus_sample=16, candidates=16, queries=2),
    "full": dict(train_rows=8000, batch=32, batches=6, reps=3, pairs=1000, seed_pairs=50, seed_batched_pairs=320,
                 corpus=None, corpus_sample=1000, candidates=500, queries=20),
}  # seed_pairs (a key of the committed results): the tutorial's one-pair-at-a-time loops run at a steady rate per
#    pair, so a random sample of the pairs is enough; seed_batched_pairs: its Trainer path pads every pair to 128


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: the GPU if any)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    textsim.quiet_logs()
    transformers.utils.logging.disable_progress_bar()
    size, device = SIZES[args.size], torch.device(args.device) if args.device else textsim.pick_device()
    path = textsim.resolve_model("m3e-small")
    tok = AutoTokenizer.from_pretrained(path)
    splits = textsim.load_splits(textsim.load_profile("local"))
    corpus, queries = ranking.corpus_and_queries(textsim.read_pairs(textsim.ensure_data()), splits["test"], size)
    steps = {  # the section's title in the report: (its progress line, its measurement)
        "1. Training throughput": (
            "training throughput", lambda: train_speed.measure(path, tok, splits["train"], device, size)),
        "2. Pair scoring throughput": (
            "pair scoring throughput", lambda: scoring.measure(path, tok, splits["test"], device, size)),
        "3. Ranking (top 10 of the corpus)": (
            "ranking", lambda: ranking.measure(path, tok, corpus, queries, device, size)),
        "4. GPU: fp32 vs mixed precision, torch.compile": (
            "GPU: precision and torch.compile", lambda: gpu.measure(path, tok, splits["test"], device, size)),
        "5. What the paper profile (MacBERT-base) would cost here": (
            "paper profile estimate", lambda: paper.measure(tok, splits["train"], device, size)),
        "6. Scoring precision: fp32 vs bf16 autocast and int8": (
            "precision agreement", lambda: precision.measure(path, tok, splits["test"], device, size)),
    }
    sections = {}
    for number, (title, (progress, measure)) in enumerate(steps.items(), start=1):
        print(f"{number}. {progress} (at {time.perf_counter() - started:.0f} s)", flush=True)
        sections[title] = measure()
    results = {"size": args.size, "model": "m3e-small", "settings": size, "machine": machine(device),
               "sections": sections, "seconds": time.perf_counter() - started,
               "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    speed_page.write(results, args.out)
    print(f"wrote {args.out / 'bench.md'} and bench.json in {results['seconds']:.0f} s")
    if args.size == "full" and args.out.resolve() == (PROJECT_ROOT / "results").resolve():
        speed_page.update_speed_page(results)  # the committed benchmark and its page change together
        print(f"updated the table of {speed_page.SPEED_PAGE.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
