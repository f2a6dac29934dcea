"""A reranker trained for ranking (notebook 05): hard negatives mined with the bi-encoder, and a listwise loss.

Notebook 01's classifier learnt whether one pair is similar; a reranker has to order several plausible candidates
for one query. Both ways of training one start from ``mine_hard_negatives``: binary cross-entropy on its rows
(notebook 01's Trainer, unchanged), or ``ListwiseReranker``, a softmax over each query's positive and negatives
(the seed's multiple-choice idea). sentence-transformers: ``util.mine_hard_negatives``, ``CrossEncoder`` with
``losses.BinaryCrossEntropyLoss`` or ``losses.ListNetLoss``.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F
from transformers import Trainer

from .checks import check_positive_int
from .device import launch_overrides
from .retrieval import VectorIndex
from .training import training_arguments


def normalized(text: str) -> str:
    """The sentence without punctuation, spaces or case: two sentences equal here are treated as the same."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def positives_by_query(pairs: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Each query's known relevant sentences, from (query, positive) pairs."""
    if not pairs:
        raise ValueError("pairs is empty: give at least one (query, positive)")
    positives: dict[str, set[str]] = {}
    for query, positive in pairs:
        positives.setdefault(query, set()).add(positive)
    return positives


def mine_hard_negatives(model, tokenizer, pairs: list[tuple[str, str]], corpus: list[str], per_query: int = 3,
                        depth: int = 10, seed: int | None = None) -> list[dict]:
    """Training rows for a reranker: each (query, positive) with label 1, and ``per_query`` hard negatives with
    label 0 from the bi-encoder's first ``depth`` sentences of ``corpus`` (its best-scored ones, or with ``seed`` a
    random choice among them). Left out as likely false negatives: the query and its positives, and any sentence
    equal to one of them up to punctuation, spaces and case (``normalized``).
    sentence-transformers: ``util.mine_hard_negatives``."""
    check_positive_int(per_query, "per_query")
    check_positive_int(depth, "depth")
    positives = positives_by_query(pairs)
    queries = list(positives)
    index = VectorIndex(model.encode(corpus, tokenizer))
    room = max(Counter(normalized(s) for s in corpus).values()) * (1 + max(map(len, positives.values())))
    _, found = index.search(model.encode(queries, tokenizer), depth + room)  # room for every left-out copy
    keys = [normalized(s) for s in corpus]
    rng = np.random.default_rng(seed)
    rows = []
    for query, ids in zip(queries, found):
        banned = {normalized(query)} | {normalized(p) for p in positives[query]}
        pool = [corpus[i] for i in ids if i >= 0 and keys[i] not in banned][:depth]
        chosen = pool[:per_query] if seed is None else [pool[j] for j in sorted(
            rng.choice(len(pool), size=min(per_query, len(pool)), replace=False))]
        rows += [{"sentence1": query, "sentence2": p, "label": 1} for p in sorted(positives[query])]
        rows += [{"sentence1": query, "sentence2": n, "label": 0} for n in chosen]
    return rows


def listwise_groups(rows: list[dict]) -> list[dict]:
    """``mine_hard_negatives``' rows as one group per (query, positive): the positive first, then the query's
    negatives. Every group must have the same size (a query with fewer negatives is an error, never cut)."""
    negatives: dict[str, list[str]] = {}
    for row in rows:
        if row["label"] == 0:
            negatives.setdefault(row["sentence1"], []).append(row["sentence2"])
    groups = [{"query": row["sentence1"], "candidates": [row["sentence2"], *negatives.get(row["sentence1"], [])]}
              for row in rows if row["label"] == 1]
    if not groups:
        raise ValueError("rows hold no positive (label 1): nothing to group")
    sizes = Counter(len(group["candidates"]) for group in groups)
    if len(sizes) > 1:
        odd = next(g["query"] for g in groups if len(g["candidates"]) != sizes.most_common(1)[0][0])
        raise ValueError(f"groups differ in size {dict(sizes)}: query {odd!r} has another number of negatives; "
                         f"mine with a corpus large enough for per_query negatives each")
    return groups


def tokenize_groups(groups: list[dict], tokenizer, max_length: int = 128):
    """Each group as a ``datasets.Dataset`` row: every (query, candidate) pair tokenized, and ``length``, the
    group's longest pair, for length-grouped batches."""
    from datasets import Dataset

    def encode(batch):
        columns: dict[str, list] = {}
        for query, candidates in zip(batch["query"], batch["candidates"]):
            pairs = tokenizer([query] * len(candidates), candidates, truncation=True, max_length=max_length)
            for name, values in pairs.items():
                columns.setdefault(name, []).append(values)
            columns.setdefault("length", []).append(max(map(len, pairs["input_ids"])))
        return columns

    return Dataset.from_list(groups).map(encode, batched=True, remove_columns=["query", "candidates"])


class GroupCollator:
    """Flattens a batch of groups into one batch of pairs, padded to its longest pair; ``labels``: 0 per group,
    the position of the positive."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, features: list[dict]) -> dict:
        names = [name for name in features[0] if name != "length"]
        pairs = [{name: feature[name][i] for name in names} for feature in features
                 for i in range(len(feature["input_ids"]))]
        batch = self.tokenizer.pad(pairs, return_tensors="pt")
        batch["labels"] = torch.zeros(len(features), dtype=torch.long)
        return batch


class ListwiseReranker(torch.nn.Module):
    """A one-output cross-encoder trained listwise: the scores of each group's pairs go through a softmax and the
    loss is the cross-entropy of the positive (a multiple-choice question whose answer is the first option).
    ``model`` is an ``AutoModelForSequenceClassification`` with ``num_labels=1``; save it, not this wrapper."""

    def __init__(self, model, group_size: int):
        super().__init__()
        self.model = model
        self.group_size = check_positive_int(group_size, "group_size")

    def forward(self, labels=None, **pairs):
        scores = self.model(**pairs).logits.view(-1, self.group_size)
        return {"loss": F.cross_entropy(scores, labels) if labels is not None else None, "logits": scores}


def top1_accuracy(eval_prediction) -> dict[str, float]:
    """``compute_metrics`` of a listwise reranker: the share of groups whose positive gets the highest score."""
    scores = np.asarray(eval_prediction.predictions)
    return {"accuracy": float(np.mean(scores.argmax(axis=1) == 0))}


def listwise_trainer(run, model, tokenizer, tokenized, learning_rate: float, epochs: float):
    """The Trainer of a ``ListwiseReranker``: notebook 01's ``TrainingArguments`` (checkpoints under the part
    ``reranker``), groups batched by their longest pair, the best epoch chosen by ``top1_accuracy`` on validation."""
    args = training_arguments(run, learning_rate=learning_rate, epochs=epochs, part="reranker",
                              remove_unused_columns=False,  # GroupCollator reads the grouped columns itself
                              **launch_overrides())
    return Trainer(model=model, args=args, data_collator=GroupCollator(tokenizer), train_dataset=tokenized["train"],
                   eval_dataset=tokenized["validation"], compute_metrics=top1_accuracy,
                   callbacks=[run.tensorboard("reranker")])
