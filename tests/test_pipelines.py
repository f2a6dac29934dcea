import subprocess
import sys

import numpy as np
import pytest
import transformers
from transformers.pipelines import PIPELINE_REGISTRY

import textsim.pipelines
from textsim.pipelines import TASK, SentenceSimilarityPipeline, register_pipeline

PAIR = ("今天天气很好", "今天天气不错")


@pytest.fixture(autouse=True)
def _registered():
    register_pipeline()


def cosine(model, tokenizer, first, second, **kwargs):
    a, b = model.encode([first, second], tokenizer, **kwargs)
    return float(a @ b)


@pytest.fixture
def pipe(tiny_biencoder, tokenizer):
    return transformers.pipeline("sentence-similarity", model=tiny_biencoder, tokenizer=tokenizer)


def test_task_is_registered():
    assert TASK == "sentence-similarity"
    assert TASK in PIPELINE_REGISTRY.get_supported_tasks()
    _, options, _ = PIPELINE_REGISTRY.check_task(TASK)
    assert options["impl"] is SentenceSimilarityPipeline
    assert options["pt"] == (textsim.pipelines.BiEncoder,)


def test_importing_the_module_registers_nothing():
    code = ("import textsim.pipelines\nfrom transformers.pipelines import PIPELINE_REGISTRY\n"
            "assert 'sentence-similarity' not in PIPELINE_REGISTRY.supported_tasks")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_register_pipeline_registers_once_and_again_after_removal(monkeypatch):
    monkeypatch.delitem(PIPELINE_REGISTRY.supported_tasks, TASK)
    with pytest.raises(KeyError, match="Unknown task"):
        transformers.pipeline("sentence-similarity")
    calls = []
    original = PIPELINE_REGISTRY.register_pipeline
    monkeypatch.setattr(PIPELINE_REGISTRY, "register_pipeline", lambda *a, **k: calls.append(a) or original(*a, **k))
    register_pipeline()
    register_pipeline()  # a second call changes nothing (transformers would warn "Overwriting pipeline")
    assert calls == [(TASK,)]
    assert PIPELINE_REGISTRY.check_task(TASK)[1]["impl"] is SentenceSimilarityPipeline


def test_pipeline_is_the_custom_class(pipe):
    assert isinstance(pipe, SentenceSimilarityPipeline)


def test_tuple_pair(pipe, tiny_biencoder, tokenizer):
    result = pipe(PAIR)
    assert set(result) == {"score", "label"}
    assert type(result["score"]) is float
    assert result["score"] == pytest.approx(cosine(tiny_biencoder, tokenizer, *PAIR), abs=1e-5)
    assert result["label"] == ("相似" if result["score"] >= tiny_biencoder.config.threshold else "不相似")


def test_dict_and_list_pair_equal_the_tuple(pipe):
    expected = pipe(PAIR)
    assert pipe({"text": PAIR[0], "text_pair": PAIR[1]}) == expected
    assert pipe(list(PAIR)) == expected  # a list of two strings is one pair too


@pytest.mark.parametrize("batch_size", [None, 2])
@pytest.mark.parametrize("pooling", ["mean", "cls", "pooler"])
def test_list_of_pairs_in_order(make_biencoder, tokenizer, sentence_pairs, batch_size, pooling):
    model = make_biencoder(pooling=pooling)
    pipe = transformers.pipeline("sentence-similarity", model=model, tokenizer=tokenizer)
    inputs = [*sentence_pairs[:3], {"text": sentence_pairs[3][0], "text_pair": sentence_pairs[3][1]},
              *sentence_pairs[4:]]
    kwargs = {} if batch_size is None else {"batch_size": batch_size}
    results = pipe(inputs, **kwargs)
    assert isinstance(results, list) and len(results) == len(sentence_pairs)
    expected = [cosine(model, tokenizer, a, b) for a, b in sentence_pairs]
    np.testing.assert_allclose([r["score"] for r in results], expected, atol=1e-5)


def test_a_list_with_one_pair_gives_a_list(pipe):
    results = pipe([PAIR])
    assert isinstance(results, list) and len(results) == 1
    assert results[0] == pipe(PAIR)


def test_threshold_argument_decides_the_label(pipe):
    score = pipe(PAIR)["score"]
    assert pipe(PAIR, threshold=score - 1e-4)["label"] == "相似"
    assert pipe(PAIR, threshold=score + 1e-4)["label"] == "不相似"
    assert pipe(PAIR, threshold=0)["label"] == "相似"  # 0 is a threshold, not "unset"
    assert pipe(PAIR, threshold=1.01)["score"] == pytest.approx(score)


def test_config_threshold_is_the_default(pipe, tiny_biencoder):
    score = pipe(PAIR)["score"]
    tiny_biencoder.config.threshold = score - 1e-4
    assert pipe(PAIR)["label"] == "相似"
    tiny_biencoder.config.threshold = score + 1e-4
    assert pipe(PAIR)["label"] == "不相似"
    assert pipe(PAIR, threshold=score - 1e-4)["label"] == "相似"  # the argument wins


def test_return_vectors(pipe, tiny_biencoder, tokenizer):
    result = pipe(PAIR, return_vectors=True)
    assert set(result) == {"score", "label", "vectors_1", "vectors_2"}
    first, second = np.array(result["vectors_1"]), np.array(result["vectors_2"])
    assert first.shape == second.shape == (tiny_biencoder.config.hidden_size,)
    expected = tiny_biencoder.encode(list(PAIR), tokenizer)
    np.testing.assert_allclose(first, expected[0], atol=1e-5)
    np.testing.assert_allclose(second, expected[1], atol=1e-5)
    assert float(first @ second) == pytest.approx(result["score"], abs=1e-5)
    assert set(pipe(PAIR, return_vectors=False)) == {"score", "label"}


