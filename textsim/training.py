"""Training with the Trainer: tokenising pairs for a cross-encoder, the TrainingArguments every notebook trains
with, and timing ``train`` / ``predict``.

Taught in notebook 01 (sections 2 and 5); notebooks 02-04 and the training command reuse them.
"""
from __future__ import annotations

import time

from transformers import TrainingArguments

from .device import mixed_precision, pick_device
from .series.run import Run


def tokenize_pairs(dataset, tokenizer, max_length: int = 128):
    """``[CLS] s1 [SEP] s2 [SEP]``, truncated but not padded: ``DataCollatorWithPadding`` pads each batch."""
    def encode(batch):
        return tokenizer(batch["sentence1"], batch["sentence2"], truncation=True, max_length=max_length)

    return dataset.map(encode, batched=True, remove_columns=["sentence1", "sentence2"])


def training_arguments(run: Run, learning_rate: float, epochs: float, part: str = "",
                       **overrides) -> TrainingArguments:
    """The series' TrainingArguments, one comment per argument; ``overrides`` replace any of them.

    ``part`` names the training run when a notebook trains several: its checkpoints go to
    ``run.checkpoint_dir(part)``; give the Trainer ``callbacks=[run.tensorboard(part)]`` for its logs.
    """
    profile = run.profile
    settings = dict(
        output_dir=str(run.checkpoint_dir(part)),  # where the checkpoints go
        per_device_train_batch_size=profile.batch_size,  # pairs per training step (32, as in the seed)
        per_device_eval_batch_size=profile.batch_size * 2,  # no gradients to keep: twice as many fit
        learning_rate=learning_rate,  # the peak, reached after the warm-up, then linear decay to 0
        weight_decay=profile.weight_decay,  # AdamW's decay (0.01, as in the seed), not on biases or norms
        num_train_epochs=epochs,  # passes over the training split
        warmup_steps=profile.warmup,  # below 1: a fraction of all steps (0.1 = 10% warm-up)
        train_sampling_strategy="group_by_length",  # similar lengths per batch: less padding (01, section 2)
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


