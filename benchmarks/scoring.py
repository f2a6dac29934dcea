"""Section 2, pair scoring throughput: the tutorial's pipeline called once per pair, and its batched Trainer path,
against our batched scoring (in the default precision and in fp32), with batch-1 latency and why batching gains
what it gains on this device."""
from __future__ import annotations

import statistics

import numpy as np
import torch
from datasets import Dataset
from transformers import Trainer, TrainingArguments, pipeline

from textsim.device import BF16_MIN_ROWS, autocast_dtype
from textsim.inference import score_pairs
from textsim.pipelines import register_pipeline

from .timing import SEED, interleaved_rates, latency_ms, matmul_gflops, rates, row, stats
from .tutorial import MAX_LENGTH, cross_features, load_bi, load_cross, padded_bi_features


def pairs_of(test, count: int) -> list[tuple[str, str]]:
    """The first ``count`` (sentence1, sentence2) pairs of the test split."""
    return list(zip(list(test["sentence1"]), list(test["sentence2"])))[:count]


def random_sample(pairs: list, count: int, seed: int = SEED) -> list:
    """``count`` pairs drawn at random (seeded), in test order: a sample as long on average as all the pairs."""
    return [pairs[i] for i in sorted(np.random.default_rng(seed).choice(len(pairs), count, replace=False))]


def mean_tokens(tok, pairs) -> float:
    return statistics.mean(len(tok(a, b, truncation=True, max_length=MAX_LENGTH)["input_ids"]) for a, b in pairs)


def trainer_predict(model, features: list[dict]):
    """The seed notebook's batched path: ``Trainer.predict`` over rows padded to 128 tokens, batches of 32."""
    args = TrainingArguments(output_dir="build/bench", per_device_eval_batch_size=32, report_to=[],
                             disable_tqdm=True)
    dataset, trainer = Dataset.from_list(features), Trainer(model=model, args=args)
    return lambda _: trainer.predict(dataset)


def as_rows(pairs) -> list[dict]:
    return [{"sentence1": a, "sentence2": b, "label": 0} for a, b in pairs]


def measure(path, tok, test, device, size) -> dict:
    register_pipeline()  # pipeline("sentence-similarity")
    pairs = pairs_of(test, size["pairs"])
    few = random_sample(pairs, size["seed_pairs"])  # the tutorial's per-pair loops run on these
    padded = random_sample(pairs, size["seed_batched_pairs"], SEED + 1)  # its Trainer path: cost per pair is fixed
    padded_dataset = Dataset.from_list(as_rows(padded))
    cross, bi = load_cross(path, device).eval(), load_bi(path, device).eval()
    classify = pipeline("text-classification", model=cross, tokenizer=tok, device=device)
    similarity = pipeline("sentence-similarity", model=bi, tokenizer=tok, device=device)
    mixed = autocast_dtype(device, "auto") is not None  # "auto" differs from fp32 here: time both
    precisions = ["auto", "fp32"] if mixed else ["auto"]
    cosines = {p: (lambda ps, p=p: pair_cosines_in(bi, tok, ps, p)) for p in precisions}
    runs = {
        "cross seed": (lambda ps: [classify({"text": a, "text_pair": b}) for a, b in ps], few),
        "cross seed batched": (trainer_predict(cross, cross_features(padded_dataset, tok, padded=True)), padded),
        **{f"cross {p}": (lambda ps, p=p: score_pairs(cross, tok, ps, 64, precision=p), pairs) for p in precisions},
        "bi seed": (lambda ps: [similarity(pair) for pair in ps], few),
        "bi seed batched": (trainer_predict(bi, padded_bi_features(padded_dataset, tok)), padded),
        **{f"bi {p}": (cosines[p], pairs) for p in precisions},
    }
    found = {name: stats(values) for name, values in interleaved_rates(runs, device, size["reps"]).items()}
    auto = str(autocast_dtype(device, "auto")).split(".")[-1] + " autocast" if mixed else "fp32"
    tokens = {"seed_sample": mean_tokens(tok, few), "all": mean_tokens(tok, pairs)}
    sample = (f"seed timed on {len(few)} random test pairs ({tokens['seed_sample']:.1f} tokens per pair on average, "
              f"all {len(pairs)}: {tokens['all']:.1f}), ours on all {len(pairs)}")
    rows = []
    for short, name, seed_way, ours_way in (
            ("cross", "cross-encoder", "pipeline('text-classification') per pair", "score_pairs, batches of 64"),
            ("bi", "bi-encoder", "pipeline('sentence-similarity') per pair",
             "BiEncoder.encode (batches of 64, length-sorted) of each side, then the cosine")):
        rows.append(row(f"scoring, {name}", "pairs/s", found[f"{short} seed"], found[f"{short} auto"], 5.0,
                        note=f"seed: {seed_way}; ours: {ours_way}, precision='auto' ({auto} here); {sample}"))
        if mixed:
            rows.append(row(f"scoring, {name}, ours in fp32", "pairs/s", found[f"{short} seed"],
                            found[f"{short} fp32"], 5.0, note="as above, ours with precision='fp32'"))
        rows.append(row(f"scoring, {name}, seed's batched Trainer path", "pairs/s", found[f"{short} seed batched"],
                        found[f"{short} auto"], 1.0,
                        note=f"seed: Trainer.predict, every pair padded to {MAX_LENGTH} tokens, batches of 32, "
                             f"fp32, timed on {len(padded)} random test pairs; ours: as above ({auto})"))
    for r in rows:
        print(f"  {r['name']}: {r['speedup']:.1f}x", flush=True)
    latency = {"cross-encoder, one pair": {p: latency_ms(lambda pair, p=p: score_pairs(cross, tok, [pair], precision=p),
                                                         few, device) for p in LATENCY_PRECISIONS},
               "bi-encoder, one query": {p: latency_ms(lambda pair, p=p: encode_in(bi, tok, [pair[0]], p), few, device)
                                         for p in LATENCY_PRECISIONS}}
    crossover = batch_crossover(cross, tok, pairs, device, size["reps"])
    notes = [diagnosis(cross, tok, pairs, few, found["cross seed"], found["cross fp32" if mixed else "cross auto"],
                       device, size["reps"]), latency_note(latency, few), crossover_note(crossover)]
    return {"rows": rows, "tokens_per_pair": tokens, "latency_ms": latency, "bf16_crossover": crossover,
            "notes": notes}


