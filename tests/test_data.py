import dataclasses
import json
from pathlib import Path

import pytest

import textsim
from textsim.data import DataError, check_sentence, load_splits, read_pairs, split_pairs

GOOD = {"sentence1": "今天天气很好", "sentence2": "今天天气不错", "label": "1"}

def assert_names(error: pytest.ExceptionInfo, path: Path, line: int | None = None):
    assert error.type is DataError
    assert isinstance(error.value, ValueError)  # DataError is a ValueError
    message = str(error.value)
    assert str(path) in message
    if line is not None:
        assert f"{path}:{line}:" in message


# --- read_pairs: bad data, one case each -------------------------------------------------------------------------

def test_missing_file(tmp_path):
    path = tmp_path / "absent.json"
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path)
    assert "not found" in str(caught.value)


def test_empty_file(write_jsonl):
    path = write_jsonl(["", "   "])
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path)
    assert "no sentence pairs" in str(caught.value)


def test_malformed_json_line(write_jsonl):
    # Line 2 is blank and skipped, but it still counts: the bad line is line 4 of the file.
    path = write_jsonl([GOOD, "", GOOD, '{"sentence1": "今天", "sentence2": "天气", "label": "1"', GOOD])
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path, 4)
    assert "malformed JSON" in str(caught.value)


@pytest.mark.parametrize("field", ["sentence1", "sentence2", "label"])
def test_missing_field(write_jsonl, field):
    bad = {key: value for key, value in GOOD.items() if key != field}
    path = write_jsonl([GOOD, GOOD, bad])
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path, 3)
    assert f"missing field {field!r}" in str(caught.value)


@pytest.mark.parametrize("field", ["sentence1", "sentence2"])
@pytest.mark.parametrize("value", ["", "   ", None, 7, ["今天"]])
def test_empty_or_non_string_sentence(write_jsonl, field, value):
    path = write_jsonl([GOOD, {**GOOD, field: value}])
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path, 2)
    assert field in str(caught.value)


@pytest.mark.parametrize("label", ["2", 2, -1, True, False, None, "yes", 1.0, " 1", "", [1]])
def test_label_outside_zero_one(write_jsonl, label):
    path = write_jsonl([GOOD, GOOD, GOOD, {**GOOD, "label": label}])
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path, 4)
    assert "label must be 0 or 1" in str(caught.value)


@pytest.mark.parametrize("line", ['["今天", "天气", 1]', '"今天"', "1", "null", "true"])
def test_non_object_json_line(write_jsonl, line):
    path = write_jsonl([GOOD, line])
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path, 2)
    assert "expected a JSON object" in str(caught.value)


def test_non_utf8_bytes_name_the_file_and_line(tmp_path):
    path = tmp_path / "pairs.json"
    good = '{"sentence1": "今天", "sentence2": "天气", "label": 1}\n'.encode()
    path.write_bytes(good * 2 + '{"sentence1": "今天'.encode("gbk") + b'", "sentence2": "x", "label": 1}\n')
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path, 3)
    assert "UTF-8" in str(caught.value)


@pytest.mark.parametrize("field", ["sentence1", "sentence2"])
def test_lone_surrogate_is_rejected(write_jsonl, field):
    path = write_jsonl([GOOD, json.dumps({**GOOD, field: "今天\ud800"})])  # ASCII JSON: "今天\\ud800"
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path, 2)
    assert field in str(caught.value) and "surrogate" in str(caught.value)


def test_a_directory_is_not_reported_as_missing(tmp_path):
    with pytest.raises(DataError) as caught:
        read_pairs(tmp_path)
    assert_names(caught, tmp_path)
    assert "is a directory" in str(caught.value) and "not found" not in str(caught.value)


@pytest.mark.parametrize("label, kind", [(1.0, "float"), ("1.0", "str"), (True, "bool")])
def test_label_error_names_the_type(write_jsonl, label, kind):
    path = write_jsonl([GOOD, {**GOOD, "label": label}])
    with pytest.raises(DataError, match=f"got {label!r} \\({kind}\\)"):
        read_pairs(path)


# --- check_sentence ----------------------------------------------------------------------------------------------

def test_check_sentence_returns_the_sentence_unchanged():
    assert check_sentence(" 今天 ", "where") == " 今天 "


@pytest.mark.parametrize("value", ["", "  ", None, 3, b"ab", "今\ud800天", "\udfff"])
def test_check_sentence_rejects(value):
    with pytest.raises(ValueError, match=r"^somewhere: sentence1 ") as caught:
        check_sentence(value, "somewhere: sentence1")
    assert caught.type is ValueError
    with pytest.raises(DataError):
        check_sentence(value, "somewhere", DataError)


# --- read_pairs: good data ---------------------------------------------------------------------------------------

