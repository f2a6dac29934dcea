"""Tokenising pairs for a cross-encoder, the TrainingArguments every notebook trains with, local metrics.

Taught in notebook 01 (sections 2, 4 and 5); notebooks 02 and 03 reuse them.
"""
from __future__ import annotations

import time
from importlib.resources import files

import numpy as np
from transformers import TrainingArguments

from .device import mixed_precision, pick_device
from .run import Run


def tokenize_pairs(dataset, tokenizer, max_length: int = 128):
    """``[CLS] s1 [SEP] s2 [SEP]``, truncated but not padded: ``DataCollatorWithPadding`` pads each batch."""
    def encode(batch):
        return tokenizer(batch["sentence1"], batch["sentence2"], truncation=True, max_length=max_length)

    return dataset.map(encode, batched=True, remove_columns=["sentence1", "sentence2"])


def local_metric(name: str) -> str:
    """The folder of one of textsim's own ``evaluate`` metrics: ``evaluate.load`` of it needs no network."""
    return str(files("textsim") / "evaluate_metrics" / name)


def training_arguments(run: Run, learning_rate: float, epochs: float, part: str = "",
                       **overrides) -> TrainingArguments:
    """The series' TrainingArguments, one comment per argument; ``overrides`` replace any of them.

    ``part`` names the training run when a notebook trains several: its checkpoints go to
    ``run.checkpoint_dir(part)``; give the Trainer ``callbacks=[run.tensorboard(part)]`` for its logs.
    """
    profile = run.profile
    settings = dict(
        output_dir=str(run.checkpoint_dir(part)),  # checkpoints, under build/
        per_device_train_batch_size=profile.batch_size,  # pairs per training step (32, as in the seed)
        per_device_eval_batch_size=profile.batch_size * 2,  # no gradients to keep: twice as many fit
        learning_rate=learning_rate,  # the peak, reached after the warm-up, then linear decay to 0
        weight_decay=profile.weight_decay,  # AdamW's decay (0.01, as in the seed), not on biases or norms
        num_train_epochs=epochs,  # passes over the training split
        warmup_steps=profile.warmup,  # below 1: a fraction of all steps (0.1 = 10% warm-up)
        train_sampling_strategy="group_by_length",  # similar lengths per batch: ~2.3x fewer padded tokens
        eval_strategy="epoch",  # evaluate on eval_dataset (validation) after each epoch
        save_strategy="epoch",  # and save a checkpoint then: load_best_model_at_end needs the two to match
        save_total_limit=1,  # delete older checkpoints, but never the best one
        load_best_model_at_end=True,  # when training ends, reload the best checkpoint
        metric_for_best_model="accuracy",  # best = highest eval_accuracy on validation
        logging_steps=10,  # log the training loss every 10 steps (the learning curve)
        disable_tqdm=False,  # a progress bar and a table per evaluation, even at quiet_logs' log level
        report_to="none",  # no automatic loggers: TensorBoard comes as run.tensorboard(part), in its own folder
        seed=profile.seed,  # Trainer() calls set_seed(seed): Python, NumPy and torch, the same run every time
        data_seed=profile.seed,  # seeds the sampler that shuffles and groups the batches
        dataloader_num_workers=0,  # batches built in the main process: no worker start-up cost
        dataloader_pin_memory=pick_device().type == "cuda",  # pinned memory only helps copies to a GPU
        **mixed_precision(),  # bf16=, fp16=: bf16 (fp16 on older GPUs) on CUDA, fp32 on the CPU
    )
    settings.update(overrides)
    return TrainingArguments(**settings)


def timed_train(trainer) -> float:
    """Train and return the wall-clock seconds it took."""
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start


def timed_predict(trainer, dataset):
    """``trainer.predict`` and the pairs per second it scored.

    With length grouping the Trainer also groups evaluation batches by length, so predictions come out of
    dataset order: pair them with ``output.label_ids``, never with the dataset's own label column.
    """
    start = time.perf_counter()
    output = trainer.predict(dataset)
    return output, len(dataset) / (time.perf_counter() - start)


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
