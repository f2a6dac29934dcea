"""Section 2, pair scoring throughput: the tutorial's pipeline called once per pair against our batched scoring,
and why batching gains what it gains on this device."""
from __future__ import annotations

import statistics

import torch
from transformers import pipeline

from textsim.biencoder import pair_cosines
from textsim.inference import score_pairs
from textsim.pipelines import register_pipeline

from .timing import matmul_gflops, rates, row, stats
from .tutorial import MAX_LENGTH, load_bi, load_cross


def pairs_of(test, count: int) -> list[tuple[str, str]]:
    """The first ``count`` (sentence1, sentence2) pairs of the test split."""
    return list(zip(list(test["sentence1"]), list(test["sentence2"])))[:count]


def measure(path, tok, test, device, size) -> dict:
    register_pipeline()  # pipeline("sentence-similarity")
    pairs = pairs_of(test, size["pairs"])
    few = pairs[:size["seed_pairs"]]  # the tutorial's per-pair loops run on these ("seed_pairs": a JSON key)
    cross, bi = load_cross(path, device).eval(), load_bi(path, device).eval()
    classify = pipeline("text-classification", model=cross, tokenizer=tok, device=device)
    similarity = pipeline("sentence-similarity", model=bi, tokenizer=tok, device=device)
    reps = size["reps"]
    sample = f"seed timed on the first {len(few)} of the {len(pairs)} test pairs, ours on all {len(pairs)}"
    rows = [
        row("scoring, cross-encoder", "pairs/s",
            stats(rates(lambda ps: [classify({"text": a, "text_pair": b}) for a, b in ps], few, device, reps)),
            stats(rates(lambda ps: score_pairs(cross, tok, ps, batch_size=64), pairs, device, reps)), 5.0,
            note=f"seed: pipeline('text-classification') per pair; ours: score_pairs, batches of 64; {sample}"),
        row("scoring, bi-encoder", "pairs/s",
            stats(rates(lambda ps: [similarity(pair) for pair in ps], few, device, reps)),
            stats(rates(lambda ps: pair_cosines(bi, tok, {"sentence1": [a for a, _ in ps],
                                                         "sentence2": [b for _, b in ps]}), pairs, device, reps)),
            5.0, note=f"seed: pipeline('sentence-similarity') per pair; ours: BiEncoder.encode (batches of 64, "
                      f"length-sorted) of each side, then the cosine; {sample}"),
    ]
    for r in rows:
        print(f"  {r['name']}: {r['speedup']:.1f}x", flush=True)
    return {"rows": rows, "notes": [diagnosis(cross, tok, pairs, few, rows[0], device, reps)]}


def diagnosis(cross, tok, pairs, few, cross_row: dict, device, reps: int) -> str:
    """Why batching gains what it gains here: the pipeline's own overhead against the bare model at batch 1, and
    the arithmetic rate (2 x non-embedding parameters x tokens per pair) of batch 1 and of batches of 64 against
    the device's fp32 matrix-product ceiling."""
    def bare_forward(ps):
        with torch.inference_mode():
            for a, b in ps:
                cross(**tok(a, b, return_tensors="pt").to(device))

    bare = stats(rates(bare_forward, few, device, reps))["median"]
    tokens = statistics.mean(len(tok(a, b, truncation=True, max_length=MAX_LENGTH)["input_ids"]) for a, b in pairs)
    weights = sum(p.numel() for name, p in cross.named_parameters() if "embeddings" not in name)
    gflop = 2 * weights * tokens / 1e9
    ceiling = matmul_gflops(device, reps)
    tutorial, ours = cross_row["seed"]["median"], cross_row["ours"]["median"]
    return (f"why (cross-encoder): the bare model at batch 1, without the pipeline, scores {bare:.0f} pairs/s "
            f"against the pipeline's {tutorial:.0f}, so the pipeline's own overhead is "
            f"{max(0.0, 1 - tutorial / bare):.0%} of a pair's time. A pair has {tokens:.0f} tokens on average, "
            f"about {gflop:.2f} GFLOP through {weights / 1e6:.1f}M non-embedding weights: batch 1 runs at about "
            f"{bare * gflop:.0f} GFLOP/s and batches of 64 at about {ours * gflop:.0f} GFLOP/s, against "
            f"{ceiling:.0f} GFLOP/s for a 2048 x 2048 fp32 matrix product on this device "
            f"({ours * gflop / ceiling:.0%} of it)")
