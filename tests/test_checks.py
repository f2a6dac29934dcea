"""textsim.checks: each check returns what it accepts and names what it refuses."""
import pytest

from textsim.checks import as_pipeline_inputs, check_choice, check_pairs


@pytest.mark.parametrize("pairs", [
    "", "今天", b"ab", None, 3, 3.5,
    [("今天",)], [("今天", "天气", "好")], ["今天"], [None], [3],
    [("今天", "")], [("今天", "   ")], [("", "天气")], [("今天", None)], [(None, "天气")], [("今天", 3)],
    [{"text": "今天"}], [{"text_pair": "天气"}], [{"text": "", "text_pair": "天气"}],
])
def test_check_pairs_rejects(pairs):
    with pytest.raises(ValueError):
        check_pairs(pairs)


def test_check_pairs_names_the_bad_item():
    with pytest.raises(ValueError, match=r"batch\[2\] sentence 2"):
        check_pairs([("a", "b"), ("c", "d"), ("e", "")], where="batch")


def test_check_pairs_accepts_tuples_lists_and_dicts():
    pairs = [("今天", "天气"), ["你好", "好"], {"text": "我", "text_pair": "你"}]
    assert check_pairs(pairs) == [("今天", "天气"), ("你好", "好"), ("我", "你")]
    assert check_pairs(()) == []


def test_check_pairs_rejects_a_lone_surrogate():
    with pytest.raises(ValueError, match=r"pairs\[1\] sentence 1 holds a lone surrogate"):
        check_pairs([("今天", "天气"), ("今\ud800", "天气")])


def test_as_pipeline_inputs_one_pair_becomes_one_dict_a_list_a_list():
    assert as_pipeline_inputs(("甲", "乙")) == {"text": "甲", "text_pair": "乙"}
    assert as_pipeline_inputs({"text": "甲", "text_pair": "乙"}) == {"text": "甲", "text_pair": "乙"}
    assert as_pipeline_inputs([("甲", "乙"), ["丙", "丁"]]) == [{"text": "甲", "text_pair": "乙"},
                                                             {"text": "丙", "text_pair": "丁"}]
    assert as_pipeline_inputs([]) == []


def test_as_pipeline_inputs_names_the_bad_pair():
    with pytest.raises(ValueError, match=r"inputs sentence 2 must be a non-empty string"):
        as_pipeline_inputs(("你好", None))
    with pytest.raises(ValueError, match=r"inputs\[1\] must be a pair"):
        as_pipeline_inputs([("甲", "乙"), ("丙",)])


def test_check_choice():
    assert check_choice("mean", ("mean", "cls"), "pooling") == "mean"
    with pytest.raises(ValueError, match=r"pooling must be one of \('mean', 'cls'\), got 'max'"):
        check_choice("max", ("mean", "cls"), "pooling")
