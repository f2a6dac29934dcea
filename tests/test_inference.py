import math

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from tests.properties import EXAMPLES, SENTENCES, check_property, is_text, valid_sentences
from textsim import checks, device, inference
from textsim.data import LABEL_NAMES
from textsim.inference import length_sorted_batches, predict_pairs, score_pairs


@pytest.mark.parametrize("batch_size", [1, 3, 4, 100])
def test_length_sorted_batches_cover_every_index_once_longest_first(batch_size):
    lengths = [5, 17, 3, 17, 9, 1, 12, 12, 30, 2]
    batches = list(length_sorted_batches(lengths, batch_size))
    assert len(batches) == math.ceil(len(lengths) / batch_size)
    assert all(1 <= len(batch) <= batch_size for batch in batches)
    order = np.concatenate(batches)
    assert sorted(order.tolist()) == list(range(len(lengths)))
    ordered_lengths = [lengths[i] for i in order]
    assert ordered_lengths == sorted(lengths, reverse=True)


def test_length_sorted_batches_keep_the_order_of_equal_lengths():
    assert np.concatenate(list(length_sorted_batches([4, 4, 4, 4, 4], 2))).tolist() == [0, 1, 2, 3, 4]


def test_length_sorted_batches_empty_and_invalid():
    assert list(length_sorted_batches([], 4)) == []
    with pytest.raises(ValueError):
        list(length_sorted_batches([1, 2], 0))


def direct_score(model, tokenizer, pair):
    """P(相似) for one pair, without any batching."""
    inputs = tokenizer(pair[0], pair[1], return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits
    return logits.softmax(-1)[0, 1].item() if logits.shape[-1] == 2 else logits[0, 0].item()


def test_score_pairs_in_dataset_order(tiny_cross_encoder, tokenizer, sentence_pairs):
    scores = score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, batch_size=3)
    assert scores.shape == (len(sentence_pairs),)
    assert scores.dtype == np.float32
    alone = [score_pairs(tiny_cross_encoder, tokenizer, [pair])[0] for pair in sentence_pairs]
    np.testing.assert_allclose(scores, alone, atol=1e-5)
    direct = [direct_score(tiny_cross_encoder, tokenizer, pair) for pair in sentence_pairs]
    np.testing.assert_allclose(scores, direct, atol=1e-5)
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.ptp(scores) > 0  # not a constant: the test would not see a shuffle otherwise


def test_score_pairs_batch_size_does_not_change_scores(tiny_cross_encoder, tokenizer, sentence_pairs):
    one = score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, batch_size=1)
    many = score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, batch_size=64)
    np.testing.assert_allclose(one, many, atol=1e-5)


def test_score_pairs_single_output_is_the_raw_score(tiny_config, tokenizer, sentence_pairs):
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_config(num_labels=1)).eval()
    scores = score_pairs(model, tokenizer, sentence_pairs, batch_size=2)
    np.testing.assert_allclose(scores, [direct_score(model, tokenizer, p) for p in sentence_pairs], atol=1e-5)


def test_score_pairs_switches_dropout_off(tiny_cross_encoder, tokenizer, sentence_pairs):
    tiny_cross_encoder.train()
    first = score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs)
    second = score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs)
    assert not tiny_cross_encoder.training
    np.testing.assert_array_equal(first, second)


def test_score_pairs_truncates_to_max_length(tiny_cross_encoder, tokenizer):
    long_pair = ("今天天气很好" * 40, "我喜欢吃苹果" * 40)  # 480 characters: longer than the 128 positions
    truncated = score_pairs(tiny_cross_encoder, tokenizer, [long_pair], max_length=16)
    inputs = tokenizer(*long_pair, truncation=True, max_length=16, return_tensors="pt")
    assert inputs["input_ids"].shape[1] == 16
    with torch.no_grad():
        expected = tiny_cross_encoder(**inputs).logits.softmax(-1)[0, 1].item()
    assert truncated[0] == pytest.approx(expected, abs=1e-5)
    assert np.isfinite(score_pairs(tiny_cross_encoder, tokenizer, [long_pair])).all()


def test_score_pairs_validates_input(tiny_cross_encoder, tokenizer):
    with pytest.raises(ValueError):
        score_pairs(tiny_cross_encoder, tokenizer, [("今天", "")])


