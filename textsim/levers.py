"""Levers on a small cross-encoder's accuracy: both sentence orders, R-Drop, a joint classification + regression
head, distillation from an ensemble, and averaging models trained with different seeds.

Taught in notebook 06 (its cells marked ``#@save textsim/levers.py``); ``python -m experiments.levers`` measures
each lever over seeds with them (docs/levers.md).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from datasets import concatenate_datasets
from transformers import (AutoModelForSequenceClassification, DataCollatorWithPadding, EarlyStoppingCallback, Trainer,
                          set_seed)
from transformers.modeling_outputs import SequenceClassifierOutput

from .checks import check_pairs
from .inference import forward_in_batches
from .series.run import Run
from .training import tokenize_pairs, training_arguments

# Each lever's changes to notebook 01's recipe (2 logits, the profile's learning rate and epochs, the encoder's
# dropout as albert-tiny ships it: 0).
LEVERS = {
    "baseline": {},
    "both_orders": {"both_orders": True, "epochs": 1},  # twice the pairs, half the epochs: the same steps
    "rdrop": {"rdrop": 1.0, "dropout": 0.1},
    "joint": {"joint": True},
    "longer": {"epochs": 3, "patience": 1},
    "higher_lr": {"lr": 2e-4},
    "distill": {"distill": 0.5},  # teacher: the seed average of the baseline's models
}


def swapped(dataset):
    """The same pairs with ``sentence1`` and ``sentence2`` exchanged: a pair's label does not depend on its order."""
    return dataset.rename_columns({"sentence1": "sentence2", "sentence2": "sentence1"})


def both_orders(dataset):
    """Every pair twice, once in each order (shuffled together by the Trainer)."""
    return concatenate_datasets([dataset, swapped(dataset).select_columns(dataset.column_names)])


def pair_probability(logits: torch.Tensor) -> torch.Tensor:
    """P(相似) from a head's logits: 2 logits → softmax; 3 (the joint head) → the mean of that softmax and the
    regression output (logit 3) clipped to [0, 1]."""
    probability = logits[:, :2].float().softmax(-1)[:, 1]
    if logits.shape[-1] == 3:
        probability = (probability + logits[:, 2].float().clamp(0, 1)) / 2
    return probability


def task_loss(logits, labels, teacher=None, distill: float = 0.0):
    """Cross-entropy on the first two logits; + MSE of logit 3 against the 0/1 label for the joint head;
    with a teacher, ``distill`` of the cross-entropy moves from the gold label to the teacher's P(相似)."""
    loss = F.cross_entropy(logits[:, :2], labels)
    if teacher is not None and distill:
        soft = torch.stack([1 - teacher, teacher], dim=-1).to(logits.dtype)
        loss = (1 - distill) * loss + distill * -(soft * logits[:, :2].log_softmax(-1)).sum(-1).mean()
    if logits.shape[-1] == 3:
        loss = loss + F.mse_loss(logits[:, 2], labels.to(logits.dtype))
    return loss


def symmetric_kl(first, second):
    """R-Drop's consistency term: the mean of KL(p1‖p2) and KL(p2‖p1) between two dropout passes."""
    p, q = first.log_softmax(-1), second.log_softmax(-1)
    return (F.kl_div(p, q, log_target=True, reduction="batchmean")
            + F.kl_div(q, p, log_target=True, reduction="batchmean")) / 2


class LeverTrainer(Trainer):
    """A Trainer whose loss is ``task_loss`` (joint head, distillation) plus, with ``rdrop`` > 0, R-Drop (Liang et
    al., 2021): each batch goes through the model twice in one pass, and ``rdrop`` weighs the symmetric KL between
    the two dropout masks' predictions. ``teacher``, when the dataset has it, is the teacher's P(相似) per pair."""

    def __init__(self, *args, rdrop: float = 0.0, distill: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.rdrop, self.distill = rdrop, distill

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        labels, teacher = inputs.pop("labels"), inputs.pop("teacher", None)
        twice = self.rdrop > 0 and model.training
        logits = model(**({k: torch.cat([v, v]) for k, v in inputs.items()} if twice else inputs)).logits
        if twice:
            first, second = logits.chunk(2)
            loss = (task_loss(first, labels, teacher, self.distill) + task_loss(second, labels, teacher, self.distill)
                    ) / 2 + self.rdrop * symmetric_kl(first[:, :2], second[:, :2])
            logits = first
        else:
            loss = task_loss(logits, labels, teacher, self.distill)
        return (loss, SequenceClassifierOutput(loss=loss, logits=logits)) if return_outputs else loss


def lever_metrics(prediction) -> dict[str, float]:
    """``compute_metrics`` for any head of ``pair_probability``: accuracy at P(相似) ≥ 0.5."""
    logits, labels = prediction
    probability = pair_probability(torch.as_tensor(np.asarray(logits))).numpy()
    return {"accuracy": float(((probability >= 0.5) == np.asarray(labels)).mean())}


def pair_scores(model, tokenizer, pairs, both: bool = False, **kwargs) -> np.ndarray:
    """P(相似) per pair in input order; ``both=True`` averages it over the two sentence orders."""
    pairs = check_pairs(pairs)

    def score(inputs):
        return pair_probability(model(**inputs).logits)

    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    scores = forward_in_batches(model, tokenizer, (first, second), score, **kwargs)
    if both:
        scores = (scores + forward_in_batches(model, tokenizer, (second, first), score, **kwargs)) / 2
    return scores


def seed_average(score_lists) -> np.ndarray:
    """Averaging models trained with different seeds: the mean of their P(相似), pair by pair."""
    return np.mean(np.stack([np.asarray(s, dtype=np.float64) for s in score_lists]), axis=0)


def lever_model(base: str, settings: dict, seed: int):
    """Notebook 01's classifier (a third logit with ``joint``; ``dropout`` in the encoder), its new weights seeded."""
    set_seed(seed)
    dropout = {"hidden_dropout_prob": settings["dropout"]} if "dropout" in settings else {}
    return AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=3 if settings.get("joint") else 2, **dropout)


def lever_trainer(run: Run, model, tokenizer, splits, settings: dict, seed: int, teacher=None, part: str = "",
                  **overrides) -> LeverTrainer:
    """Notebook 01's Trainer with a lever's changes: the training pairs (both orders, the teacher's P(相似) per
    pair), the schedule (learning rate, epochs, early stopping on validation) and the loss (R-Drop, distillation)."""
    p, train = run.profile, splits["train"]
    if settings.get("distill") and teacher is None:
        raise ValueError(f"settings {settings} distil from a teacher: give teacher=, its P(相似) per training pair")
    if teacher is not None:
        train = train.add_column("teacher", np.asarray(teacher, dtype=np.float32).tolist())
    if settings.get("both_orders"):
        train = both_orders(train)
    args = training_arguments(run, learning_rate=settings.get("lr", p.cross_lr),
                              epochs=settings.get("epochs", p.cross_epochs), part=part, seed=seed, data_seed=seed,
                              remove_unused_columns=False, **overrides)  # keep the "teacher" column
    stop = [EarlyStoppingCallback(settings["patience"])] if "patience" in settings else []
    return LeverTrainer(model=model, args=args, train_dataset=tokenize_pairs(train, tokenizer, p.max_length),
                        eval_dataset=tokenize_pairs(splits["validation"], tokenizer, p.max_length),
                        data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
                        compute_metrics=lever_metrics, callbacks=stop, rdrop=settings.get("rdrop", 0.0),
                        distill=settings.get("distill", 0.0))
