"""Speed benchmark: the seed's code path against ours, on the same model (m3e-small) and the same data.

Run with ``make bench`` (or ``python benchmarks/bench.py --size tiny --out /tmp/bench``); writes
``bench.json`` and ``bench.md`` in ``--out``. See benchmarks/README.md for what each section measures.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (AutoTokenizer, BertForSequenceClassification, DataCollatorWithPadding,  # noqa: E402
                          Trainer, TrainingArguments, default_data_collator, pipeline)
from transformers.trainer_pt_utils import LengthGroupedSampler  # noqa: E402

import textsim  # noqa: E402
import textsim.pipelines  # noqa: E402,F401  (registers pipeline("sentence-similarity"))
from textsim.biencoder import BiEncoder, PairCollator, pair_cosines, tokenize_sides  # noqa: E402
from textsim.inference import score_pairs  # noqa: E402
from textsim.results import library_versions  # noqa: E402

SEED = 42
LOAD_AT_START = os.getloadavg() if hasattr(os, "getloadavg") else None  # other work on the machine skews timings
MAX_LENGTH = 128
SIZES = {  # tiny: a smoke run for the tests (well under a minute); full: `make bench` (minutes on 2 CPU cores)
    "tiny": dict(train_rows=100, batch=2, batches=2, reps=1, pairs=8, seed_pairs=4,
                 corpus=100, corpus_sample=16, candidates=16, queries=2),
    "full": dict(train_rows=8000, batch=32, batches=6, reps=3, pairs=1000, seed_pairs=50,
                 corpus=None, corpus_sample=1000, candidates=500, queries=20),
}  # seed_pairs: the one-pair-at-a-time loops run at a steady rate per pair, so a sample of the pairs is enough


# ---------------------------------------------------------------- 0. helpers: timing, statistics, setup
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


def row(name: str, unit: str, seed: dict, ours: dict, target: float, higher_is_better: bool = True,
        note: str = "") -> dict:
    """One line of a table; ``speedup`` is always how many times faster ours is than the seed's."""
    speedup = ours["median"] / seed["median"] if higher_is_better else seed["median"] / ours["median"]
    return {"name": name, "unit": unit, "seed": seed, "ours": ours, "speedup": speedup,
            "target": target, "met": bool(speedup >= target), "note": note}


def load_cross(path: str, device: torch.device):
    torch.manual_seed(SEED)  # the same classifier head for the seed's run and ours
    return BertForSequenceClassification.from_pretrained(path, num_labels=2).to(device)


def load_bi(path: str, device: torch.device, pooling: str = "pooler"):
    torch.manual_seed(SEED)
    return BiEncoder.from_pretrained(path, pooling=pooling, loss="cosine_embedding").to(device)


# ---------------------------------------------------------------- 1. training throughput (data path only differs)
def epoch_batches(order: list[int], batch: int) -> list[list[int]]:
    """One epoch in this order, cut into full batches."""
    return [order[start:start + batch] for start in range(0, len(order) - batch + 1, batch)]


def seed_order(count: int) -> list[int]:
    """The seed: random batches (every row already padded to 128 tokens)."""
    return torch.randperm(count, generator=torch.Generator().manual_seed(SEED)).tolist()


def our_order(lengths: list[int], batch: int) -> list[int]:
    """Ours: batches of similar length (LengthGroupedSampler), each padded only to its own longest."""
    return list(LengthGroupedSampler(batch, lengths=lengths, generator=torch.Generator().manual_seed(SEED)))


def padded_tokens(indices: list[int], sides: list[list[int]]) -> int:
    """Tokens of one batch padded to its longest row, side by side (a bi-encoder pads each sentence apart)."""
    return len(indices) * sum(max(side[i] for i in indices) for side in sides)


