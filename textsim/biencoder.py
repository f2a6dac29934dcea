"""The bi-encoder (dual tower): one BERT encodes each sentence alone; similarity is the cosine of two vectors.

Taught in notebook 03, in the order of this file: each side tokenized and padded apart (``tokenize_sides``,
``PairCollator``), the model (``BiEncoder``), its evaluation (``pair_cosines``), then part 2's mean pooling and
losses. Its cells marked ``#@save textsim/biencoder.py`` hold the same definitions. Notebook 04 loads the saved
models with ``BiEncoder`` and indexes the corpus with ``BiEncoder.encode``.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import BertConfig, BertModel, BertPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

from .checks import check_sentence
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


# --- 2. the model ------------------------------------------------------------------------------------------------

POOLINGS = ("pooler", "mean", "cls")
LOSSES = ("cosine_embedding", "cosent", "contrastive")


class BiEncoder(BertPreTrainedModel):
    """Encodes ``input_ids_1`` and ``input_ids_2`` separately and returns their cosine as ``logits``.

    Config fields added to ``BertConfig`` (saved with ``save_pretrained``):
    ``pooling`` (pooler | mean | cls), ``loss`` (cosine_embedding | cosent | contrastive), ``margin``,
    ``threshold``.
    Labels are 0/1 like everywhere in the series; ``CosineEmbeddingLoss`` gets them as -1/1.
    """

    config_class = BertConfig

    def __init__(self, config: BertConfig, **settings):
        for name, value in settings.items():  # from_pretrained(path, pooling="mean", loss="cosent")
            setattr(config, name, value)
        super().__init__(config)
        config.pooling = getattr(config, "pooling", "pooler")  # the defaults are the original tutorial's choices
        config.loss = getattr(config, "loss", "cosine_embedding")
        config.margin = getattr(config, "margin", 0.3)
        config.threshold = getattr(config, "threshold", 0.8)
        if config.pooling not in POOLINGS or config.loss not in LOSSES:
            raise ValueError(f"pooling must be one of {POOLINGS} and loss one of {LOSSES}, "
                             f"got {config.pooling!r} and {config.loss!r}")
        self.bert = BertModel(config, add_pooling_layer=config.pooling == "pooler")
        self.post_init()

    def embed(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        """One vector per sentence, by the configured pooling (not normalised)."""
        output = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        if self.config.pooling == "pooler":
            return output.pooler_output
        if self.config.pooling == "cls":
            return output.last_hidden_state[:, 0]
        return mean_pool(output.last_hidden_state, attention_mask)

    def forward(self, input_ids_1, attention_mask_1, input_ids_2, attention_mask_2,
                token_type_ids_1=None, token_type_ids_2=None, labels=None, **kwargs):
        # **kwargs: the Trainer also passes num_items_in_batch, which a per-pair mean loss does not need
        vectors_1 = self.embed(input_ids_1, attention_mask_1, token_type_ids_1)
        vectors_2 = self.embed(input_ids_2, attention_mask_2, token_type_ids_2)
        cosine = F.cosine_similarity(vectors_1.float(), vectors_2.float())
        loss = None
        if labels is not None:
            labels = labels.float()
            if self.config.loss == "cosent":
                loss = cosent_loss(cosine, labels)
            elif self.config.loss == "contrastive":
                loss = contrastive_loss(cosine, labels, self.config.margin)
            else:  # the original loss: 1 - cos for 相似, max(0, cos - margin) for 不相似
                targets = torch.where(labels > 0, 1.0, -1.0)
                loss = nn.CosineEmbeddingLoss(margin=self.config.margin)(vectors_1, vectors_2, targets)
        return SequenceClassifierOutput(loss=loss, logits=cosine)

    def encode(self, sentences, tokenizer, batch_size: int = 64, max_length: int = 128, precision: str = "fp32",
               progress: bool | None = None) -> np.ndarray:
        """Unit-length vectors for a sequence of sentences (list, numpy array): length-sorted batches, no autograd;
        ``precision`` and ``progress`` as in ``forward_in_batches``."""
        sentences = check_sentences(sentences)
        return forward_in_batches(self, tokenizer, (sentences,), lambda inputs: F.normalize(
            self.embed(**inputs).float(), dim=-1), self.config.hidden_size, batch_size, max_length,
            precision=precision, progress=progress)


def pair_cosines(model: BiEncoder, tokenizer, dataset, batch_size: int = 64, max_length: int = 128) -> np.ndarray:
    """Cosine of each (sentence1, sentence2) of a dataset, in dataset order, via ``BiEncoder.encode``."""
    first = model.encode(dataset["sentence1"], tokenizer, batch_size, max_length)
    second = model.encode(dataset["sentence2"], tokenizer, batch_size, max_length)
    return (first * second).sum(axis=1)


# --- 3. part 2: mean pooling and two other losses ----------------------------------------------------------------

def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors, padding excluded."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


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
    return torch.logsumexp(torch.cat([zero, differences.reshape(-1)]), dim=0).clone()  # Trainer scales it in place


# --- not taught in the notebook: input validation ----------------------------------------------------------------

def check_sentences(sentences) -> list[str]:
    """A list of non-empty strings from any iterable of them, or a ``ValueError`` naming the bad one."""
    if isinstance(sentences, str):
        raise ValueError("encode takes a list of sentences, got one string: wrap it in a list")
    if isinstance(sentences, bytes) or not isinstance(sentences, Iterable):
        raise ValueError(f"encode takes a list of sentences, got {type(sentences).__name__}")
    return [check_sentence(sentence, f"sentences[{index}]") for index, sentence in enumerate(sentences)]
