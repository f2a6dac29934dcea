import dataclasses
import hashlib
from collections import Counter
from pathlib import Path

import pytest

import textsim
import textsim.data
from textsim.data import DATA_FILE, DATA_SHA256, DataError, ensure_data, load_splits, read_pairs, split_pairs, \
    verify_checksum

REAL_SHARED = Path("/work/shared/data") / DATA_FILE
GOOD = {"sentence1": "今天天气很好", "sentence2": "今天天气不错", "label": "1"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


# --- verify_checksum ---------------------------------------------------------------------------------------------

def test_verify_checksum_accepts_the_right_hash(write_jsonl):
    path = write_jsonl([GOOD])
    verify_checksum(path, sha256(path))  # no error


def test_verify_checksum_rejects_a_wrong_hash(write_jsonl):
    path = write_jsonl([GOOD])
    with pytest.raises(DataError) as caught:
        verify_checksum(path, "0" * 64)
    assert_names(caught, path)
    assert sha256(path) in str(caught.value) and "0" * 64 in str(caught.value)


def test_verify_checksum_defaults_to_the_data_hash(write_jsonl):
    path = write_jsonl([GOOD])
    with pytest.raises(DataError, match=DATA_SHA256):
        verify_checksum(path)


def test_verify_checksum_missing_file(tmp_path):
    with pytest.raises(DataError) as caught:
        verify_checksum(tmp_path / "absent.json", "0" * 64)
    assert_names(caught, tmp_path / "absent.json")


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


# --- ensure_data -------------------------------------------------------------------------------------------------

@pytest.fixture
def no_download(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("ensure_data tried to download")

    monkeypatch.setattr(textsim.data.urllib.request, "urlretrieve", refuse)


@pytest.fixture
def small_data(write_jsonl, monkeypatch):
    """A small pair file whose hash ``ensure_data`` accepts (verify_checksum's default is bound at import)."""
    path = write_jsonl([GOOD, GOOD], name="shared_copy.json")
    monkeypatch.setattr(verify_checksum, "__defaults__", (sha256(path),))
    return path


def test_ensure_data_copies_the_shared_file(tmp_path, small_data, no_download):
    target = tmp_path / "data" / DATA_FILE
    assert ensure_data(target=target, shared=small_data, url="http://invalid.invalid/") == target
    assert target.read_bytes() == small_data.read_bytes()
    assert not target.with_suffix(".part").exists()


def test_ensure_data_keeps_a_good_target(tmp_path, small_data, no_download):
    target = tmp_path / DATA_FILE
    target.write_bytes(small_data.read_bytes())
    mtime = target.stat().st_mtime_ns
    assert ensure_data(target=target, shared=tmp_path / "absent.json") == target
    assert target.stat().st_mtime_ns == mtime


def test_ensure_data_rejects_a_corrupted_target(tmp_path, small_data, no_download):
    target = tmp_path / DATA_FILE
    target.write_bytes(small_data.read_bytes() + b"\n")
    with pytest.raises(DataError) as caught:
        ensure_data(target=target, shared=small_data)
    assert_names(caught, target)


def test_ensure_data_rejects_a_corrupted_shared_copy(tmp_path, small_data, no_download):
    shared = tmp_path / "shared" / DATA_FILE
    shared.parent.mkdir()
    shared.write_bytes(small_data.read_bytes().replace("今天".encode(), "明天".encode()))
    target = tmp_path / "data" / DATA_FILE
    with pytest.raises(DataError, match="sha256"):
        ensure_data(target=target, shared=shared)
    assert not target.exists()


def test_ensure_data_downloads_when_there_is_no_shared_copy(tmp_path, small_data, monkeypatch):
    fetched = []

    def fake_urlretrieve(url, destination):
        fetched.append(url)
        Path(destination).write_bytes(small_data.read_bytes())

    monkeypatch.setattr(textsim.data.urllib.request, "urlretrieve", fake_urlretrieve)
    target = tmp_path / "data" / DATA_FILE
    assert ensure_data(target=target, shared=tmp_path / "absent.json", url="http://example.invalid/x") == target
    assert fetched == ["http://example.invalid/x"]
    assert target.read_bytes() == small_data.read_bytes()


@pytest.mark.skipif(not REAL_SHARED.is_file(), reason="the shared data file is not on this machine")
def test_ensure_data_with_the_real_shared_file(tmp_path, no_download):
    target = tmp_path / "data" / DATA_FILE
    assert ensure_data(target=target, shared=REAL_SHARED) == target
    assert sha256(target) == DATA_SHA256
    rows = read_pairs(target)
    assert len(rows) == 10_000
    assert Counter(row["label"] for row in rows).keys() == {0, 1}

    corrupted = tmp_path / "corrupted" / DATA_FILE
    corrupted.parent.mkdir()
    corrupted.write_bytes(REAL_SHARED.read_bytes()[:-10])
    other_target = tmp_path / "other" / DATA_FILE
    with pytest.raises(DataError, match=DATA_SHA256):
        ensure_data(target=other_target, shared=corrupted)
    assert not other_target.exists()


def test_split_keeps_labels_when_only_one_class_is_present(make_rows):
    from textsim.data import split_pairs

    rows = [dict(row, label=1) for row in make_rows(40)]
    splits = split_pairs(rows)
    assert all(label == 1 for part in splits.values() for label in part["label"])