def stratified_sample(batches: list[list[int]], sides: list[list[int]], count: int) -> list[list[int]]:
    """``count`` batches of the epoch, one from the middle of each of ``count`` equal slices of the epoch ranked by
    padded size: a small sample whose padding spreads like the whole epoch's."""
    ranked = sorted(batches, key=lambda indices: padded_tokens(indices, sides))
    return [ranked[int((k + 0.5) * len(ranked) / count)] for k in range(count)]


def tokens_per_pair(batches: list[list[int]], sides: list[list[int]]) -> float:
    return sum(padded_tokens(b, sides) for b in batches) / sum(map(len, batches))


def trainer_optimizer(model):
    """The optimizer that ``Trainer`` builds by default (fused AdamW in transformers 5), for the seed and for us."""
    args = TrainingArguments(output_dir="build/bench", learning_rate=2e-5, report_to=[])  # nothing is saved
    optimizer_class, kwargs = Trainer.get_optimizer_cls_and_kwargs(args, model)
    return optimizer_class(model.parameters(), weight_decay=0.01, **kwargs)


def train_rates(model, features: list[dict], sample: list[list[int]], collate, device: torch.device,
                reps: int) -> dict:
    """Pairs/second of a plain training loop over the same ``sample`` of batches, ``reps`` times after one warm-up
    step, collation included; also the share of the time spent in the optimizer step (the same on every path)."""
    optimizer = trainer_optimizer(model)
    model.train()

    def step(indices: list[int]) -> float:
        inputs = {key: value.to(device) for key, value in collate([features[i] for i in indices]).items()}
        model(**inputs).loss.backward()
        optimizer_seconds = timed(optimizer.step, device)
        optimizer.zero_grad()
        return optimizer_seconds

    step(sample[0])
    rates, in_optimizer, in_all = [], 0.0, 0.0
    for _ in range(reps):
        spent = []
        seconds = timed(lambda: spent.extend(step(indices) for indices in sample), device)
        rates.append(sum(map(len, sample)) / seconds)
        in_optimizer, in_all = in_optimizer + sum(spent), in_all + seconds
    return {"rates": rates, "optimizer_share": in_optimizer / in_all}


def cross_features(train, tok, padded: bool) -> list[dict]:
    padding = {"padding": "max_length"} if padded else {}
    train = train.to_dict()  # plain lists
    encoded = tok(train["sentence1"], train["sentence2"], truncation=True, max_length=MAX_LENGTH, **padding)
    return [{**{key: encoded[key][i] for key in encoded}, "labels": label} for i, label in enumerate(train["label"])]


def bi_features_padded(train, tok) -> list[dict]:
    train = train.to_dict()
    features = [{"labels": float(label)} for label in train["label"]]
    for side in ("1", "2"):
        encoded = tok(train[f"sentence{side}"], truncation=True, max_length=MAX_LENGTH, padding="max_length",
                      return_token_type_ids=False)
        for i, feature in enumerate(features):
            feature.update({f"{key}_{side}": encoded[key][i] for key in encoded})
    return features


