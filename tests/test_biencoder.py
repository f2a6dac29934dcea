"""textsim.biencoder: the model, its losses and pooling, the collator, and ``encode`` (unit vectors in input order,
any sequence of strings, clear errors for bad input)."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from textsim.biencoder import BiEncoder, PairCollator, configure, contrastive_loss, cosent_loss, \
    cosine_embedding_loss, mean_pool, pair_cosines, pair_loss, pool, tokenize_side, tokenize_sides
from tests.properties import EXAMPLES, check_property, valid_sentences


@pytest.fixture
def batch(pair_dataset, tokenizer):
    features = tokenize_sides(pair_dataset, tokenizer).remove_columns(["sentence1", "sentence2", "length"])
    return PairCollator(tokenizer)(list(features))


# --- forward and losses ------------------------------------------------------------------------------------------

def test_forward_returns_cosines_and_a_loss(tiny_biencoder, batch):
    output = tiny_biencoder(**batch)
    assert output.logits.shape == (len(batch["labels"]),)
    assert torch.all(output.logits >= -1 - 1e-6) and torch.all(output.logits <= 1 + 1e-6)
    assert output.loss is not None and output.loss.ndim == 0 and torch.isfinite(output.loss)
    without = tiny_biencoder(**{k: v for k, v in batch.items() if k != "labels"})
    assert without.loss is None
    torch.testing.assert_close(without.logits, output.logits)


@pytest.mark.parametrize("pooling", ["pooler", "mean", "cls"])
def test_forward_cosines_equal_encode_cosines(make_biencoder, tokenizer, pair_dataset, batch, pooling):
    # Each side is padded to its own longest: padding must not change the vectors.
    model = make_biencoder(pooling=pooling)
    with torch.no_grad():
        logits = model(**batch).logits.numpy()
    np.testing.assert_allclose(logits, pair_cosines(model, tokenizer, pair_dataset), atol=1e-5)


@pytest.mark.parametrize("pooling", ["pooler", "mean", "cls"])
@pytest.mark.parametrize("loss", ["cosine_embedding", "cosent", "contrastive"])
def test_losses_are_finite_and_give_gradients(make_biencoder, batch, pooling, loss):
    model = make_biencoder(pooling=pooling, loss=loss).train()
    output = model(**batch)
    assert torch.isfinite(output.loss) and output.loss.item() > 0
    output.loss.backward()
    gradients = [p.grad for p in model.parameters() if p.grad is not None]
    assert gradients and all(torch.isfinite(g).all() for g in gradients)
    assert model.bert.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def test_cosine_embedding_loss_value(make_biencoder, batch):
    model = make_biencoder(pooling="mean", loss="cosine_embedding", margin=0.25)
    with torch.no_grad():
        output = model(**batch)
    cosine, labels = output.logits, batch["labels"]
    expected = torch.where(labels > 0, 1 - cosine, (cosine - 0.25).clamp(min=0)).mean()
    assert output.loss.item() == pytest.approx(expected.item(), abs=1e-5)


def test_contrastive_loss_hand_computed():
    cosine, labels = torch.tensor([0.9, 0.8, 0.3]), torch.tensor([1.0, 0.0, 0.0])
    # d = 1 - cos = 0.1, 0.2, 0.7: the 相似 pair costs d², a 不相似 one (0.5 - d)² below the margin, else nothing
    expected = 0.5 * (0.1 ** 2 + 0.3 ** 2 + 0) / 3
    assert contrastive_loss(cosine, labels, margin=0.5).item() == pytest.approx(expected, rel=1e-5)


def test_cosent_loss_hand_computed():
    cosine = torch.tensor([0.9, 0.2, 0.5], dtype=torch.float64)
    labels = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    # positive 0 against negatives 1 and 2
    expected = np.log(1 + np.exp(20 * (0.2 - 0.9)) + np.exp(20 * (0.5 - 0.9)))
    assert cosent_loss(cosine, labels).item() == pytest.approx(expected, rel=1e-9)
    # the same order of negatives and positives, shuffled: the same loss
    assert cosent_loss(cosine[[2, 0, 1]], labels[[2, 0, 1]]).item() == pytest.approx(expected, rel=1e-9)


def test_cosent_loss_prefers_positives_above_negatives():
    labels = torch.tensor([1.0, 1.0, 0.0, 0.0])
    right = cosent_loss(torch.tensor([0.9, 0.8, 0.1, 0.2]), labels)
    wrong = cosent_loss(torch.tensor([0.1, 0.2, 0.9, 0.8]), labels)
    assert right < 0.01 < 10 < wrong
    assert cosent_loss(torch.tensor([0.3, 0.7]), torch.tensor([1.0, 1.0])).item() == pytest.approx(0.0)


def test_cosent_loss_scale():
    cosine, labels = torch.tensor([0.4, 0.5]), torch.tensor([1.0, 0.0])
    assert cosent_loss(cosine, labels, scale=1.0).item() == pytest.approx(np.log(1 + np.exp(0.1)), rel=1e-5)


# --- pooling and configuration -----------------------------------------------------------------------------------

def test_mean_pool_ignores_padding():
    hidden = torch.randn(2, 4, 3)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    pooled = mean_pool(hidden, mask)
    torch.testing.assert_close(pooled[0], hidden[0, :2].mean(0))
    torch.testing.assert_close(pooled[1], hidden[1].mean(0))
    changed = hidden.clone()
    changed[0, 2:] = 1000.0
    torch.testing.assert_close(mean_pool(changed, mask), pooled)


def test_mean_pool_all_padding_is_zero_not_nan():
    pooled = mean_pool(torch.randn(1, 3, 2), torch.zeros(1, 3, dtype=torch.long))
    assert torch.equal(pooled, torch.zeros(1, 2))


@pytest.mark.parametrize("settings", [{"pooling": "max"}, {"loss": "mse"}, {"pooling": "MEAN"}])
def test_invalid_pooling_or_loss(tiny_config, settings):
    name = next(iter(settings))
    with pytest.raises(ValueError, match=rf"{name} must be one of .*, got '{settings[name]}'"):
        BiEncoder(tiny_config(), **settings)


def test_defaults_and_settings(tiny_config):
    default = BiEncoder(tiny_config())
    assert (default.config.pooling, default.config.loss, default.config.margin, default.config.threshold) == \
        ("pooler", "cosine_embedding", 0.3, 0.8)
    assert default.bert.pooler is not None
    custom = BiEncoder(tiny_config(), pooling="cls", loss="cosent", margin=0.5, threshold=0.7)
    assert (custom.config.pooling, custom.config.loss, custom.config.margin, custom.config.threshold) == \
        ("cls", "cosent", 0.5, 0.7)
    assert custom.bert.pooler is None  # no unused pooler weights without pooler pooling


def test_save_and_load_round_trip(make_biencoder, tokenizer, tmp_path):
    model = make_biencoder(pooling="mean", loss="cosent", threshold=0.66, margin=0.2)
    model.save_pretrained(tmp_path)
    loaded = BiEncoder.from_pretrained(tmp_path)
    assert (loaded.config.pooling, loaded.config.loss, loaded.config.threshold, loaded.config.margin) == \
        ("mean", "cosent", 0.66, 0.2)
    assert not loaded.training
    sentences = ["今天天气很好", "我喜欢吃苹果你在哪里", "一"]
    np.testing.assert_array_equal(loaded.encode(sentences, tokenizer), model.encode(sentences, tokenizer))
    for (name, value), (_, other) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(value, other), name


def test_from_pretrained_settings_override_the_saved_config(make_biencoder, tmp_path):
    make_biencoder(pooling="mean").save_pretrained(tmp_path)
    loaded = BiEncoder.from_pretrained(tmp_path, threshold=0.5, loss="cosent")
    assert (loaded.config.pooling, loaded.config.loss, loaded.config.threshold) == ("mean", "cosent", 0.5)


# --- pair_cosines (encode itself: the last section) ---------------------------------------------------------

def test_pair_cosines(tiny_biencoder, tokenizer, pair_dataset):
    cosines = pair_cosines(tiny_biencoder, tokenizer, pair_dataset, batch_size=2)
    first = tiny_biencoder.encode(pair_dataset["sentence1"], tokenizer)
    second = tiny_biencoder.encode(pair_dataset["sentence2"], tokenizer)
    assert cosines.shape == (len(pair_dataset),)
    np.testing.assert_allclose(cosines, [a @ b for a, b in zip(first, second)], atol=1e-5)
    assert np.all(np.abs(cosines) <= 1 + 1e-5)


# --- data preparation --------------------------------------------------------------------------------------------

def test_tokenize_sides(pair_dataset, tokenizer):
    encoded = tokenize_sides(pair_dataset, tokenizer, max_length=10)
    assert set(encoded.column_names) == {"sentence1", "sentence2", "label", "input_ids_1", "attention_mask_1",
                                         "input_ids_2", "attention_mask_2", "length"}
    for row in encoded:
        for side in ("1", "2"):
            expected = tokenizer(row[f"sentence{side}"], truncation=True, max_length=10)["input_ids"]
            assert row[f"input_ids_{side}"] == expected
            assert row[f"attention_mask_{side}"] == [1] * len(expected)
        assert row["length"] == max(len(row["input_ids_1"]), len(row["input_ids_2"]))
    assert max(len(ids) for ids in encoded["input_ids_2"]) == 10


def test_tokenize_sides_length_is_the_longer_side(pair_dataset, tokenizer):
    """The sampler groups by the longer side: each side is padded apart, so the longer one sets a pair's cost."""
    encoded = tokenize_sides(pair_dataset, tokenizer)
    # sentence_pairs' characters (3, 9), (15, 2), (1, 1), (20, 17), (6, 6), (11, 4), (2, 25), + [CLS] and [SEP]
    assert encoded["length"] == [11, 17, 3, 22, 8, 13, 27]


