"""How much padding a batching order computes: tokens per real token, for random and for length-grouped batches.

Taught in notebook 01 (section 2), where it measures what ``group_by_length`` saves; notebook 03 measures the
bi-encoder's pairs with it.
"""
from __future__ import annotations

import numpy as np


def padding_cost(lengths, batch_size: int, seed: int = 0, group_by=None) -> dict[str, float]:
    """Tokens the model computes per real token, for random batches and for length-grouped batches.

    Dynamic padding pads each batch to its own longest pair; whether that saves anything depends on the order.
    ``lengths``: one per pair (a cross-encoder), or one per side, shape ``(pairs, 2)`` (a bi-encoder, whose collator
    pads each side to its own longest). ``group_by``: the length the sampler sorts by, one per pair; by default the
    pair's length, or its longer side (``tokenize_sides``' ``length`` column).
    """
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    lengths = side_lengths(lengths)
    group_by = lengths.max(axis=1) if group_by is None else np.asarray(group_by)
    if group_by.shape != (len(lengths),):
        raise ValueError(f"group_by needs one length per pair ({len(lengths)}), got shape {group_by.shape}")
    generator = torch.Generator().manual_seed(seed)
    orders = {
        "random": torch.randperm(len(lengths), generator=generator).numpy(),
        "grouped": np.fromiter(LengthGroupedSampler(batch_size, lengths=group_by.tolist(), generator=generator),
                               dtype=int),
    }
    real = lengths.sum()
    cost = {"real_tokens_mean": float(real / len(lengths)), "fixed_128": float(128 * lengths.size / real)}
    for name, order in orders.items():
        widths = batch_widths(lengths, order, batch_size)
        pairs = np.minimum(batch_size, len(order) - np.arange(0, len(order), batch_size))
        cost[f"{name}_batch_max_mean"] = float(widths.mean())
        cost[name] = float((widths * pairs).sum() / real)
    return cost


def side_lengths(lengths) -> np.ndarray:
    """Token counts as a ``(pairs, sides)`` array of positive integers, or a ``ValueError`` saying what is wrong."""
    lengths = np.asarray(lengths)
    lengths = lengths.reshape(-1, 1) if lengths.ndim == 1 else lengths
    if lengths.ndim != 2 or len(lengths) == 0 or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be token counts, one per pair or (pairs, sides), got shape {lengths.shape} "
                         f"of {lengths.dtype}")
    if lengths.min() < 1:
        raise ValueError(f"lengths must be positive, pair {int(lengths.min(axis=1).argmin())} has {lengths.min()}")
    return lengths


def batch_widths(lengths: np.ndarray, order, batch_size: int) -> np.ndarray:
    """Padded tokens per pair of each batch of ``order``: each side padded to the batch's longest, summed."""
    return np.array([lengths[order[start:start + batch_size]].max(axis=0).sum()
                     for start in range(0, len(order), batch_size)])
