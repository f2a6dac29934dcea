"""textsim.padding: tokens computed per real token, for random and for length-grouped batches."""
import numpy as np
import pytest
import torch

from textsim.padding import padding_cost


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