@pytest.mark.parametrize("side", ["1", "2"])
def test_tokenize_side_names_the_keys_by_side(tokenizer, side):
    sentences = ["今天天气很好", "你在哪里这是一个测试句子"]
    encoded = tokenize_side(tokenizer, sentences, side, max_length=8)
    assert set(encoded) == {f"input_ids_{side}", f"attention_mask_{side}"}  # no token_type_ids: one sentence each
    expected = tokenizer(sentences, truncation=True, max_length=8)
    assert encoded[f"input_ids_{side}"] == expected["input_ids"]
    assert encoded[f"attention_mask_{side}"] == expected["attention_mask"]
    assert [len(ids) for ids in encoded[f"input_ids_{side}"]] == [8, 8]  # truncated: 6 and 12 characters + 2


def test_tokenize_side_passes_tokenizer_options(tokenizer):
    encoded = tokenize_side(tokenizer, "今天天气很好", "1", return_tensors="pt")
    assert isinstance(encoded["input_ids_1"], torch.Tensor) and encoded["input_ids_1"].shape == (1, 8)


def test_pair_collator_pads_each_side_to_its_own_longest(tokenizer):
    features = [
        {"input_ids_1": [2, 5, 3], "attention_mask_1": [1, 1, 1], "input_ids_2": [2, 6, 7, 8, 9, 3],
         "attention_mask_2": [1] * 6, "label": 1, "length": 9},
        {"input_ids_1": [2, 5, 6, 7, 3], "attention_mask_1": [1] * 5, "input_ids_2": [2, 3],
         "attention_mask_2": [1, 1], "label": 0, "length": 7},
    ]
    batch = PairCollator(tokenizer)(features)
    assert set(batch) == {"input_ids_1", "attention_mask_1", "input_ids_2", "attention_mask_2", "labels"}
    assert batch["input_ids_1"].tolist() == [[2, 5, 3, 0, 0], [2, 5, 6, 7, 3]]
    assert batch["attention_mask_1"].tolist() == [[1, 1, 1, 0, 0], [1] * 5]
    assert batch["input_ids_2"].tolist() == [[2, 6, 7, 8, 9, 3], [2, 3, 0, 0, 0, 0]]
    assert batch["attention_mask_2"].tolist() == [[1] * 6, [1, 1, 0, 0, 0, 0]]
    assert batch["labels"].dtype == torch.float and batch["labels"].tolist() == [1.0, 0.0]