def test_return_vectors_for_a_batch(pipe):
    results = pipe([PAIR, ("你在哪里", "我在学校")], return_vectors=True, batch_size=2)
    assert all(len(r["vectors_1"]) == len(r["vectors_2"]) == 32 for r in results)


def test_over_long_text_is_truncated(pipe, tiny_biencoder, tokenizer):
    long_first, long_second = "今天天气很好" * 60, "我喜欢吃苹果" * 60  # 360 characters, 128 positions
    result = pipe((long_first, long_second))
    assert np.isfinite(result["score"])
    limit = tiny_biencoder.config.max_position_embeddings
    assert result["score"] == pytest.approx(
        cosine(tiny_biencoder, tokenizer, long_first, long_second, max_length=limit), abs=1e-5)


def test_max_length_argument(pipe, tiny_biencoder, tokenizer):
    first, second = "今天天气很好我喜欢吃苹果", "你在哪里这是一个测试句子"
    result = pipe((first, second), max_length=6)
    assert result["score"] == pytest.approx(cosine(tiny_biencoder, tokenizer, first, second, max_length=6),
                                            abs=1e-5)
    assert result["score"] != pytest.approx(pipe((first, second))["score"], abs=1e-4)


@pytest.mark.parametrize("inputs", [
    "", "今天", None, 3, [("a",)], ("a", ""), ("", "a"), [("a", None)], [("a", "b", "c")],
    {"text": "今天"}, {"text": "今天", "text_pair": " "}, [PAIR, ("a", "")],
])
def test_bad_inputs_raise_value_error(pipe, inputs):
    with pytest.raises(ValueError):
        pipe(inputs)


def test_pipeline_from_a_saved_folder(make_biencoder, tokenizer, tmp_path):
    model = make_biencoder(pooling="mean", threshold=0.42)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    reloaded = transformers.pipeline("sentence-similarity", model=str(tmp_path))
    assert isinstance(reloaded.model, textsim.pipelines.BiEncoder)
    assert reloaded.model.config.threshold == 0.42 and reloaded.model.config.pooling == "mean"
    assert reloaded(PAIR)["score"] == pytest.approx(cosine(model, tokenizer, *PAIR), abs=1e-5)


def test_a_model_in_training_mode_is_scored_without_dropout(make_biencoder, tokenizer, sentence_pairs):
    model = make_biencoder(hidden_dropout_prob=0.5).train()
    pipe = transformers.pipeline("sentence-similarity", model=model, tokenizer=tokenizer)
    first, second = pipe(sentence_pairs), pipe(sentence_pairs)
    assert [r["score"] for r in first] == [r["score"] for r in second]


def test_an_empty_list_gives_an_empty_list(pipe):
    assert pipe([]) == []


def test_max_length_is_capped_at_the_model_positions(pipe):
    long_pair = ("今天天气很好" * 60, "我喜欢吃苹果" * 60)
    assert pipe(long_pair, max_length=1024)["score"] == pytest.approx(pipe(long_pair)["score"], abs=1e-6)


@pytest.mark.parametrize("max_length", [0, -1, 2.5, "8", True])
def test_a_bad_max_length_is_named(pipe, max_length):
    with pytest.raises(ValueError, match="max_length must be a positive integer"):
        pipe(PAIR, max_length=max_length)


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), -float("inf"), "high"])
def test_a_non_finite_threshold_is_named(pipe, threshold):
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        pipe(PAIR, threshold=threshold)


@pytest.mark.parametrize("inputs, side", [
    (("你好", None), 2), (("你好", 3), 2), ([None, "你好"], 1), (("你好", "\ud800"), 2), ({"text": "你好"}, 2),
])
def test_a_bad_sentence_of_one_pair_is_named(pipe, inputs, side):
    with pytest.raises(ValueError, match=rf"^inputs sentence {side} "):
        pipe(inputs)


def test_a_bad_item_of_a_batch_of_two_is_named(pipe):
    with pytest.raises(ValueError, match=r"^inputs\[1\] must be a pair"):
        pipe([PAIR, None])
    with pytest.raises(ValueError, match=r"^inputs\[1\] sentence 2 "):
        pipe([PAIR, ("你好", None)])



@pytest.mark.parametrize("max_length", [None, 6])
def test_preprocess_gives_the_ids_of_tokenize_sides(pipe, tokenizer, sentence_pairs, max_length):
    """The pipeline and training tokenize each side the same way (both through ``tokenize_side``)."""
    from datasets import Dataset

    from textsim.biencoder import tokenize_sides

    dataset = Dataset.from_list([{"sentence1": a, "sentence2": b} for a, b in sentence_pairs])
    trained = tokenize_sides(dataset, tokenizer, max_length=max_length or 128)
    for (first, second), row in zip(sentence_pairs, trained):
        inputs = pipe.preprocess({"text": first, "text_pair": second}, max_length=max_length)
        assert set(inputs) == {"input_ids_1", "attention_mask_1", "input_ids_2", "attention_mask_2"}
        for key, value in inputs.items():
            assert value.tolist() == [row[key]], key