def test_predict_pairs_labels_by_threshold(tiny_cross_encoder, tokenizer, sentence_pairs):
    scores = score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs)
    threshold = float(np.median(scores))
    predictions = predict_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, threshold, batch_size=2)
    assert [p["score"] for p in predictions] == pytest.approx(scores.tolist(), abs=1e-6)
    assert all(type(p["score"]) is float for p in predictions)
    assert [p["label"] for p in predictions] == [LABEL_NAMES[int(s >= threshold)] for s in scores]
    assert {p["label"] for p in predictions} == {"相似", "不相似"}
    assert {p["label"] for p in predictions_at(tiny_cross_encoder, tokenizer, sentence_pairs, 0.0)} == {"相似"}
    assert {p["label"] for p in predictions_at(tiny_cross_encoder, tokenizer, sentence_pairs, 1.01)} == {"不相似"}


def predictions_at(model, tokenizer, pairs, threshold):
    return predict_pairs(model, tokenizer, pairs, threshold)


def test_score_pairs_of_nothing_is_empty(tiny_cross_encoder, tokenizer):
    from textsim.inference import score_pairs

    assert score_pairs(tiny_cross_encoder, tokenizer, []).shape == (0,)


def test_score_pairs_caps_max_length_at_the_model_positions(tiny_config, tokenizer):
    from transformers import BertForSequenceClassification

    from textsim.inference import score_pairs

    model = BertForSequenceClassification(tiny_config(num_labels=2, max_position_embeddings=16)).eval()
    assert score_pairs(model, tokenizer, [("今" * 40, "天" * 40)], max_length=128).shape == (1,)


BAD_MAX_LENGTHS = [0, -1, 2.5, "64", True, None]
BAD_THRESHOLDS = [float("nan"), float("inf"), -float("inf"), "high", None]


@pytest.mark.parametrize("max_length", BAD_MAX_LENGTHS)
def test_score_pairs_rejects_a_bad_max_length(tiny_cross_encoder, tokenizer, max_length):
    with pytest.raises(ValueError, match="max_length must be a positive integer"):
        score_pairs(tiny_cross_encoder, tokenizer, [("今天", "天气")], max_length=max_length)


def test_score_pairs_accepts_a_numpy_max_length(tiny_cross_encoder, tokenizer, sentence_pairs):
    np.testing.assert_array_equal(score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, max_length=np.int64(8)),
                                  score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, max_length=8))


@pytest.mark.parametrize("threshold", BAD_THRESHOLDS)
def test_predict_pairs_rejects_a_non_finite_threshold(tiny_cross_encoder, tokenizer, threshold):
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        predict_pairs(tiny_cross_encoder, tokenizer, [("今天", "天气")], threshold)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "4", None])
def test_length_sorted_batches_name_a_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        list(length_sorted_batches([1, 2, 3], batch_size))


def test_autocast_does_nothing_by_default_or_on_a_cpu_without_native_bf16(monkeypatch):
    import contextlib

    from textsim.inference import autocast

    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset())
    assert isinstance(autocast(torch.device("cpu")), contextlib.nullcontext)
    assert isinstance(autocast(torch.device("cpu"), "auto", rows=64), contextlib.nullcontext)


def test_autocast_auto_is_bf16_on_a_cpu_with_native_bf16_for_large_batches_only(monkeypatch):
    import contextlib

    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"amx_bf16"}))
    context = inference.autocast(torch.device("cpu"), "auto", rows=64)
    assert isinstance(context, torch.autocast) and context.fast_dtype == torch.bfloat16
    assert isinstance(inference.autocast(torch.device("cpu"), "auto", rows=1), contextlib.nullcontext)
    assert isinstance(inference.autocast(torch.device("cpu"), rows=64), contextlib.nullcontext)  # default: fp32


def test_score_pairs_precision_bf16_stays_close_to_fp32_and_auto_follows_the_cpu(tiny_cross_encoder, tokenizer,
                                                                                 sentence_pairs, monkeypatch):
    fp32 = score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, precision="fp32")
    bf16 = score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, precision="bf16")
    assert not np.array_equal(fp32, bf16)  # bf16 really ran: its rounding shows
    np.testing.assert_allclose(bf16, fp32, atol=0.02)
    np.testing.assert_array_equal(score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs), fp32)  # the default
    big = device.BF16_MIN_ROWS
    pairs = (sentence_pairs * big)[:big]  # one batch of exactly BF16_MIN_ROWS rows
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset())  # a CPU without bf16: "auto" is fp32
    np.testing.assert_array_equal(score_pairs(tiny_cross_encoder, tokenizer, pairs, big, precision="auto"),
                                  score_pairs(tiny_cross_encoder, tokenizer, pairs, big, precision="fp32"))
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    for batch in (1, big - 1, big):  # "auto": fp32 in batches below BF16_MIN_ROWS rows, bf16 from there on
        expected = "fp32" if batch < big else "bf16"
        np.testing.assert_array_equal(score_pairs(tiny_cross_encoder, tokenizer, pairs, batch, precision="auto"),
                                      score_pairs(tiny_cross_encoder, tokenizer, pairs, batch, precision=expected))