def test_pair_collator_labels_key_and_no_labels(tokenizer):
    features = [{"input_ids_1": [2, 3], "attention_mask_1": [1, 1], "input_ids_2": [2, 5, 3],
                 "attention_mask_2": [1, 1, 1], "labels": 1}]
    assert PairCollator(tokenizer)(features)["labels"].tolist() == [1.0]
    del features[0]["labels"]
    assert "labels" not in PairCollator(tokenizer)(features)


# --- the real model ----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_real_m3e_small_ranks_a_paraphrase_above_an_unrelated_pair():
    from transformers import AutoTokenizer

    import textsim

    path = textsim.resolve_model("m3e-small")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = BiEncoder.from_pretrained(path, pooling="mean")
    vectors = model.encode(["胡子长得太快怎么办？", "胡子长得快怎么办？", "我想买一台新电脑"], tokenizer)
    paraphrase, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert paraphrase > unrelated + 0.1
    assert paraphrase > 0.9


def test_encode_of_nothing_is_empty(tiny_biencoder, tokenizer):
    assert tiny_biencoder.encode([], tokenizer).shape == (0, tiny_biencoder.config.hidden_size)


# --- encode ----------------------------------------------------------------------------------------------------

def test_encode_unit_vectors_in_input_order(tiny_biencoder, tokenizer, sentence_pairs):
    sentences = [s for pair in sentence_pairs for s in pair]
    vectors = tiny_biencoder.encode(sentences, tokenizer, batch_size=3)
    assert vectors.shape == (len(sentences), tiny_biencoder.config.hidden_size)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    alone = np.stack([tiny_biencoder.encode([s], tokenizer)[0] for s in sentences])
    np.testing.assert_allclose(vectors, alone, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])


