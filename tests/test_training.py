import os
import random

import numpy as np
import pytest
import torch

import textsim
import textsim.training
from textsim.training import tokenize_pairs, training_arguments


def test_tokenize_pairs_segments_and_no_padding(pair_dataset, tokenizer):
    encoded = tokenize_pairs(pair_dataset, tokenizer)
    assert set(encoded.column_names) == {"input_ids", "token_type_ids", "attention_mask", "label"}
    assert encoded["label"] == pair_dataset["label"]
    lengths = set()
    for row, source in zip(encoded, pair_dataset):
        first, second = len(source["sentence1"]), len(source["sentence2"])  # one token per character
        ids, types = row["input_ids"], row["token_type_ids"]
        assert len(ids) == first + second + 3  # [CLS] s1 [SEP] s2 [SEP]
        assert ids[0] == tokenizer.cls_token_id
        assert ids[first + 1] == tokenizer.sep_token_id and ids[-1] == tokenizer.sep_token_id
        assert types == [0] * (first + 2) + [1] * (second + 1)
        assert row["attention_mask"] == [1] * len(ids)
        assert tokenizer.pad_token_id not in ids
        lengths.add(len(ids))
    assert len(lengths) > 1  # each pair keeps its own length: no padding to a common length


def test_tokenize_pairs_truncates(pair_dataset, tokenizer):
    encoded = tokenize_pairs(pair_dataset, tokenizer, max_length=8)
    assert max(len(ids) for ids in encoded["input_ids"]) == 8
    for types in encoded["token_type_ids"]:
        assert types[0] == 0 and types[-1] == 1  # both sentences survive truncation
        assert types == sorted(types)


@pytest.fixture
def isolated_root(tmp_path, monkeypatch):
    """A run's folders point into tmp_path (``make_run``); TENSORBOARD_LOGGING_DIR is set to a value
    that training_arguments must leave alone; no GPU."""
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", "left-alone")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    return tmp_path


def test_training_arguments(isolated_root, make_run):
    run = make_run("01_cross_encoder_classification", seed=123, batch_size=8, warmup=0.1)
    args = training_arguments(run, part="cross", learning_rate=3e-4, epochs=2)
    assert args.seed == 123 and args.data_seed == 123
    assert args.train_sampling_strategy == "group_by_length"
    assert args.eval_strategy == "epoch" and args.save_strategy == "epoch"
    assert args.load_best_model_at_end is True
    assert args.metric_for_best_model == "accuracy"
    assert args.report_to == []  # "none": TensorBoard comes as the callback run.tensorboard(part)
    assert args.learning_rate == 3e-4 and args.num_train_epochs == 2
    assert args.per_device_train_batch_size == 8 and args.per_device_eval_batch_size == 16
    assert args.weight_decay == run.profile.weight_decay
    assert args.get_warmup_steps(100) == 10  # warmup is a fraction of the steps
    assert (args.bf16, args.fp16) == (False, False)  # CPU
    assert args.output_dir == str(run.checkpoint_dir("cross"))
    assert args.output_dir == str(isolated_root / "build" / "checkpoints" / "unit" /
                                  "01_cross_encoder_classification_cross")
    assert list(isolated_root.iterdir()) == []  # nothing written before training


def test_training_arguments_of_the_only_model_of_a_notebook(isolated_root, make_run):
    run = make_run("02_cross_encoder_regression")
    args = training_arguments(run, part="", learning_rate=1e-4, epochs=1)
    assert args.output_dir == str(isolated_root / "build" / "checkpoints" / "unit" / "02_cross_encoder_regression")


def test_training_arguments_needs_a_notebook(isolated_root, make_run):
    with pytest.raises(ValueError, match="no notebook"):
        training_arguments(make_run(None), part="", learning_rate=1e-4, epochs=1)


def test_training_arguments_leaves_the_environment_alone(isolated_root, make_run):
    before = dict(os.environ)
    training_arguments(make_run("01_cross_encoder_classification"), part="cross", learning_rate=1e-4, epochs=1)
    assert dict(os.environ) == before
    assert os.environ["TENSORBOARD_LOGGING_DIR"] == "left-alone"


def test_training_arguments_does_not_reseed(isolated_root, make_run):
    """Seeding is the Trainer's job (``seed=profile.seed``): building the arguments leaves every generator alone."""
    run = make_run("01_cross_encoder_classification", seed=321)

    def draw():
        return torch.rand(3), np.random.rand(3), random.random()

    for seed in (1, 321):
        torch.manual_seed(seed), np.random.seed(seed), random.seed(seed)
        expected = draw()
        torch.manual_seed(seed), np.random.seed(seed), random.seed(seed)
        training_arguments(run, part="run", learning_rate=1e-4, epochs=1)
        drawn = draw()
        assert torch.equal(drawn[0], expected[0])
        np.testing.assert_array_equal(drawn[1], expected[1])
        assert drawn[2] == expected[2]
    torch.manual_seed(1)
    first = torch.rand(3)
    torch.manual_seed(1)
    training_arguments(run, part="run", learning_rate=1e-4, epochs=1)
    assert torch.equal(torch.rand(3), first)


def test_training_arguments_overrides(isolated_root, make_run):
    args = training_arguments(make_run("01_cross_encoder_classification"), part="", learning_rate=1e-4, epochs=1, logging_steps=3,
                              eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
                              train_sampling_strategy="sequential", output_dir=str(isolated_root / "elsewhere"))
    assert args.logging_steps == 3
    assert args.eval_strategy == "no"
    assert args.train_sampling_strategy == "sequential"
    assert args.output_dir == str(isolated_root / "elsewhere")


def test_training_arguments_bf16_on_a_bf16_gpu(isolated_root, monkeypatch, make_run):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    # TrainingArguments itself checks the hardware; only the flags it is given matter here.
    captured = {}
    monkeypatch.setattr(textsim.training, "TrainingArguments", lambda **settings: captured.update(settings))
    training_arguments(make_run("01_cross_encoder_classification"), part="", learning_rate=1e-4, epochs=1)
    assert captured["bf16"] is True and captured["fp16"] is False


def test_memory_is_pinned_only_for_a_gpu(make_run, monkeypatch):
    """On the CPU, pin_memory=True only makes torch warn (with the machine's paths) and does nothing."""
    monkeypatch.setattr(textsim.training, "pick_device", lambda: torch.device("cpu"))
    run = make_run("pin")
    args = training_arguments(run, part="", learning_rate=1e-4, epochs=1)
    assert args.dataloader_pin_memory is False


def test_warmup_is_a_share_of_the_steps(make_run):
    """``Profile.warmup`` goes to ``warmup_steps``: transformers 5 reads a value below 1 there as a share."""
    args = training_arguments(make_run("warmup", base="local"), part="", learning_rate=1e-4, epochs=2)
    assert textsim.PROFILES["local"].warmup == 0.1 and args.get_warmup_steps(500) == 50
    paper = training_arguments(make_run("warmup", base="paper"), part="", learning_rate=2e-5, epochs=3)
    assert paper.get_warmup_steps(750) == 0
