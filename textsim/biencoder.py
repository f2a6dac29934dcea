"""The bi-encoder (dual tower): one BERT encodes each sentence alone; similarity is the cosine of two vectors.

Taught in notebook 03, in the order of this file: each side tokenized and padded apart (``tokenize_sides``,
``PairCollator``), the three poolings and three losses one at a time, the model that chooses among them
(``BiEncoder``) and its evaluation (``pair_cosines``). Its cells marked ``#@save textsim/biencoder.py`` hold the same definitions. Notebook 04 loads the saved
models with ``BiEncoder`` and indexes the corpus with ``BiEncoder.encode``.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import BertConfig, BertModel, BertPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

from .checks import check_choice, check_sentences
from .inference import forward_in_batches

SIDES = ("1", "2")


# --- 1. each sentence tokenized and padded on its own ------------------------------------------------------------

def tokenize_side(tokenizer, sentences, side: str, max_length: int = 128, **kwargs) -> dict:
    """One side of the pairs on its own: ``{"input_ids_1": ..., "attention_mask_1": ...}`` for side "1"."""
    encoded = tokenizer(sentences, truncation=True, max_length=max_length, return_token_type_ids=False, **kwargs)
    return {f"{key}_{side}": value for key, value in encoded.items()}


def tokenize_sides(dataset, tokenizer, max_length: int = 128):
    """Adds ``input_ids_1`` / ``attention_mask_1`` / ... and ``length`` for length grouping.

    ``length`` is the longer side's token count, not the sum: each side is padded to its own longest, so a batch
    costs ``pairs × (longest side 1 + longest side 2)``, and grouping by the sum would put a long sentence 1 with a
    short sentence 2 next to the reverse.
    """
    def encode(batch):
        columns = {}
        for side in SIDES:
            columns.update(tokenize_side(tokenizer, batch[f"sentence{side}"], side, max_length))
        columns["length"] = [max(len(a), len(b)) for a, b in zip(columns["input_ids_1"], columns["input_ids_2"])]
        return columns

    return dataset.map(encode, batched=True)


class PairCollator:
    """Pads sentence 1 and sentence 2 of each pair separately, each to its own longest in the batch."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        batch = {}
        for side in SIDES:
            keys = [key for key in features[0] if key.endswith(f"_{side}")]
            padded = self.tokenizer.pad([{key[:-2]: f[key] for key in keys} for f in features],
                                        return_tensors="pt")
            batch.update({f"{key}_{side}": value for key, value in padded.items()})
        if "labels" in features[0] or "label" in features[0]:
            batch["labels"] = torch.tensor([f.get("labels", f.get("label")) for f in features], dtype=torch.float)
        return batch


# --- 2.2 pooling and losses, one at a time -----------------------------------------------------------------------