def test_score_pairs_names_a_bad_precision(tiny_cross_encoder, tokenizer, sentence_pairs):
    with pytest.raises(ValueError, match="precision must be one of"):
        score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, precision="int8")


@pytest.mark.parametrize("progress, over, shown", [(True, 1000, True), (False, 0, False), (None, 1000, False),
                                                   (None, 2, True)])
def test_progress_bar_when_asked_or_over_the_threshold(tiny_cross_encoder, tokenizer, sentence_pairs, capsys,
                                                        monkeypatch, progress, over, shown):
    """Outside a notebook tqdm draws on stderr; ``progress=None`` draws only for more than PROGRESS_OVER texts."""
    monkeypatch.setattr(checks, "PROGRESS_OVER", over)
    score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, batch_size=2, progress=progress)
    assert (f"/{len(sentence_pairs)} [" in capsys.readouterr().err) == shown


@pytest.mark.parametrize("progress", ["yes", 1, 0.5])
def test_progress_must_be_true_false_or_none(tiny_cross_encoder, tokenizer, sentence_pairs, progress):
    with pytest.raises(ValueError, match="progress must be True, False or None"):
        score_pairs(tiny_cross_encoder, tokenizer, sentence_pairs, progress=progress)


def test_predict_pairs_a_score_equal_to_the_threshold_is_similar(tiny_config, tokenizer, sentence_pairs):
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_config(num_labels=1)).eval()
    scores = score_pairs(model, tokenizer, sentence_pairs)
    predictions = predict_pairs(model, tokenizer, sentence_pairs, float(scores[0]))
    assert predictions[0]["label"] == "相似"
    assert [p["score"] for p in predictions] == pytest.approx(scores.tolist(), abs=1e-6)


# --- forward_in_batches: the one batching loop under score_pairs and BiEncoder.encode ---

def real_lengths(inputs):
    """One value per row: its number of real (unpadded) tokens."""
    return inputs["attention_mask"].sum(-1)


def lengths_and_first_ids(inputs):
    """One vector of 2 per row: its real length and the id of its first token after [CLS]."""
    return torch.stack([inputs["attention_mask"].sum(-1), inputs["input_ids"][:, 1]], dim=-1)


@pytest.mark.parametrize("order", ["ascending", "descending", "mixed"])
@pytest.mark.parametrize("batch_size", [1, 2, 3, 64])
def test_forward_in_batches_gives_rows_in_input_order(tiny_cross_encoder, tokenizer, order, batch_size):
    from textsim.inference import forward_in_batches

    lengths = {"ascending": [1, 2, 4, 7, 11, 15], "descending": [15, 11, 7, 4, 2, 1],
               "mixed": [4, 15, 1, 11, 2, 7]}[order]
    sentences = ["今天天气很好我喜欢吃苹果你在哪"[:n] for n in lengths]
    rows = forward_in_batches(tiny_cross_encoder, tokenizer, (sentences,), real_lengths, batch_size=batch_size)
    assert rows.shape == (len(sentences),) and rows.dtype == np.float32
    assert rows.tolist() == [n + 2 for n in lengths]  # [CLS] sentence [SEP]


def test_forward_in_batches_pairs_in_input_order(tiny_cross_encoder, tokenizer, sentence_pairs):
    from textsim.inference import forward_in_batches

    texts = ([a for a, _ in sentence_pairs], [b for _, b in sentence_pairs])
    rows = forward_in_batches(tiny_cross_encoder, tokenizer, texts, real_lengths, batch_size=2)
    assert rows.tolist() == [len(a) + len(b) + 3 for a, b in sentence_pairs]  # [CLS] a [SEP] b [SEP]


def test_forward_in_batches_with_a_width_gives_one_vector_per_text(tiny_cross_encoder, tokenizer):
    from textsim.inference import forward_in_batches

    sentences = ["你在哪里这是一个测试", "今", "我喜欢吃", "天气很好"]
    rows = forward_in_batches(tiny_cross_encoder, tokenizer, (sentences,), lengths_and_first_ids, width=2,
                              batch_size=3)
    assert rows.shape == (4, 2) and rows.dtype == np.float32
    expected = [[len(s) + 2, tokenizer.convert_tokens_to_ids(s[0])] for s in sentences]
    assert rows.tolist() == expected