def section_training(path, tok, train, device, size) -> list[dict]:
    batch = size["batch"]
    train = train.select(range(min(len(train), size["train_rows"])))  # tokenized up front, not timed
    sides = tokenize_sides(train, tok, MAX_LENGTH)
    keep = [c for c in sides.column_names if c.endswith(("_1", "_2"))] + ["label"]
    ours_cross, ours_bi = cross_features(train, tok, padded=False), sides.select_columns(keep).to_list()
    seed_cross, seed_bi = cross_features(train, tok, padded=True), bi_features_padded(train, tok)
    cross_lengths = [len(f["input_ids"]) for f in ours_cross]
    runs = {  # name: the model, then (features, each side's lengths, batch order, collator) for the seed and us
        "cross-encoder": (load_cross,
                          (seed_cross, [[len(f["input_ids"]) for f in seed_cross]], seed_order(len(seed_cross)),
                           default_data_collator),
                          (ours_cross, [cross_lengths], our_order(cross_lengths, batch),
                           DataCollatorWithPadding(tok))),
        "bi-encoder": (load_bi,
                       (seed_bi, [[len(f[f"input_ids_{n}"]) for f in seed_bi] for n in (1, 2)],
                        seed_order(len(seed_bi)), default_data_collator),
                       (ours_bi, [[len(f[f"input_ids_{n}"]) for f in ours_bi] for n in (1, 2)],
                        our_order(list(sides["length"]), batch), PairCollator(tok))),
    }
    rows = []
    for name, (load, *paths) in runs.items():
        measured = []
        for features, side_lengths, order, collate in paths:
            batches = epoch_batches(order, batch)
            sample = stratified_sample(batches, side_lengths, size["batches"])
            result = train_rates(load(path, device), features, sample, collate, device, size["reps"])
            result.update(epoch_tokens=tokens_per_pair(batches, side_lengths),
                          sample_tokens=tokens_per_pair(sample, side_lengths))
            measured.append(result)
        seed, ours = measured
        rows.append(row(f"training, {name}", "pairs/s", stats(seed["rates"]), stats(ours["rates"]), 2.0,
                        note=f"fused AdamW (the Trainer default), batch {batch}; each run trains on the same "
                             f"{size['batches']} batches, one from each slice of the epoch ranked by padding, after "
                             f"one warm-up step. Padded tokens per pair over the whole epoch: seed "
                             f"{seed['epoch_tokens']:.0f}, ours {ours['epoch_tokens']:.1f} "
                             f"({seed['epoch_tokens'] / ours['epoch_tokens']:.2f}x fewer); in the timed sample: "
                             f"{seed['sample_tokens']:.0f} and {ours['sample_tokens']:.1f} "
                             f"({seed['sample_tokens'] / ours['sample_tokens']:.2f}x). The optimizer step takes "
                             f"{seed['optimizer_share']:.0%} of the seed's time and {ours['optimizer_share']:.0%} "
                             f"of ours"))
        for key in ("epoch_tokens", "sample_tokens", "optimizer_share"):
            rows[-1][key] = {"seed": seed[key], "ours": ours[key]}
        print(f"  {rows[-1]['name']}: {rows[-1]['speedup']:.2f}x", flush=True)
    return rows


# ---------------------------------------------------------------- 2. pair scoring throughput
def rates(fn, items: list, device, reps: int) -> list[float]:
    """Items/second of ``fn(items)``, ``reps`` times, after a warm-up call on a few items."""
    fn(items[:4])
    return [len(items) / timed(lambda: fn(items), device) for _ in range(reps)]


def section_scoring(path, tok, test, device, size) -> tuple[list[dict], list[str]]:
    pairs = list(zip(list(test["sentence1"]), list(test["sentence2"])))[:size["pairs"]]
    few = pairs[:size["seed_pairs"]]
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
    return rows, [scoring_diagnosis(cross, tok, pairs, few, rows[0], device, reps)]


