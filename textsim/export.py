"""Saving the trained models so that sentence-transformers loads them and gives our scores.

Taught in notebooks 02 (``save_for_cross_encoder``) and 03 (``save_for_sentence_transformers``). The folders still
load with ``from_pretrained`` as before; sentence-transformers is imported only inside these functions.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import torch
from torch import nn

IDENTITY = "torch.nn.modules.linear.Identity"
SIGMOID = "torch.nn.modules.activation.Sigmoid"


def save_for_sentence_transformers(model, tokenizer, folder, max_length: int = 128) -> Path:
    """Save a ``BiEncoder`` so that ``SentenceTransformer(folder).encode(sentences)`` equals ``model.encode``.

    The modules: the BERT encoder, the model's pooling (mean; or the [CLS] vector, which the pooler recipe then
    passes through its dense layer and tanh), unit length. ``BiEncoder.from_pretrained(folder)`` still loads the
    folder, with its pooling and threshold (``config.threshold``; sentence-transformers has no threshold).
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Dense, Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    folder = Path(folder)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    hidden, pooling = model.config.hidden_size, model.config.pooling
    # The pooler's weights stay in the encoder's file (BiEncoder.from_pretrained needs them); for sentence-
    # transformers they are copied into a Dense module after [CLS] pooling, the pooler's own computation.
    encoder = Transformer(str(folder), max_seq_length=max_length,
                          model_kwargs={"add_pooling_layer": pooling == "pooler"})
    modules = [encoder, Pooling(hidden, pooling_mode="mean" if pooling == "mean" else "cls")]
    if pooling == "pooler":
        dense = Dense(hidden, hidden, activation_function=nn.Tanh())
        dense.linear.load_state_dict(model.bert.pooler.dense.state_dict())
        modules.append(dense)
    SentenceTransformer(modules=[*modules, Normalize()], device="cpu").save(str(folder))
    if pooling != "pooler":  # loaded without a pooler, none is created and reported as newly initialised
        update_json(folder / "sentence_bert_config.json", model_kwargs={"add_pooling_layer": False})
    return folder


def save_for_cross_encoder(model, tokenizer, folder, max_length: int = 128) -> Path:
    """Save a cross-encoder so that ``CrossEncoder(folder).predict(pairs)`` equals ``score_pairs``.

    One output (notebook 02's regression): saved as it is, with no activation (CrossEncoder would otherwise apply a
    sigmoid to it). Two labels (notebook 01): softmax(l)[1] = sigmoid(l1 - l0), so a copy whose head outputs
    l1 - l0 under a sigmoid gives P(相似) exactly, and a single output lets ``CrossEncoder.rank`` order candidates.
    Pairs are cut at ``max_length`` tokens, as ``score_pairs`` cuts them. ``model`` itself is left unchanged.
    """
    folder = Path(folder)
    labels = model.config.num_labels
    if labels == 1:
        exported, activation = model, IDENTITY
    elif labels == 2:
        exported, activation = one_output_copy(model), SIGMOID
    else:
        raise ValueError(f"a similarity cross-encoder has 1 or 2 outputs, this model has {labels}")
    exported.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    update_json(folder / "config.json", sentence_transformers={"activation_fn": activation})
    update_json(folder / "tokenizer_config.json", model_max_length=max_length)  # CrossEncoder truncates here
    return folder


def update_json(path: Path, **fields) -> None:
    """Set top-level ``fields`` in a saved JSON file."""
    record = json.loads(path.read_text(encoding="utf-8"))
    record.update(fields)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def one_output_copy(model):
    """A copy of a two-label classifier whose linear head outputs the logit difference l1 - l0."""
    head = getattr(model, "classifier", None)
    if not isinstance(head, nn.Linear) or head.out_features != 2:
        raise ValueError(f"{type(model).__name__}: expected a linear two-label head `classifier`, "
                         f"found {type(head).__name__}; save it with save_pretrained instead")
    single = copy.deepcopy(model)
    single.classifier = nn.Linear(head.in_features, 1, device=head.weight.device, dtype=head.weight.dtype)
    with torch.no_grad():
        single.classifier.weight.copy_(head.weight[1:] - head.weight[:1])
        single.classifier.bias.copy_(head.bias[1:] - head.bias[:1])
    single.config = copy.deepcopy(model.config)
    single.config.num_labels = 1
    single.config.id2label, single.config.label2id = {0: "相似"}, {"相似": 0}
    return single