def test_read_pairs_returns_int_labels_and_stripped_sentences(write_jsonl):
    path = write_jsonl([
        {"sentence1": " 今天天气很好 ", "sentence2": "天气不错\t", "label": "1"},
        "",
        {"sentence1": "我喜欢吃苹果", "sentence2": "你在哪里", "label": 0},
        {"sentence1": "胡子长得快", "sentence2": "胡子长得太快", "label": 1, "extra": "ignored"},
        {"sentence1": "一", "sentence2": "二", "label": "0"},
    ])
    rows = read_pairs(path)
    assert rows == [
        {"sentence1": "今天天气很好", "sentence2": "天气不错", "label": 1},
        {"sentence1": "我喜欢吃苹果", "sentence2": "你在哪里", "label": 0},
        {"sentence1": "胡子长得快", "sentence2": "胡子长得太快", "label": 1},
        {"sentence1": "一", "sentence2": "二", "label": 0},
    ]
    assert all(type(row["label"]) is int for row in rows)


def test_read_pairs_accepts_a_str_path(write_jsonl):
    assert len(read_pairs(str(write_jsonl([GOOD, GOOD])))) == 2


# --- split_pairs / load_splits -----------------------------------------------------------------------------------

def test_split_sizes_are_80_10_10(make_rows):
    splits = split_pairs(make_rows(200), seed=42)
    assert list(splits) == ["train", "validation", "test"]
    assert {name: len(part) for name, part in splits.items()} == {"train": 160, "validation": 20, "test": 20}


def test_split_is_deterministic_per_seed(make_rows):
    rows = make_rows(200)
    first, again, other = split_pairs(rows, seed=7), split_pairs(rows, seed=7), split_pairs(rows, seed=8)
    for name in first:
        assert first[name]["sentence1"] == again[name]["sentence1"]
    assert first["test"]["sentence1"] != other["test"]["sentence1"]
    assert first["train"]["sentence1"] != other["train"]["sentence1"]


def test_split_is_disjoint_and_covers_every_row(make_rows):
    rows = make_rows(200)
    splits = split_pairs(rows)
    parts = {name: set(part["sentence1"]) for name, part in splits.items()}
    assert sum(len(ids) for ids in parts.values()) == len(rows)  # no duplicates inside a split either
    assert parts["train"].isdisjoint(parts["validation"])
    assert parts["train"].isdisjoint(parts["test"])
    assert parts["validation"].isdisjoint(parts["test"])
    assert set.union(*parts.values()) == {row["sentence1"] for row in rows}


def test_split_keeps_each_rows_label_and_text(make_rows):
    rows = make_rows(200)
    expected = {row["sentence1"]: (row["sentence2"], row["label"]) for row in rows}
    for part in split_pairs(rows).values():
        for row in part:
            assert expected[row["sentence1"]] == (row["sentence2"], row["label"])


def test_split_is_stratified(make_rows):
    rows = make_rows(400, positive_share=0.3)
    overall = sum(row["label"] for row in rows) / len(rows)
    for seed in (3, 4, 5):  # a random split is off by a few rows for most seeds; a stratified one by <= 1
        for name, part in split_pairs(rows, seed=seed).items():
            assert abs(sum(part["label"]) - overall * len(part)) <= 1, (seed, name, sum(part["label"]))


def test_load_splits_respects_the_profile_limits(make_rows, write_jsonl):
    rows = make_rows(200)
    path = write_jsonl(rows)
    profile = dataclasses.replace(textsim.PROFILES["smoke"], max_train=30, max_eval=5, seed=11)
    splits = load_splits(profile, path=path)
    assert {name: len(part) for name, part in splits.items()} == {"train": 30, "validation": 5, "test": 5}
    full = split_pairs(read_pairs(path), seed=11)
    for name, part in splits.items():  # the first rows of the profile's seeded split
        assert part["sentence1"] == full[name]["sentence1"][:len(part)]


def test_load_splits_without_limits_or_with_large_ones_keeps_everything(make_rows, write_jsonl):
    path = write_jsonl(make_rows(100))
    expected = {"train": 80, "validation": 10, "test": 10}
    for max_train, max_eval in [(None, None), (10_000, 10_000)]:
        profile = dataclasses.replace(textsim.PROFILES["smoke"], max_train=max_train, max_eval=max_eval)
        splits = load_splits(profile, path=path)
        assert {name: len(part) for name, part in splits.items()} == expected


def test_load_splits_reports_bad_data(write_jsonl):
    path = write_jsonl([GOOD, {**GOOD, "label": "2"}])
    with pytest.raises(DataError) as caught:
        load_splits(textsim.PROFILES["smoke"], path=path)
    assert_names(caught, path, 2)


def test_split_keeps_labels_when_only_one_class_is_present(make_rows):
    rows = [dict(row, label=1) for row in make_rows(40)]
    splits = split_pairs(rows)
    assert all(label == 1 for part in splits.values() for label in part["label"])


@pytest.mark.parametrize("counts", [(1, 30), (30, 3), (2, 2), (0, 3), (0, 0)])
def test_split_of_too_few_rows_says_why(counts):
    rows = [{"sentence1": f"句{i}", "sentence2": "天气", "label": int(i >= counts[0])} for i in range(sum(counts))]
    with pytest.raises(ValueError, match=rf"cannot split {sum(counts)} pairs .*at least 10 pairs of each label"):
        split_pairs(rows)


def test_split_works_from_10_pairs_of_each_label():
    rows = [{"sentence1": f"句{i}", "sentence2": "天气", "label": int(i >= 10)} for i in range(20)]
    assert sum(len(part) for part in split_pairs(rows).values()) == 20