@pytest.mark.parametrize("width, shape", [(None, (0,)), (5, (0, 5))])
def test_forward_in_batches_of_nothing_is_empty(tiny_cross_encoder, tokenizer, width, shape):
    from textsim.inference import forward_in_batches

    rows = forward_in_batches(tiny_cross_encoder, tokenizer, ([],), lambda inputs: pytest.fail("called"), width)
    assert rows.shape == shape and rows.dtype == np.float32
    pairs = forward_in_batches(tiny_cross_encoder, tokenizer, ([], []), lambda inputs: pytest.fail("called"), width)
    assert pairs.shape == shape


@pytest.mark.parametrize("positions, max_length, longest", [(16, 128, 16), (128, 8, 8), (128, 128, 42)])
def test_forward_in_batches_caps_max_length(tiny_config, tokenizer, positions, max_length, longest):
    from transformers import BertForSequenceClassification

    from textsim.inference import forward_in_batches

    model = BertForSequenceClassification(tiny_config(max_position_embeddings=positions)).eval()
    sentences = ["今" * 40, "天气", "我" * 10]
    rows = forward_in_batches(model, tokenizer, (sentences,), real_lengths, max_length=max_length)
    assert rows.tolist() == [min(n, longest) for n in (42, 4, 12)]


def test_forward_in_batches_runs_in_eval_mode_without_autograd(tiny_cross_encoder, tokenizer):
    from textsim.inference import forward_in_batches

    seen = []

    def forward(inputs):
        seen.append((tiny_cross_encoder.training, torch.is_grad_enabled()))
        return real_lengths(inputs)

    tiny_cross_encoder.train()
    forward_in_batches(tiny_cross_encoder, tokenizer, (["今天", "天气很好"],), forward, batch_size=1)
    assert seen == [(False, False), (False, False)]


@pytest.mark.parametrize("max_length", BAD_MAX_LENGTHS)
def test_forward_in_batches_rejects_a_bad_max_length(tiny_cross_encoder, tokenizer, max_length):
    from textsim.inference import forward_in_batches

    with pytest.raises(ValueError, match="max_length must be a positive integer"):
        forward_in_batches(tiny_cross_encoder, tokenizer, (["今天"],), real_lengths, max_length=max_length)


@pytest.mark.parametrize("num_labels", [2, 1])
def test_score_pairs_equals_an_unbatched_computation(tiny_config, tokenizer, sentence_pairs, num_labels):
    """Length-sorted, padded batches change nothing: each score is the one of the pair scored on its own."""
    from transformers import BertForSequenceClassification

    torch.manual_seed(1)
    model = BertForSequenceClassification(tiny_config(num_labels=num_labels)).eval()
    pairs = sentence_pairs + [(b, a) for a, b in sentence_pairs]
    expected = [direct_score(model, tokenizer, pair) for pair in pairs]
    for batch_size in (1, 3, 64):
        np.testing.assert_allclose(score_pairs(model, tokenizer, pairs, batch_size=batch_size), expected, atol=1e-5)


# --- properties (hypothesis): any sentences give finite scores of the right shape, or a ValueError naming them ----

@pytest.mark.parametrize("examples", EXAMPLES)
def test_any_valid_pairs_get_finite_scores_of_the_right_shape(tiny_cross_encoder, tokenizer, examples):
    pairs = st.lists(st.tuples(valid_sentences(), valid_sentences()), min_size=1, max_size=4)

    def check(found_pairs):
        scores = score_pairs(tiny_cross_encoder, tokenizer, found_pairs)
        assert scores.shape == (len(found_pairs),) and np.isfinite(scores).all()
        assert ((0 <= scores) & (scores <= 1)).all()  # P(相似)

    check_property(pairs, examples, check)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_any_pair_with_a_sentence_that_is_not_text_is_refused_by_index(tiny_cross_encoder, tokenizer, examples):
    bad = SENTENCES.filter(lambda s: not is_text(s))
    cases = st.tuples(st.lists(st.tuples(valid_sentences(), valid_sentences()), max_size=3), bad, st.booleans())

    def check(case):
        good, sentence, first = case
        pairs = [*good, (sentence, "今天") if first else ("今天", sentence)]
        with pytest.raises(ValueError, match=rf"pairs\[{len(good)}\] sentence {1 if first else 2}"):
            score_pairs(tiny_cross_encoder, tokenizer, pairs)

    check_property(cases, examples, check)