def test_encode_accepts_a_tuple_and_turns_dropout_off(tiny_biencoder, tokenizer):
    tiny_biencoder.train()
    first = tiny_biencoder.encode(("今天天气很好", "你在哪里"), tokenizer)
    second = tiny_biencoder.encode(["今天天气很好", "你在哪里"], tokenizer)
    assert not tiny_biencoder.training
    np.testing.assert_array_equal(first, second)


def test_encode_truncates(tiny_biencoder, tokenizer):
    long = "今天天气很好" * 50
    np.testing.assert_allclose(tiny_biencoder.encode([long], tokenizer, max_length=12),
                               tiny_biencoder.encode([long[:10]], tokenizer), atol=1e-5)


@pytest.mark.parametrize("sentences", ["今天天气很好", ["今天", ""], ["今天", "  "], ["今天", None], [3]])
def test_encode_rejects_bad_input(tiny_biencoder, tokenizer, sentences):
    with pytest.raises(ValueError):
        tiny_biencoder.encode(sentences, tokenizer)


def test_encode_accepts_a_numpy_array(tiny_biencoder, tokenizer):
    sentences = ["今天天气很好", "你在哪里", "我喜欢吃苹果"]
    np.testing.assert_array_equal(tiny_biencoder.encode(np.array(sentences), tokenizer),
                                  tiny_biencoder.encode(sentences, tokenizer))


@pytest.mark.parametrize("sentences, message", [
    (np.array(["今天", " "]), r"sentences\[1\] must be a non-empty string"),
    (["今天", "今\ud800"], r"sentences\[1\] holds a lone surrogate"),
    (None, "encode takes a list of sentences, got NoneType"),
    (3, "encode takes a list of sentences, got int"),
])
def test_encode_names_the_bad_input(tiny_biencoder, tokenizer, sentences, message):
    with pytest.raises(ValueError, match=message):
        tiny_biencoder.encode(sentences, tokenizer)


