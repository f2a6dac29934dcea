"""textsim.checks: each check returns what it accepts and names what it refuses."""
import pytest

from textsim.checks import check_pairs


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
