"""Fast batched inference: sort by length, pad each batch only to its own longest, no autograd.

Taught in notebook 02 (``score_pairs`` / ``predict_pairs``); used by notebooks 03 and 04 and the benchmark.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from transformers import DataCollatorWithPadding

from .data import LABEL_NAMES
from .device import autocast_dtype


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Indices in batches of similar length (longest first), so little padding is computed."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def autocast(device: torch.device):
    """bf16/fp16 autocast on CUDA, nothing on the CPU."""
    dtype = autocast_dtype(device)
    return torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()


def check_pairs(pairs, where: str = "pairs") -> list[tuple[str, str]]:
    """``[(s1, s2), ...]`` of non-empty strings, or a ``ValueError`` naming the bad item."""
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise ValueError(f"{where} must be a list of (sentence1, sentence2) pairs, got {type(pairs).__name__}")
    checked = []
    for index, pair in enumerate(pairs):
        if isinstance(pair, dict):
            pair = (pair.get("text"), pair.get("text_pair"))
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"{where}[{index}] must be a pair of two sentences, got {pair!r}")
        for side, sentence in enumerate(pair, start=1):
            if not isinstance(sentence, str) or not sentence.strip():
                raise ValueError(f"{where}[{index}] sentence {side} must be a non-empty string, got {sentence!r}")
        checked.append((pair[0], pair[1]))
    return checked


@torch.inference_mode()
def score_pairs(model, tokenizer, pairs, batch_size: int = 64, max_length: int = 128) -> np.ndarray:
    """One similarity score per pair from a cross-encoder: P(相似) for 2 labels, the raw output for 1."""
    pairs = check_pairs(pairs)
    if not pairs:
        return np.empty(0, dtype=np.float32)
    max_length = min(max_length, model.config.max_position_embeddings)
    model.eval()
    device = model.device
    encoded = tokenizer([a for a, _ in pairs], [b for _, b in pairs], truncation=True, max_length=max_length)
    features = [{key: encoded[key][i] for key in encoded} for i in range(len(pairs))]
    collate = DataCollatorWithPadding(tokenizer)
    scores = np.empty(len(pairs), dtype=np.float32)
    for batch in length_sorted_batches([len(f["input_ids"]) for f in features], batch_size):
        inputs = collate([features[i] for i in batch]).to(device)
        with autocast(device):
            logits = model(**inputs).logits.float()
        batch_scores = logits.softmax(-1)[:, 1] if logits.shape[-1] == 2 else logits[:, 0]
        scores[batch] = batch_scores.cpu().numpy()
    return scores


def predict_pairs(model, tokenizer, pairs, threshold: float, **kwargs) -> list[dict]:
    """Score and label for each pair in one call: ``{"score": 0.93, "label": "相似"}``."""
    scores = score_pairs(model, tokenizer, pairs, **kwargs)
    return [{"score": float(s), "label": LABEL_NAMES[int(s >= threshold)]} for s in scores]