@pytest.mark.parametrize("max_length", [0, -1, 2.5, "64", True, None])
def test_encode_rejects_a_bad_max_length(tiny_biencoder, tokenizer, max_length):
    with pytest.raises(ValueError, match="max_length must be a positive integer"):
        tiny_biencoder.encode(["今天"], tokenizer, max_length=max_length)


def test_encode_caps_max_length_at_the_model_positions(make_biencoder, tokenizer):
    model = make_biencoder(pooling="mean")
    long = "今天天气很好" * 50
    np.testing.assert_array_equal(model.encode([long], tokenizer, max_length=1024),
                                  model.encode([long], tokenizer, max_length=model.config.max_position_embeddings))


@pytest.mark.parametrize("pooling", ["mean", "cls", "pooler"])
def test_encode_equals_encoding_each_sentence_on_its_own(make_biencoder, tokenizer, sentence_pairs, pooling):
    """Batched, length-sorted and padded, each vector is the one of its sentence run alone through ``embed``."""
    import torch
    import torch.nn.functional as F

    model = make_biencoder(pooling=pooling)
    sentences = [s for pair in sentence_pairs for s in pair]
    with torch.no_grad():
        expected = np.stack([F.normalize(model.embed(**tokenizer(s, return_tensors="pt")), dim=-1)[0].numpy()
                             for s in sentences])
    for batch_size in (1, 4, 64):
        np.testing.assert_allclose(model.encode(sentences, tokenizer, batch_size=batch_size), expected, atol=1e-5)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_any_valid_sentences_get_finite_unit_vectors(make_biencoder, tokenizer, examples):
    """Every pooling: emoji, combining marks, zero-width and control characters, 10,000-character lines."""
    models = [make_biencoder(pooling=pooling) for pooling in ("mean", "cls", "pooler")]

    def check(sentences):
        for model in models:
            vectors = model.encode(sentences, tokenizer)
            assert vectors.shape == (len(sentences), model.config.hidden_size) and np.isfinite(vectors).all()
            np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    check_property(st.lists(valid_sentences(), min_size=1, max_size=5), examples, check)


def test_pool_takes_the_pooler_the_cls_vector_or_the_masked_mean():
    hidden = torch.arange(12, dtype=torch.float).reshape(1, 3, 4)
    output = SimpleNamespace(last_hidden_state=hidden, pooler_output=torch.full((1, 4), 7.0))
    mask = torch.tensor([[1, 1, 0]])
    assert torch.equal(pool(output, mask, "pooler"), torch.full((1, 4), 7.0))
    assert torch.equal(pool(output, mask, "cls"), hidden[:, 0])
    assert torch.equal(pool(output, mask, "mean"), hidden[:, :2].mean(1))


def test_cosine_embedding_loss_maps_labels_1_0_to_1_minus_1():
    first, second = torch.randn(6, 5), torch.randn(6, 5)
    labels = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    expected = torch.nn.CosineEmbeddingLoss(margin=0.3)(first, second, 2 * labels - 1)
    torch.testing.assert_close(cosine_embedding_loss(first, second, labels, 0.3), expected)


@pytest.mark.parametrize("loss", ["cosine_embedding", "contrastive", "cosent"])
def test_pair_loss_dispatches_by_name(loss):
    first, second = torch.randn(4, 3), torch.randn(4, 3)
    cosine = torch.cosine_similarity(first, second)
    labels = torch.tensor([1.0, 0.0, 1.0, 0.0])
    expected = {"cosine_embedding": lambda: cosine_embedding_loss(first, second, labels, 0.4),
                "contrastive": lambda: contrastive_loss(cosine, labels, 0.4),
                "cosent": lambda: cosent_loss(cosine, labels)}[loss]()
    torch.testing.assert_close(pair_loss(loss, first, second, cosine, labels, 0.4), expected)


def test_configure_prefers_passed_then_saved_then_default(tiny_config):
    config = tiny_config()
    config.pooling, config.threshold = "mean", 0.66  # as if saved with the model
    configure(config, loss="contrastive")
    assert (config.pooling, config.loss, config.margin, config.threshold) == ("mean", "contrastive", 0.3, 0.66)