def matmul_gflops(device, reps: int, n: int = 2048) -> float:
    """The practical fp32 ceiling of ``device``: GFLOP/s of a large matrix product (median of ``reps``)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    torch.mm(a, b)
    return statistics.median(2 * n ** 3 / 1e9 / timed(lambda: torch.mm(a, b), device) for _ in range(reps))


def scoring_diagnosis(cross, tok, pairs, few, cross_row: dict, device, reps: int) -> str:
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
    seed, ours = cross_row["seed"]["median"], cross_row["ours"]["median"]
    return (f"why (cross-encoder): the bare model at batch 1, without the pipeline, scores {bare:.0f} pairs/s "
            f"against the pipeline's {seed:.0f}, so the pipeline's own overhead is {max(0.0, 1 - seed / bare):.0%} "
            f"of a pair's time. A pair has {tokens:.0f} tokens on average, about {gflop:.2f} GFLOP through "
            f"{weights / 1e6:.1f}M non-embedding weights: batch 1 runs at about {bare * gflop:.0f} GFLOP/s and "
            f"batches of 64 at about {ours * gflop:.0f} GFLOP/s, against {ceiling:.0f} GFLOP/s for a "
            f"2048 x 2048 fp32 matrix product on this device ({ours * gflop / ceiling:.0%} of it)")


# ---------------------------------------------------------------- 3. ranking: top 10 among the whole corpus
def section_ranking(path, tok, corpus, queries, device, size) -> tuple[list[dict], dict]:
    import faiss

    rng = np.random.default_rng(SEED)
    cross = load_cross(path, device).eval()
    sample_size = min(size["candidates"], len(corpus))
    scale = len(corpus) / sample_size  # cross-encoder cost grows linearly with the candidates

    def cross_query(query: str) -> float:
        sample = [corpus[i] for i in rng.choice(len(corpus), sample_size, replace=False)]
        return 1000 * scale * timed(lambda: score_pairs(cross, tok, [(query, c) for c in sample], 64), device)

    score_pairs(cross, tok, [(queries[0], c) for c in corpus[:16]], 64)  # warm-up
    seed = stats([cross_query(q) for q in queries[1:size["reps"] + 1]])

    bi = load_bi(path, device, pooling="mean")
    encoded = min(size["corpus_sample"], len(corpus))
    sample = [corpus[i] for i in rng.choice(len(corpus), encoded, replace=False)]
    vectors = []
    encode_seconds = timed(lambda: vectors.append(bi.encode(sample, tok, batch_size=64)), device)
    encode_seconds *= len(corpus) / encoded  # encoding cost grows linearly with the corpus
    # search cost depends on the index size, not on the values: the sample's vectors, repeated to the corpus size
    index = faiss.IndexFlatIP(vectors[0].shape[1])
    index.add(np.resize(vectors[0], (len(corpus), vectors[0].shape[1])))  # unit vectors: inner product = cosine

    def bi_query(query: str) -> float:
        return 1000 * timed(lambda: index.search(bi.encode([query], tok), 10), device)

    bi_query(queries[0])  # warm-up
    ours = stats([bi_query(q) for q in queries])
    note = (f"cross-encoder: score_pairs over {sample_size} random candidates, extrapolated linearly "
            f"to {len(corpus)} (x{scale:.1f}); bi-encoder: encode the query + faiss IndexFlatIP.search, "
            f"corpus vectors computed ahead (pooling=mean), index of {len(corpus)} vectors")
    ranking = row("ranking, ms per query (top 10)", "ms/query", seed, ours, 1000.0, higher_is_better=False,
                  note=note)
    print(f"  {ranking['name']}: {ranking['speedup']:.0f}x", flush=True)
    one_off = {"corpus_sentences": len(corpus), "encoded_sample": encoded, "encode_seconds": encode_seconds,
               "sentences_per_second": len(corpus) / encode_seconds}
    return [ranking], one_off


# ---------------------------------------------------------------- 4. GPU only: precision and torch.compile
def section_gpu(path, tok, test, device, size) -> tuple[list[dict], str]:
    if device.type != "cuda":
        return [], "skipped: no GPU (torch.cuda.is_available() is False or --device cpu)"
    pairs = list(zip(list(test["sentence1"]), list(test["sentence2"])))[:size["pairs"]]
    cross, reps = load_cross(path, device).eval(), size["reps"]
    with mock.patch("textsim.inference.autocast_dtype", return_value=None):  # score_pairs in full precision
        fp32 = stats(rates(lambda ps: score_pairs(cross, tok, ps, 64), pairs, device, reps))
    mixed = stats(rates(lambda ps: score_pairs(cross, tok, ps, 64), pairs, device, reps))
    dtype = textsim.device.autocast_dtype(device)
    rows = [row(f"scoring, fp32 vs {str(dtype).split('.')[-1]} autocast", "pairs/s", fp32, mixed, 1.0,
                note="score_pairs, batches of 64; 'seed' column = fp32")]
    note = "ran on " + torch.cuda.get_device_name(device)
    try:
        compiled = torch.compile(cross, dynamic=True)
        compile_seconds = timed(lambda: score_pairs(compiled, tok, pairs, 64), device)
        rows.append(row("scoring, autocast + torch.compile", "pairs/s", mixed,
                        stats(rates(lambda ps: score_pairs(compiled, tok, ps, 64), pairs, device, reps)), 1.0,
                        note=f"'seed' column = autocast without compile; first call (compiling) "
                             f"{compile_seconds:.1f} s"))
    except Exception as error:  # compile support varies with the platform: record it, don't fail the benchmark
        note += f"; torch.compile failed: {type(error).__name__}: {str(error)[:200]}"
    return rows, note


# ---------------------------------------------------------------- 5. what the `paper` profile would cost here
def section_paper_estimate(tok, train, device, size) -> tuple[list[dict], list[str]]:
    """Training pairs/s of a randomly initialised model of MacBERT-base's size (the Hub is out of reach), on our
    data path; from it, the hours that `TEXTSIM_PROFILE=paper make run` would train for on this machine."""
    from transformers import BertConfig

    from textsim.config import PROFILES

    paper = PROFILES["paper"]
    train = train.select(range(min(len(train), size["train_rows"])))
    features = cross_features(train, tok, padded=False)
    lengths = [len(f["input_ids"]) for f in features]
    sample = stratified_sample(epoch_batches(our_order(lengths, size["batch"]), size["batch"]), [lengths],
                               size["batches"])
    torch.manual_seed(SEED)
    model = BertForSequenceClassification(BertConfig(vocab_size=tok.vocab_size, num_labels=2)).to(device)
    rate = stats(train_rates(model, features, sample, DataCollatorWithPadding(tok), device, size["reps"])["rates"])
    pairs = 8000 * (2 * paper.cross_epochs + paper.seed_bi_epochs + paper.better_bi_epochs)
    hours = pairs / rate["median"] / 3600
    note = (f"{model.num_parameters() / 1e6:.0f}M parameters (BERT-base, MacBERT's size), random weights, "
            f"batch {size['batch']}, length-grouped; `paper` trains {pairs:,.0f} pairs in all "
            f"(8,000 x {2 * paper.cross_epochs:g} cross-encoder epochs + {paper.seed_bi_epochs + paper.better_bi_epochs:g}"
            f" bi-encoder epochs, bi-encoder steps taken as costly as cross-encoder ones): about {hours:.1f} h of "
            f"training on this device at {rate['median']:.2f} pairs/s, evaluation not counted")
    print(f"  paper profile: {rate['median']:.2f} pairs/s -> about {hours:.1f} h", flush=True)
    return [{"name": "training, BERT-base size", "unit": "pairs/s", "rate": rate, "hours": hours}], [note]


# ---------------------------------------------------------------- 6. the machine and the report
def machine(device: torch.device) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "device": str(device),
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            "load_average_at_start": LOAD_AT_START, "platform": platform.platform(), "versions": library_versions()}


def fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [f"# Speed benchmark: the seed's code path against ours ({report['size']} run)", "",
             f"Model `{report['model']}`, finished {report['finished_at']}, took {report['seconds']:.0f} s. "
             "Each figure: median of the repetitions after a warm-up, spread = min–max. "
             "Speed-up = how many times faster ours is (ours/seed throughput, or seed/ours time).", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['torch_threads']} torch threads, "
             f"GPU: {m['gpu'] or 'none'}; device `{m['device']}`; load average at start "
             f"{', '.join(f'{x:.1f}' for x in m['load_average_at_start'] or [])}.", "",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()), ""]
    if report["size"] == "tiny":
        lines += ["**Tiny run: a smoke test of the script; its figures say nothing about speed.**", ""]
    for title, section in report["sections"].items():
        lines += [f"## {title}", ""]
        if section["rows"]:
            lines += ["| measure | unit | seed median (min–max) | ours median (min–max) | speed-up | target | met |",
                      "|---|---|---|---|---|---|---|"]
            for r in section["rows"]:
                s, o = r["seed"], r["ours"]
                lines.append(f"| {r['name']} | {r['unit']} | {fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])}) "
                             f"| {fmt(o['median'])} ({fmt(o['min'])}–{fmt(o['max'])}) | {r['speedup']:,.1f}× "
                             f"| ≥ {r['target']:g}× | {'yes' if r['met'] else 'NO'} |")
            lines.append("")
            lines += [f"- {r['name']}: {r['note']}" for r in section["rows"] if r["note"]]
        lines += [f"- {note}" for note in section.get("notes", [])] + [""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: the GPU if any)")
    args = parser.parse_args()
    started = time.perf_counter()
    textsim.quiet_logs()
    transformers.utils.logging.disable_progress_bar()
    size, device = SIZES[args.size], torch.device(args.device) if args.device else textsim.pick_device()
    path = textsim.resolve_model("m3e-small")
    tok = AutoTokenizer.from_pretrained(path)
    splits = textsim.load_splits(textsim.load_profile("local"))
    rows = textsim.read_pairs(textsim.ensure_data())
    corpus = list(dict.fromkeys(s for r in rows for s in (r["sentence1"], r["sentence2"])))[:size["corpus"]]
    queries = list(splits["test"]["sentence1"])[:max(size["queries"], size["reps"] + 1)]

    sections = {}
    print(f"1. training throughput (at {time.perf_counter() - started:.0f} s)", flush=True)
    sections["1. Training throughput"] = {"rows": section_training(path, tok, splits["train"], device, size)}
    print(f"2. pair scoring throughput (at {time.perf_counter() - started:.0f} s)", flush=True)
    scoring, scoring_notes = section_scoring(path, tok, splits["test"], device, size)
    sections["2. Pair scoring throughput"] = {"rows": scoring, "notes": scoring_notes}
    print(f"3. ranking (at {time.perf_counter() - started:.0f} s)", flush=True)
    ranking, one_off = section_ranking(path, tok, corpus, queries, device, size)
    sections["3. Ranking (top 10 of the corpus)"] = {
        "rows": ranking, "corpus_encoding": one_off,
        "notes": [f"one-off corpus encoding (bi-encoder, pooling=mean): {one_off['corpus_sentences']} sentences "
                  f"in {one_off['encode_seconds']:.1f} s ({one_off['sentences_per_second']:.0f} sentences/s), "
                  f"extrapolated from encoding {one_off['encoded_sample']} random ones"]}
    print(f"4. GPU: precision and torch.compile (at {time.perf_counter() - started:.0f} s)", flush=True)
    gpu_rows, gpu_note = section_gpu(path, tok, splits["test"], device, size)
    sections["4. GPU: fp32 vs mixed precision, torch.compile"] = {"rows": gpu_rows, "notes": [gpu_note]}

    print(f"5. paper profile estimate (at {time.perf_counter() - started:.0f} s)", flush=True)
    paper_rows, paper_notes = section_paper_estimate(tok, splits["train"], device, size)
    sections["5. What the paper profile (MacBERT-base) would cost here"] = {"rows": [], "estimate": paper_rows,
                                                                            "notes": paper_notes}

    report = {"size": args.size, "model": "m3e-small", "settings": size, "machine": machine(device),
              "sections": sections, "seconds": time.perf_counter() - started,
              "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (args.out / "bench.md").write_text(markdown(report), encoding="utf-8")
    print(f"wrote {args.out / 'bench.md'} and bench.json in {report['seconds']:.0f} s")


if __name__ == "__main__":
    main()
