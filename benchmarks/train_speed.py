"""Section 1, training throughput: the same plain training loop and optimizer on both paths, so that only the
data path differs (the tutorial's padding and random batches against dynamic padding and length grouping)."""
from __future__ import annotations

import torch
from transformers import DataCollatorWithPadding, Trainer, TrainingArguments, default_data_collator
from transformers.trainer_pt_utils import LengthGroupedSampler

from textsim.biencoder import PairCollator, tokenize_sides

from .timing import SEED, row, stats, timed
from .tutorial import MAX_LENGTH, cross_features, load_bi, load_cross, padded_bi_features, random_order


def epoch_batches(order: list[int], batch: int) -> list[list[int]]:
    """One epoch in this order, cut into full batches."""
    return [order[start:start + batch] for start in range(0, len(order) - batch + 1, batch)]


def length_grouped_order(lengths: list[int], batch: int) -> list[int]:
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
    """The optimizer that ``Trainer`` builds by default (fused AdamW in transformers 5), for both paths."""
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


def timed_sample(order: list[int], side_lengths: list[list[int]], size: dict) -> tuple[list, list]:
    """The epoch's full batches in this order, and the stratified sample of them that is timed."""
    batches = epoch_batches(order, size["batch"])
    return batches, stratified_sample(batches, side_lengths, size["batches"])


def training_row(name: str, tutorial: dict, ours: dict, size: dict) -> dict:
    """The table row, its note, and the padded tokens and optimizer share of both paths (they explain the ratio)."""
    found = row(f"training, {name}", "pairs/s", stats(tutorial["rates"]), stats(ours["rates"]), 2.0,
                note=f"fused AdamW (the Trainer default), batch {size['batch']}; each run trains on the same "
                     f"{size['batches']} batches, one from each slice of the epoch ranked by padding, after "
                     f"one warm-up step. Padded tokens per pair over the whole epoch: seed "
                     f"{tutorial['epoch_tokens']:.0f}, ours {ours['epoch_tokens']:.1f} "
                     f"({tutorial['epoch_tokens'] / ours['epoch_tokens']:.2f}x fewer); in the timed sample: "
                     f"{tutorial['sample_tokens']:.0f} and {ours['sample_tokens']:.1f} "
                     f"({tutorial['sample_tokens'] / ours['sample_tokens']:.2f}x). The optimizer step takes "
                     f"{tutorial['optimizer_share']:.0%} of the seed's time and {ours['optimizer_share']:.0%} "
                     f"of ours")
    for key in ("epoch_tokens", "sample_tokens", "optimizer_share"):
        found[key] = {"seed": tutorial[key], "ours": ours[key]}
    return found


def measure(path, tok, train, device, size) -> dict:
    batch = size["batch"]
    train = train.select(range(min(len(train), size["train_rows"])))  # tokenized up front, not timed
    sides = tokenize_sides(train, tok, MAX_LENGTH)
    keep = [c for c in sides.column_names if c.endswith(("_1", "_2"))] + ["label"]
    ours_cross, ours_bi = cross_features(train, tok, padded=False), sides.select_columns(keep).to_list()
    tutorial_cross, tutorial_bi = cross_features(train, tok, padded=True), padded_bi_features(train, tok)
    cross_lengths = [len(f["input_ids"]) for f in ours_cross]
    runs = {  # name: the model, then (features, each side's lengths, batch order, collator) for the tutorial, ours
        "cross-encoder": (load_cross,
                          (tutorial_cross, [[len(f["input_ids"]) for f in tutorial_cross]],
                           random_order(len(tutorial_cross)), default_data_collator),
                          (ours_cross, [cross_lengths], length_grouped_order(cross_lengths, batch),
                           DataCollatorWithPadding(tok))),
        "bi-encoder": (load_bi,
                       (tutorial_bi, [[len(f[f"input_ids_{n}"]) for f in tutorial_bi] for n in (1, 2)],
                        random_order(len(tutorial_bi)), default_data_collator),
                       (ours_bi, [[len(f[f"input_ids_{n}"]) for f in ours_bi] for n in (1, 2)],
                        length_grouped_order(list(sides["length"]), batch),  # by the longer side
                        PairCollator(tok))),
    }
    rows = []
    for name, (load, *paths) in runs.items():
        measured = []
        for features, side_lengths, order, collate in paths:
            batches, sample = timed_sample(order, side_lengths, size)
            result = train_rates(load(path, device), features, sample, collate, device, size["reps"])
            result.update(epoch_tokens=tokens_per_pair(batches, side_lengths),
                          sample_tokens=tokens_per_pair(sample, side_lengths))
            measured.append(result)
        tutorial, ours = measured
        rows.append(training_row(name, tutorial, ours, size))
        print(f"  {rows[-1]['name']}: {rows[-1]['speedup']:.2f}x", flush=True)
    return {"rows": rows}
