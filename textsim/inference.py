"""Fast batched inference: sort by length, pad each batch only to its own longest, no autograd.

Taught in notebook 02: its cell marked ``#@save textsim/inference.py`` shows ``length_sorted_batches``,
``autocast``, ``score_pairs`` and ``predict_pairs`` character for character (tests/test_notebooks.py compares
them). The input checks below them are imported there. Used by notebooks 03 and 04 and the benchmark.
"""
from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from transformers import DataCollatorWithPadding

from .data import LABEL_NAMES, check_sentence
from .device import autocast_dtype


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Indices in batches of similar length (longest first), so little padding is computed."""
    batch_size = check_positive_int(batch_size, "batch_size")
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def autocast(device: torch.device):
    """bf16/fp16 autocast on CUDA, nothing on the CPU."""
    dtype = autocast_dtype(device)
    return torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()


@torch.inference_mode()
def score_pairs(model, tokenizer, pairs, batch_size: int = 64, max_length: int = 128) -> np.ndarray:
    """One similarity score per pair from a cross-encoder: P(相似) for 2 labels, the raw output for 1."""
    pairs = check_pairs(pairs)
    max_length = check_max_length(max_length, model.config.max_position_embeddings)
    if not pairs:
        return np.empty(0, dtype=np.float32)
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
    threshold = check_threshold(threshold)
    scores = score_pairs(model, tokenizer, pairs, **kwargs)
    return [{"score": float(s), "label": LABEL_NAMES[int(s >= threshold)]} for s in scores]


# Input checks: each names the argument (and the item) it refuses. Also used by pipelines.py, biencoder.py and
# retrieval.py.

def check_pairs(pairs, where: str = "pairs") -> list[tuple[str, str]]:
    """``[(s1, s2), ...]`` of non-empty strings, or a ``ValueError`` naming the bad item."""
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise ValueError(f"{where} must be a list of (sentence1, sentence2) pairs, got {type(pairs).__name__}")
    return [check_pair(pair, f"{where}[{index}]") for index, pair in enumerate(pairs)]


def check_pair(pair, where: str) -> tuple[str, str]:
    """``(s1, s2)`` from a 2-sequence or a ``{"text", "text_pair"}`` dict, each a non-empty string."""
    if isinstance(pair, dict):
        pair = (pair.get("text"), pair.get("text_pair"))
    if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
        raise ValueError(f"{where} must be a pair of two sentences, got {pair!r}")
    return check_sentence(pair[0], f"{where} sentence 1"), check_sentence(pair[1], f"{where} sentence 2")


def check_positive_int(value, name: str) -> int:
    """``value`` as an ``int`` when it is a positive integer (numpy integers too, not bools or floats)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_max_length(max_length, model_limit: int) -> int:
    """A positive integer ``max_length``, capped at the model's ``max_position_embeddings``."""
    return min(check_positive_int(max_length, "max_length"), model_limit)


def check_threshold(threshold) -> float:
    """``threshold`` as a finite ``float``: NaN, infinities and non-numbers are refused."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    return value
