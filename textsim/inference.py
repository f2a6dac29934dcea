"""Fast batched inference: sort by length, pad each batch only to its own longest, no autograd.

Taught in notebook 02: its cells marked ``#@save textsim/inference.py`` show ``length_sorted_batches``,
``forward_in_batches`` (the one batching loop: cross-encoder scores here, bi-encoder vectors in ``BiEncoder.encode``),
``score_pairs`` and ``predict_pairs`` character for character (tests/repo/test_notebooks.py compares them); the input
checks they call are in checks.py; ``PairPipeline`` (not taught) is the base of 03's pipeline. Used by notebooks
03-05 and the benchmark.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import Pipeline

from .checks import (as_pipeline_inputs, check_max_length, check_pairs, check_positive_int, check_threshold,
                     show_progress)
from .data import LABEL_NAMES
from .device import autocast


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Indices in batches of similar length (longest first), so little padding is computed."""
    batch_size = check_positive_int(batch_size, "batch_size")
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


@torch.inference_mode()
def forward_in_batches(model, tokenizer, texts: tuple, forward, width: int | None = None, batch_size: int = 64,
                       max_length: int = 128, precision: str = "fp32", progress: bool | None = None) -> np.ndarray:
    """``forward(inputs)`` over length-sorted, dynamically padded batches; one row per text, in input order.

    ``texts`` is ``(sentences,)`` or ``(first_sentences, second_sentences)``, as the tokenizer takes them;
    ``forward`` returns one value (``width=None``) or one vector of ``width`` per row of the batch.
    ``precision``: "fp32" (the same scores on every CPU), "auto" (the faster one for each batch) or "bf16".
    ``progress``: a progress bar (None: only for more than ``PROGRESS_OVER`` texts).
    """
    max_length = check_max_length(max_length, model.config.max_position_embeddings)
    rows = np.empty((len(texts[0]),) if width is None else (len(texts[0]), width), dtype=np.float32)
    if not len(rows):
        return rows
    model.eval()
    encoded = tokenizer(*texts, truncation=True, max_length=max_length)
    bar = tqdm(total=len(rows), disable=not show_progress(progress, len(rows)), leave=False)
    for batch in length_sorted_batches([len(ids) for ids in encoded["input_ids"]], batch_size):
        inputs = tokenizer.pad({key: [encoded[key][i] for i in batch] for key in encoded},
                               return_tensors="pt").to(model.device)
        with autocast(model.device, precision, rows=len(batch)):
            rows[batch] = forward(inputs).float().cpu().numpy()
        bar.update(len(batch))
    bar.close()
    return rows


def score_pairs(model, tokenizer, pairs, batch_size: int = 64, max_length: int = 128, precision: str = "fp32",
                progress: bool | None = None) -> np.ndarray:
    """One similarity score per pair from a cross-encoder: P(相似) for 2 labels, the raw output for 1."""
    pairs = check_pairs(pairs)

    def pair_scores(inputs):
        logits = model(**inputs).logits.float()
        return logits.softmax(-1)[:, 1] if logits.shape[-1] == 2 else logits[:, 0]

    texts = ([a for a, _ in pairs], [b for _, b in pairs])
    return forward_in_batches(model, tokenizer, texts, pair_scores, batch_size=batch_size, max_length=max_length,
                              precision=precision, progress=progress)


def predict_pairs(model, tokenizer, pairs, threshold: float, **kwargs) -> list[dict]:
    """Score and label for each pair in one call: ``{"score": 0.93, "label": "相似"}``."""
    threshold = check_threshold(threshold)
    scores = score_pairs(model, tokenizer, pairs, **kwargs)
    return [{"score": float(s), "label": LABEL_NAMES[int(s >= threshold)]} for s in scores]


# Input checks: each names the argument (and the item) it refuses. Also used by pipelines.py, biencoder.py and
# retrieval.py.


class PairPipeline(Pipeline):
    """A ``Pipeline`` over sentence pairs: ``__call__`` takes one pair (``("s1", "s2")`` or
    ``{"text": "s1", "text_pair": "s2"}``) or a list of them, checked (``as_pipeline_inputs``), and runs the model
    in eval mode; ``pipeline(task, model=folder)`` loads the tokenizer with it and nothing else."""

    _load_tokenizer, _load_processor, _load_image_processor, _load_feature_extractor = True, False, False, False

    def __call__(self, inputs, **kwargs):
        self.model.eval()  # no dropout, whatever state the model was handed over in
        inputs = as_pipeline_inputs(inputs)
        return super().__call__(inputs, **kwargs) if inputs else []
