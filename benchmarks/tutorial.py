"""The original tutorial's code path as the benchmark replays it: every row padded to ``MAX_LENGTH`` tokens and
batches in random order; and the model loaders that both paths share (the same weights and classifier head)."""
from __future__ import annotations

import torch
from transformers import BertForSequenceClassification

from textsim.biencoder import BiEncoder

from .timing import SEED

MAX_LENGTH = 128  # the tutorial pads every row to it; both paths truncate at it


def load_cross(path: str, device: torch.device):
    torch.manual_seed(SEED)  # the same classifier head for the tutorial's run and ours
    return BertForSequenceClassification.from_pretrained(path, num_labels=2).to(device)


def load_bi(path: str, device: torch.device, pooling: str = "pooler"):
    torch.manual_seed(SEED)
    return BiEncoder.from_pretrained(path, pooling=pooling, loss="cosine_embedding").to(device)


def random_order(count: int) -> list[int]:
    """The tutorial's batch order: random (every row already padded to ``MAX_LENGTH`` tokens)."""
    return torch.randperm(count, generator=torch.Generator().manual_seed(SEED)).tolist()


def cross_features(train, tok, padded: bool) -> list[dict]:
    """Cross-encoder rows: padded to ``MAX_LENGTH`` (the tutorial's) or left at their own length (ours)."""
    padding = {"padding": "max_length"} if padded else {}
    train = train.to_dict()  # plain lists
    encoded = tok(train["sentence1"], train["sentence2"], truncation=True, max_length=MAX_LENGTH, **padding)
    return [{**{key: encoded[key][i] for key in encoded}, "labels": label} for i, label in enumerate(train["label"])]


def padded_bi_features(train, tok) -> list[dict]:
    """The tutorial's bi-encoder rows: each sentence padded to ``MAX_LENGTH`` on its own."""
    train = train.to_dict()
    features = [{"labels": float(label)} for label in train["label"]]
    for side in ("1", "2"):
        encoded = tok(train[f"sentence{side}"], truncation=True, max_length=MAX_LENGTH, padding="max_length",
                      return_token_type_ids=False)
        for i, feature in enumerate(features):
            feature.update({f"{key}_{side}": encoded[key][i] for key in encoded})
    return features