POOLINGS = ("pooler", "cls", "mean")


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors, padding excluded."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def pool(output, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """One vector per sentence from a ``BertModel`` output: ``pooler`` ([CLS] through the pooler's dense + tanh,
    the original tutorial's), ``cls`` ([CLS]'s last hidden state) or ``mean`` (``mean_pool``)."""
    if pooling == "pooler":
        return output.pooler_output
    if pooling == "cls":
        return output.last_hidden_state[:, 0]
    return mean_pool(output.last_hidden_state, attention_mask)


LOSSES = ("cosine_embedding", "contrastive", "cosent")


def cosine_embedding_loss(vectors_1: torch.Tensor, vectors_2: torch.Tensor, labels: torch.Tensor,
                          margin: float = 0.3) -> torch.Tensor:
    """The original tutorial's loss: 1 - cos for 相似 pairs, max(0, cos - margin) for 不相似 ones.
    ``nn.CosineEmbeddingLoss`` wants the labels as 1 / -1; ours are 1 / 0."""
    return nn.CosineEmbeddingLoss(margin=margin)(vectors_1, vectors_2, torch.where(labels > 0, 1.0, -1.0))


def contrastive_loss(cosine: torch.Tensor, labels: torch.Tensor, margin: float = 0.5) -> torch.Tensor:
    """Contrastive loss on the cosine distance d = 1 - cos: 相似 pairs pull d to 0, 不相似 pairs push d past
    ``margin`` (and are left alone beyond it). Per pair, so batches may be grouped by length."""
    distance = 1 - cosine
    per_pair = torch.where(labels > 0, distance.pow(2), F.relu(margin - distance).pow(2))
    return 0.5 * per_pair.mean()


def cosent_loss(cosine: torch.Tensor, labels: torch.Tensor, scale: float = 20.0) -> torch.Tensor:
    """CoSENT: every 相似 pair should score above every 不相似 pair of the batch.

    loss = log(1 + sum over (pos i, neg j) of exp(scale * (cos_j - cos_i))).
    """
    differences = scale * (cosine[None, :] - cosine[:, None])  # [i, j] = cos_j - cos_i
    positive_over_negative = (labels[:, None] > labels[None, :]).to(differences.dtype)
    differences = differences - (1 - positive_over_negative) * 1e12
    zero = torch.zeros(1, dtype=differences.dtype, device=differences.device)
    # clone: the Trainer rescales the returned loss in place, and logsumexp's backward needs its own output
    return torch.logsumexp(torch.cat([zero, differences.reshape(-1)]), dim=0).clone()


def pair_loss(loss: str, vectors_1, vectors_2, cosine, labels, margin: float) -> torch.Tensor:
    """The loss named ``loss`` (one of ``LOSSES``) for a batch of pairs with labels 1 / 0."""
    if loss == "cosent":
        return cosent_loss(cosine, labels)
    if loss == "contrastive":
        return contrastive_loss(cosine, labels, margin)
    return cosine_embedding_loss(vectors_1, vectors_2, labels, margin)


# --- 2.3 the model -------------------------------------------------------------------------------------------

SETTINGS = {"pooling": "pooler", "loss": "cosine_embedding", "margin": 0.3, "threshold": 0.8}  # the original's


def configure(config: BertConfig, **settings) -> BertConfig:
    """``config`` with every bi-encoder setting: a passed one, else the one it already has (a saved model), else
    the default in ``SETTINGS``; the pooling and the loss checked."""
    for name, value in {**SETTINGS, **settings}.items():
        if name in settings or not hasattr(config, name):
            setattr(config, name, value)
    check_choice(config.pooling, POOLINGS, "pooling")
    check_choice(config.loss, LOSSES, "loss")
    return config


class BiEncoder(BertPreTrainedModel):
    """Encodes ``input_ids_1`` and ``input_ids_2`` separately and returns their cosine as ``logits``.
    ``SETTINGS`` are saved in the config; ``from_pretrained(path, pooling="mean", loss="cosent")`` changes them."""

    config_class = BertConfig

    def __init__(self, config: BertConfig, **settings):
        super().__init__(configure(config, **settings))
        self.bert = BertModel(config, add_pooling_layer=config.pooling == "pooler")
        self.post_init()

    def embed(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        """One vector per sentence, by the configured pooling (not normalised)."""
        output = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return pool(output, attention_mask, self.config.pooling)

    def forward(self, input_ids_1, attention_mask_1, input_ids_2, attention_mask_2,
                token_type_ids_1=None, token_type_ids_2=None, labels=None, **kwargs):  # kwargs: num_items_in_batch
        vectors_1 = self.embed(input_ids_1, attention_mask_1, token_type_ids_1)
        vectors_2 = self.embed(input_ids_2, attention_mask_2, token_type_ids_2)
        cosine = F.cosine_similarity(vectors_1.float(), vectors_2.float())
        loss = None if labels is None else pair_loss(self.config.loss, vectors_1, vectors_2, cosine,
                                                      labels.float(), self.config.margin)
        return SequenceClassifierOutput(loss=loss, logits=cosine)

    def encode(self, sentences, tokenizer, batch_size: int = 64, max_length: int = 128, precision: str = "fp32",
               progress: bool | None = None) -> np.ndarray:
        """Unit-length vectors for a list of sentences: length-sorted batches, no autograd (``forward_in_batches``)."""
        return forward_in_batches(self, tokenizer, (check_sentences(sentences),), lambda inputs: F.normalize(
            self.embed(**inputs).float(), dim=-1), self.config.hidden_size, batch_size, max_length,
            precision=precision, progress=progress)


def pair_cosines(model: BiEncoder, tokenizer, dataset, batch_size: int = 64, max_length: int = 128) -> np.ndarray:
    """Cosine of each (sentence1, sentence2) of a dataset, in dataset order, via ``BiEncoder.encode``."""
    first = model.encode(dataset["sentence1"], tokenizer, batch_size, max_length)
    second = model.encode(dataset["sentence2"], tokenizer, batch_size, max_length)
    return (first * second).sum(axis=1)
