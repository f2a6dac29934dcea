import dataclasses
import os
import random

import numpy as np
import pytest
import torch
from datasets import Dataset

import textsim
import textsim.training
from textsim.run import Run
from textsim.training import padding_cost, tokenize_pairs, training_arguments


@pytest.fixture
def pair_dataset():
    return Dataset.from_list([
        {"sentence1": "今天天气很好", "sentence2": "天气不错", "label": 1},
        {"sentence1": "我", "sentence2": "你在哪里这是一个测试句子", "label": 0},
        {"sentence1": "胡子长得太快怎么办", "sentence2": "胡子长得快怎么办", "label": 1},
    ])


def test_tokenize_pairs_segments_and_no_padding(pair_dataset, tokenizer):
    encoded = tokenize_pairs(pair_dataset, tokenizer)
    assert set(encoded.column_names) == {"input_ids", "token_type_ids", "attention_mask", "label"}
    assert encoded["label"] == [1, 0, 1]
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
    assert len(lengths) == 3  # each pair keeps its own length: no padding to a common length


def test_tokenize_pairs_truncates(pair_dataset, tokenizer):
    encoded = tokenize_pairs(pair_dataset, tokenizer, max_length=8)
    assert max(len(ids) for ids in encoded["input_ids"]) == 8
    for types in encoded["token_type_ids"]:
        assert types[0] == 0 and types[-1] == 1  # both sentences survive truncation
        assert types == sorted(types)


def test_padding_cost_grouping_pads_less():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 120, size=640)
    cost = padding_cost(lengths, batch_size=16, seed=0)
    assert 1.0 <= cost["grouped"] < cost["random"]
    assert cost["grouped_batch_max_mean"] < cost["random_batch_max_mean"]
    assert cost["real_tokens_mean"] == pytest.approx(lengths.mean())
    assert cost["fixed_128"] == pytest.approx(128 * len(lengths) / lengths.sum())
    assert padding_cost(lengths, batch_size=16, seed=0) == cost  # seeded


def test_padding_cost_equal_lengths_cost_nothing():
    cost = padding_cost([10] * 50, batch_size=8)
    assert cost["random"] == pytest.approx(1.0)
    assert cost["grouped"] == pytest.approx(1.0)


def test_padding_cost_hand_computed_random_order():
    # One batch holding everything: each pair is padded to the longest (4), whatever the order.
    cost = padding_cost([1, 2, 3, 4], batch_size=4)
    assert cost["random"] == pytest.approx(4 * 4 / 10)
    assert cost["grouped"] == pytest.approx(4 * 4 / 10)


def collated_tokens(tokenizer, sides, order, batch_size: int) -> int:
    """Brute force: the tokens PairCollator actually pads the batches of ``order`` to, both sides."""
    from textsim.biencoder import PairCollator

    features = [{"input_ids_1": [5] * a, "attention_mask_1": [1] * a, "input_ids_2": [5] * b,
                 "attention_mask_2": [1] * b} for a, b in sides]
    collate, total = PairCollator(tokenizer), 0
    for start in range(0, len(order), batch_size):
        batch = collate([features[i] for i in order[start:start + batch_size]])
        total += batch["input_ids_1"].numel() + batch["input_ids_2"].numel()
    return total


def test_padding_cost_two_sides_equals_the_collated_count(tokenizer):
    """Each side padded to its own longest; orders as padding_cost draws them (random, then the sampler)."""
    from transformers.trainer_pt_utils import LengthGroupedSampler

    sides = np.random.default_rng(3).integers(2, 40, size=(203, 2))  # 203: the last batch is partial
    for group_by in (None, sides.sum(axis=1)):
        cost = padding_cost(sides, batch_size=8, seed=5, group_by=group_by)
        generator = torch.Generator().manual_seed(5)
        random_order = torch.randperm(len(sides), generator=generator).tolist()
        key = sides.max(axis=1) if group_by is None else group_by
        grouped_order = list(LengthGroupedSampler(8, lengths=key.tolist(), generator=generator))
        real = sides.sum()
        assert cost["real_tokens_mean"] == pytest.approx(real / 203)
        assert cost["fixed_128"] == pytest.approx(256 / cost["real_tokens_mean"])
        assert cost["random"] * real == pytest.approx(collated_tokens(tokenizer, sides, random_order, 8))
        assert cost["grouped"] * real == pytest.approx(collated_tokens(tokenizer, sides, grouped_order, 8))


def test_padding_cost_of_a_pair_is_the_sum_of_its_sides_longest():
    # One batch: side 1 padded to 7, side 2 to 9, whatever the order or grouping.
    cost = padding_cost([[7, 1], [2, 9], [3, 3]], batch_size=3)
    assert cost["random"] == cost["grouped"] == pytest.approx(3 * (7 + 9) / 25)
    assert cost["grouped_batch_max_mean"] == 16


