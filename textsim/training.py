"""Tokenising pairs for a cross-encoder, and the TrainingArguments every notebook trains with.

Taught in notebook 01 (sections 2 and 5); notebooks 02 and 03 reuse them.
"""
from __future__ import annotations

import os
import time

from transformers import TrainingArguments, set_seed

from .config import PROJECT_ROOT, Profile
from .device import mixed_precision, pick_device


def tokenize_pairs(dataset, tokenizer, max_length: int = 128):
    """``[CLS] s1 [SEP] s2 [SEP]``, truncated but not padded: ``DataCollatorWithPadding`` pads each batch."""
    def encode(batch):
        return tokenizer(batch["sentence1"], batch["sentence2"], truncation=True, max_length=max_length)

    return dataset.map(encode, batched=True, remove_columns=["sentence1", "sentence2"])


def training_arguments(profile: Profile, run_name: str, learning_rate: float, epochs: float,
                       **overrides) -> TrainingArguments:
    """The series' TrainingArguments: seeded, length-grouped batches, evaluation and checkpoint every epoch,
    the best checkpoint chosen on the *validation* split, bf16/fp16 on CUDA, TensorBoard logs in ``runs/``.
    """
    set_seed(profile.seed)
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(profile.runs_dir / run_name)  # read by TensorBoardCallback
    settings = dict(
        output_dir=str(PROJECT_ROOT / "build" / "checkpoints" / profile.name / run_name),
        per_device_train_batch_size=profile.batch_size,
        per_device_eval_batch_size=profile.batch_size * 2,
        learning_rate=learning_rate,
        weight_decay=profile.weight_decay,
        num_train_epochs=epochs,
        warmup_steps=profile.warmup,
        train_sampling_strategy="group_by_length",  # similar lengths per batch: ~2.3x fewer padded tokens
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=1,
        load_best_model_at_end=True,
        metric_for_best_model="accuracy",
        logging_steps=10,
        disable_tqdm=False,  # a progress bar and a metrics table, not one dict per log line (quiet_logs would)
        report_to=["tensorboard"],
        seed=profile.seed,
        data_seed=profile.seed,
        dataloader_num_workers=0,
        dataloader_pin_memory=pick_device().type == "cuda",  # pinned memory only helps copies to a GPU
        **mixed_precision(),
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


def padding_cost(lengths, batch_size: int, seed: int = 0) -> dict[str, float]:
    """Tokens the model computes per real token, for random batches and for length-grouped batches.

    Dynamic padding pads each batch to its own longest pair; whether that saves anything depends on the order.
    """
    import numpy as np
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    lengths = np.asarray(lengths)
    generator = torch.Generator().manual_seed(seed)
    orders = {
        "random": torch.randperm(len(lengths), generator=generator).numpy(),
        "grouped": np.fromiter(LengthGroupedSampler(batch_size, lengths=lengths.tolist(), generator=generator),
                               dtype=int),
    }
    cost = {"real_tokens_mean": float(lengths.mean()), "fixed_128": float(128 * len(lengths) / lengths.sum())}
    for name, order in orders.items():
        batches = [lengths[order[i:i + batch_size]] for i in range(0, len(order), batch_size)]
        cost[f"{name}_batch_max_mean"] = float(np.mean([b.max() for b in batches]))
        cost[name] = float(sum(b.max() * len(b) for b in batches) / lengths.sum())
    return cost
