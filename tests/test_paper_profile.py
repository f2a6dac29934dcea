"""The ``paper`` profile's code path, run here without the Hub or a GPU.

A model of MacBERT-base's size and shape (random weights, MacBERT's vocabulary taken from m3e-small) stands in for
``hfl/chinese-macbert-base``. Each notebook's training path runs under the paper profile's hyper-parameters for a
couple of steps on a tiny slice of the data, so that a user with a GPU and Hub access is not the first to run it.
"""
import dataclasses

import numpy as np
import pytest
import torch
from transformers import (AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel,
                          DataCollatorWithPadding, Trainer)

import textsim
import textsim.series.profiles
from textsim.biencoder import BiEncoder, PairCollator, tokenize_sides
from textsim.inference import score_pairs
from textsim.series.run import Run
from textsim.training import tokenize_pairs, training_arguments

pytestmark = pytest.mark.slow

# hfl/chinese-macbert-base's config.json, but for the weights.
MACBERT_BASE = dict(vocab_size=21128, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2)


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    """The paper profile pointed at a random-weight MacBERT-base-size folder, with tiny splits and its own root."""
    root = tmp_path_factory.mktemp("paper")
    folder = root / "macbert-base-random"
    tokenizer = AutoTokenizer.from_pretrained(textsim.resolve_model(textsim.models.OFFLINE_MODEL))
    assert len(tokenizer) == MACBERT_BASE["vocab_size"]
    torch.manual_seed(0)
    BertModel(BertConfig(**MACBERT_BASE)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    profile = dataclasses.replace(textsim.PROFILES["paper"], cross_model=str(folder), bi_model=str(folder),
                                  max_train=32, max_eval=16)
    return profile, root


def paper_run(paper, notebook: str) -> Run:
    """The notebook's run under the paper profile, its checkpoints and logs under the fixture's own root."""
    profile, root = paper
    return Run(profile, notebook, root=root)


def test_paper_profile_keeps_the_original_hyper_parameters():
    paper = textsim.PROFILES["paper"]
    assert paper.cross_model == paper.bi_model == "hfl/chinese-macbert-base"
    assert (paper.batch_size, paper.cross_lr, paper.cross_epochs, paper.weight_decay, paper.max_length) == \
        (32, 2e-5, 3, 0.01, 128)
    assert (paper.original_bi_lr, paper.original_bi_epochs, paper.max_train, paper.max_eval) == (2e-5, 3, None, None)
    assert (paper.improved_bi_lr, paper.improved_bi_epochs) == (2e-5, 3)


@pytest.mark.parametrize("num_labels", [2, 1], ids=["classification (01)", "regression (02)"])
def test_cross_encoder_trains_evaluates_and_scores(paper, num_labels):
    run = paper_run(paper, textsim.NOTEBOOKS[0] if num_labels == 2 else textsim.NOTEBOOKS[1])
    profile = run.profile
    folder = textsim.resolve_model(run.model)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    splits = textsim.load_splits(profile)
    tokenized = {name: tokenize_pairs(part, tokenizer, profile.max_length) for name, part in splits.items()}
    model = BertForSequenceClassification.from_pretrained(folder, num_labels=num_labels)
    assert model.num_parameters() > 100e6
    args = training_arguments(run, part="", learning_rate=profile.cross_lr, epochs=profile.cross_epochs, max_steps=1)
    assert (args.learning_rate, args.per_device_train_batch_size, args.weight_decay) == (2e-5, 32, 0.01)
    assert args.output_dir == str(paper[1] / "build" / "checkpoints" / "paper" / run.notebook)
    trainer = Trainer(model=model, args=args, train_dataset=tokenized["train"], callbacks=[run.tensorboard()],
                      eval_dataset=tokenized["validation"], data_collator=DataCollatorWithPadding(tokenizer),
                      processing_class=tokenizer,
                      compute_metrics=textsim.trainer_metrics(threshold=0.5 if num_labels == 1 else None))
    trainer.train()
    assert any(run.tensorboard_dir().glob("events.out.tfevents*"))  # the callback logs under the run's root
    metrics = trainer.evaluate()
    assert 0 <= metrics["eval_accuracy"] <= 1 and np.isfinite(metrics["eval_loss"])
    scores = score_pairs(trainer.model, tokenizer, [(r["sentence1"], r["sentence2"]) for r in splits["test"]])
    assert scores.shape == (len(splits["test"]),) and np.isfinite(scores).all()


def test_bi_encoder_original_recipe_trains_and_encodes(paper):
    run = paper_run(paper, "03_bi_encoder")
    profile = run.profile
    folder = textsim.resolve_model(run.model)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    splits = textsim.load_splits(profile)
    tokenized = {name: tokenize_sides(part, tokenizer, profile.max_length) for name, part in splits.items()}
    model = BiEncoder.from_pretrained(folder, pooling="pooler", loss="cosine_embedding", margin=0.3, threshold=0.8)
    args = training_arguments(run, part="original", learning_rate=profile.original_bi_lr,
                              epochs=profile.original_bi_epochs, max_steps=1, remove_unused_columns=False)
    trainer = Trainer(model=model, args=args, data_collator=PairCollator(tokenizer),
                      callbacks=[run.tensorboard("original")],
                      train_dataset=tokenized["train"], eval_dataset=tokenized["validation"],
                      compute_metrics=textsim.trainer_metrics(threshold=0.8))
    trainer.train()
    assert any(run.tensorboard_dir("original").glob("events.out.tfevents*"))
    assert run.checkpoint_dir("original") == paper[1] / "build" / "checkpoints" / "paper" / "03_bi_encoder_original"
    assert np.isfinite(trainer.evaluate()["eval_loss"])
    vectors = trainer.model.encode(splits["test"]["sentence1"][:8], tokenizer)
    assert vectors.shape == (8, 768) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