def test_grouping_by_the_longer_side_pads_less_than_by_the_sum():
    """Long-short, short-long and middling pairs have the same sum: grouped by it they share batches, and every
    batch pads both sides long. Grouped by the longer side, the middling pairs form batches of their own."""
    sides = np.array([[60, 10], [10, 60], [35, 35]] * 32)
    by_sum = padding_cost(sides, batch_size=4, seed=0, group_by=sides.sum(axis=1))
    by_longer = padding_cost(sides, batch_size=4, seed=0)  # the default: tokenize_sides' length
    assert by_longer == padding_cost(sides, batch_size=4, seed=0, group_by=sides.max(axis=1))
    assert by_longer["random"] == by_sum["random"]
    assert by_longer["grouped"] < by_sum["grouped"] <= by_sum["random"]
    assert by_longer["grouped_batch_max_mean"] < by_sum["grouped_batch_max_mean"]


@pytest.mark.parametrize("lengths, group_by, message", [
    ([], None, "token counts"),
    ([3.5, 4.0], None, "token counts"),
    ([[3, 4, 5]], [1, 2], "one length per pair"),
    ([[3, 4], [0, 2]], None, "pair 1 has 0"),
])
def test_padding_cost_refuses_bad_lengths(lengths, group_by, message):
    with pytest.raises(ValueError, match=message):
        padding_cost(lengths, batch_size=2, group_by=group_by)


@pytest.fixture
def isolated_root(tmp_path, monkeypatch):
    """A run's folders point into tmp_path (``Run(..., root=tmp_path)``); TENSORBOARD_LOGGING_DIR is set to a value
    that training_arguments must leave alone; no GPU."""
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", "left-alone")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    return tmp_path


def unit_run(root, notebook="01_cross_encoder_classification", **changes):
    return Run(dataclasses.replace(textsim.PROFILES["smoke"], name="unit", **changes), notebook, root=root)


def test_training_arguments(isolated_root):
    run = unit_run(isolated_root, seed=123, batch_size=8, warmup=0.1)
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


def test_training_arguments_of_the_only_model_of_a_notebook(isolated_root):
    run = unit_run(isolated_root, notebook="02_cross_encoder_regression")
    args = training_arguments(run, part="", learning_rate=1e-4, epochs=1)
    assert args.output_dir == str(isolated_root / "build" / "checkpoints" / "unit" / "02_cross_encoder_regression")


def test_training_arguments_needs_a_notebook(isolated_root):
    with pytest.raises(ValueError, match="no notebook"):
        training_arguments(unit_run(isolated_root, notebook=None), part="", learning_rate=1e-4, epochs=1)


def test_training_arguments_leaves_the_environment_alone(isolated_root):
    before = dict(os.environ)
    training_arguments(unit_run(isolated_root), part="cross", learning_rate=1e-4, epochs=1)
    assert dict(os.environ) == before
    assert os.environ["TENSORBOARD_LOGGING_DIR"] == "left-alone"


def test_training_arguments_does_not_reseed(isolated_root):
    """Seeding is the Trainer's job (``seed=profile.seed``): building the arguments leaves every generator alone."""
    run = unit_run(isolated_root, seed=321)

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


def test_training_arguments_overrides(isolated_root):
    args = training_arguments(unit_run(isolated_root), part="", learning_rate=1e-4, epochs=1, logging_steps=3,
                              eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
                              train_sampling_strategy="sequential", output_dir=str(isolated_root / "elsewhere"))
    assert args.logging_steps == 3
    assert args.eval_strategy == "no"
    assert args.train_sampling_strategy == "sequential"
    assert args.output_dir == str(isolated_root / "elsewhere")


def test_training_arguments_bf16_on_a_bf16_gpu(isolated_root, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    # TrainingArguments itself checks the hardware; only the flags it is given matter here.
    captured = {}
    monkeypatch.setattr(textsim.training, "TrainingArguments", lambda **settings: captured.update(settings))
    training_arguments(unit_run(isolated_root), part="", learning_rate=1e-4, epochs=1)
    assert captured["bf16"] is True and captured["fp16"] is False


def test_memory_is_pinned_only_for_a_gpu(tmp_path, monkeypatch):
    """On the CPU, pin_memory=True only makes torch warn (with the machine's paths) and does nothing."""
    monkeypatch.setattr(textsim.training, "pick_device", lambda: torch.device("cpu"))
    run = Run(textsim.PROFILES["smoke"], "pin", root=tmp_path)
    args = training_arguments(run, part="", learning_rate=1e-4, epochs=1)
    assert args.dataloader_pin_memory is False


def test_warmup_is_a_share_of_the_steps(tmp_path):
    """``Profile.warmup`` goes to ``warmup_steps``: transformers 5 reads a value below 1 there as a share."""
    profiles = textsim.PROFILES
    args = training_arguments(Run(profiles["local"], "warmup", root=tmp_path), part="", learning_rate=1e-4, epochs=2)
    assert profiles["local"].warmup == 0.1 and args.get_warmup_steps(500) == 50
    paper = training_arguments(Run(profiles["paper"], "warmup", root=tmp_path), part="", learning_rate=2e-5, epochs=3)
    assert paper.get_warmup_steps(750) == 0