LATENCY_PRECISIONS = ("fp32", "bf16", "auto")
CROSSOVER_BATCHES = (1, 2, 4, 8, 16, 64)  # where bf16 starts to pay on the CPU: textsim.device.BF16_MIN_ROWS


def batch_crossover(cross, tok, pairs, device, reps: int) -> dict:
    """Milliseconds per batch of the cross-encoder in fp32 and in bf16 for each size of ``CROSSOVER_BATCHES``
    (the same pairs, interleaved), and the bf16/fp32 speed ratio: the measurement behind ``BF16_MIN_ROWS``."""
    found = {}
    for batch in CROSSOVER_BATCHES:
        chunk = (pairs * batch)[:batch]
        runs = {p: (lambda ps, p=p: score_pairs(cross, tok, ps, batch, precision=p), chunk) for p in ("fp32", "bf16")}
        rate = {p: stats(values)["median"] for p, values in interleaved_rates(runs, device, max(reps, 3)).items()}
        found[str(batch)] = {"fp32_ms": 1000 * batch / rate["fp32"], "bf16_ms": 1000 * batch / rate["bf16"],
                             "bf16_speedup": rate["bf16"] / rate["fp32"]}
    return found


def crossover_note(crossover: dict) -> str:
    parts = [f"{batch}: {found['fp32_ms']:.1f} / {found['bf16_ms']:.1f} ms ({found['bf16_speedup']:.2f}x)"
             for batch, found in crossover.items()]
    return (f"bf16 against fp32 by batch size (cross-encoder, ms per batch fp32 / bf16, bf16's speed-up; 'auto' "
            f"takes bf16 from {BF16_MIN_ROWS} rows on a CPU with native bf16): " + "; ".join(parts))


def encode_in(bi, tok, sentences, precision: str):
    """``BiEncoder.encode`` in the given precision."""
    return bi.encode(sentences, tok, batch_size=64, max_length=MAX_LENGTH, precision=precision)


def pair_cosines_in(bi, tok, pairs, precision: str) -> np.ndarray:
    first, second = (encode_in(bi, tok, [pair[side] for pair in pairs], precision) for side in (0, 1))
    return (first * second).sum(axis=1)


def latency_note(latency: dict, few: list) -> str:
    parts = [f"{name}: " + ", ".join(f"{p} {found['median']:.1f} ms" for p, found in by_precision.items())
             for name, by_precision in latency.items()]
    return (f"batch-1 latency (median over {len(few)} pairs; 'auto' takes fp32 below {BF16_MIN_ROWS} rows): "
            + "; ".join(parts))


def diagnosis(cross, tok, pairs, few, seed_rate: dict, fp32_rate: dict, device, reps: int) -> str:
    """Why batching gains what it gains here: the pipeline's own overhead against the bare model at batch 1, and
    the arithmetic rate (2 x non-embedding parameters x tokens per pair) of batch 1 and of batches of 64 in fp32
    against the device's fp32 matrix-product ceiling."""
    def bare_forward(ps):
        with torch.inference_mode():
            for a, b in ps:
                cross(**tok(a, b, return_tensors="pt").to(device))

    bare = stats(rates(bare_forward, few, device, reps))["median"]
    tokens = mean_tokens(tok, pairs)
    weights = sum(p.numel() for name, p in cross.named_parameters() if "embeddings" not in name)
    gflop = 2 * weights * tokens / 1e9
    ceiling = matmul_gflops(device, reps)
    tutorial, ours = seed_rate["median"], fp32_rate["median"]
    return (f"why (cross-encoder): the bare model at batch 1, without the pipeline, scores {bare:.0f} pairs/s "
            f"against the pipeline's {tutorial:.0f}, so the pipeline's own overhead is "
            f"{max(0.0, 1 - tutorial / bare):.0%} of a pair's time. A pair has {tokens:.0f} tokens on average, "
            f"about {gflop:.2f} GFLOP through {weights / 1e6:.1f}M non-embedding weights: batch 1 runs at about "
            f"{bare * gflop:.0f} GFLOP/s and batches of 64 in fp32 at about {ours * gflop:.0f} GFLOP/s, against "
            f"{ceiling:.0f} GFLOP/s for a 2048 x 2048 fp32 matrix product on this device "
            f"({ours * gflop / ceiling:.0%} of it)")
