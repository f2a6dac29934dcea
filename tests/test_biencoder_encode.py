"""``BiEncoder.encode``: unit vectors in input order, any sequence of strings, clear errors for bad input."""
import numpy as np
import pytest
from hypothesis import strategies as st

from tests.properties import EXAMPLES, check_property, valid_sentences


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
