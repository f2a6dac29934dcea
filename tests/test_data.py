import csv
import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import strategies as st

import textsim
from tests.properties import EXAMPLES, SENTENCES, check_property, is_text
from textsim.checks import check_sentence
from textsim.data import DataError, load_splits, read_pairs, split_pairs

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


# --- CSV and TSV: the same rows and the same errors as JSON lines -------------------------------------------------

def write_text(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def as_table(rows, separator: str) -> str:
    header = separator.join(["sentence1", "sentence2", "label"])
    return "\n".join([header] + [separator.join([r["sentence1"], r["sentence2"], str(r["label"])]) for r in rows]) + "\n"


def test_csv_tsv_and_json_lines_give_the_same_rows_and_splits(tmp_path, make_rows, write_jsonl):
    rows = make_rows(60)
    rows[3]["sentence2"] = "007"  # digits stay text; "NA" is not a missing value
    rows[4]["sentence1"] = "NA"
    paths = [write_jsonl(rows), write_text(tmp_path, "pairs.csv", as_table(rows, ",")),
             write_text(tmp_path, "pairs.TSV", as_table(rows, "\t"))]
    read = [read_pairs(path) for path in paths]
    assert read[0] == read[1] == read[2] == rows
    splits = [load_splits(textsim.PROFILES["smoke"], path) for path in paths]
    for name in ("train", "validation", "test"):
        assert splits[0][name].to_list() == splits[1][name].to_list() == splits[2][name].to_list()


def test_csv_quoting_extra_columns_blank_lines_and_a_bom(tmp_path):
    text = ('\ufeffid,sentence1,sentence2,label\n7,"今天,天气",好,1\n\n8,"多行\n的句子", 天气 ,0\n9,胡子,胡须,"1"\n')
    assert read_pairs(write_text(tmp_path, "pairs.csv", text)) == [
        {"sentence1": "今天,天气", "sentence2": "好", "label": 1},
        {"sentence1": "多行\n的句子", "sentence2": "天气", "label": 0},
        {"sentence1": "胡子", "sentence2": "胡须", "label": 1}]


def test_tsv_quotes_are_text(tmp_path):
    rows = read_pairs(write_text(tmp_path, "pairs.tsv", 'sentence1\tsentence2\tlabel\n"他说\t好"\t1\n'))
    assert rows == [{"sentence1": '"他说', "sentence2": '好"', "label": 1}]


@pytest.mark.parametrize("body, line, message", [
    ("a,b,1\nc,d,2\n", 3, "label must be 0 or 1 (an integer or a string), got '2' (str)"),
    ("a,b,1\nc,d,1.0\n", 3, "label must be 0 or 1"),
    ("a,b,1\n,d,0\n", 3, "sentence1 must be a non-empty string, got ''"),
    ("a,b,1\nc,  ,0\n", 3, "sentence2 must be a non-empty string"),
    ("a,b,1\nc,d\n", 3, "label must be 0 or 1"),  # a short row: its missing cells are empty
    ('"two\nlines",b,1\n\nc,d,x\n', 5, "label must be 0 or 1"),  # a quoted line break and a blank line count
])
def test_a_bad_csv_row_names_file_and_line(tmp_path, body, line, message):
    path = write_text(tmp_path, "pairs.csv", "sentence1,sentence2,label\n" + body)
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path, line)
    assert message in str(caught.value)


@pytest.mark.parametrize("header, row", [("sentence1,sentence2", "a,b"), ("sentence1,text2,label", "a,b,1"),
                                         ("Sentence1,sentence2,label", "a,b,1")])
def test_a_missing_column_names_it_and_the_header(tmp_path, header, row):
    path = write_text(tmp_path, "pairs.csv", f"{header}\n{row}\n")
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path, 1)
    assert "missing column" in str(caught.value) and "the header names [" in str(caught.value)


@pytest.mark.parametrize("body, detail", [("a,b,1\nc,d,1,extra\n", "Expected 3 fields in line 3, saw 4"),
                                          ("a,b,1,extra\nc,d,1\n", "does not match length of data")])
def test_a_row_with_too_many_cells_is_an_error_not_an_index(tmp_path, body, detail):
    path = write_text(tmp_path, "pairs.csv", "sentence1,sentence2,label\n" + body)
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path)
    assert "cannot be read as CSV" in str(caught.value) and detail in str(caught.value)


def test_non_utf8_csv_names_the_line(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_bytes("sentence1,sentence2,label\na,b,1\n".encode() + "今天,天气,1\n".encode("gbk"))
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path, 3)
    assert "UTF-8" in str(caught.value)


@pytest.mark.parametrize("text", ["", "sentence1,sentence2,label\n", "sentence1,sentence2,label\n\n,,\n"])
def test_a_table_without_pairs(tmp_path, text):
    path = write_text(tmp_path, "pairs.csv", text)
    with pytest.raises(DataError) as caught:
        read_pairs(path)
    assert_names(caught, path)
    assert "no sentence pairs" in str(caught.value)


def test_a_missing_own_file_does_not_suggest_make_data(tmp_path):
    with pytest.raises(DataError, match="file not found.$"):
        read_pairs(tmp_path / "mine.csv")
    with pytest.raises(DataError, match="Run `make data`"):
        read_pairs(tmp_path / "train_pair_1w.json")


# --- properties (hypothesis): any text, bytes or table is read back exactly, or refused with DataError -----------

LABELS = st.sampled_from([0, 1, "0", "1"])
RECORDS = st.fixed_dictionaries({"sentence1": SENTENCES, "sentence2": SENTENCES, "label": LABELS})


def expected_pairs(records) -> list[dict] | None:
    """What ``read_pairs`` must return for these records, or None when one of them must be refused."""
    if not all(is_text(r["sentence1"]) and is_text(r["sentence2"]) for r in records):
        return None
    return [{"sentence1": r["sentence1"].strip(), "sentence2": r["sentence2"].strip(), "label": int(r["label"])}
            for r in records]


def read_or_refuse(path: Path):
    """The rows of ``path``, or None when it is refused; any exception but ``DataError`` fails the property."""
    try:
        return read_pairs(path)
    except DataError as error:
        assert str(path) in str(error)
        return None


@pytest.mark.parametrize("examples", EXAMPLES)
def test_any_json_lines_are_read_back_exactly_or_refused(tmp_path, examples):
    def check(case):
        records, ascii_only = case
        path = tmp_path / "pairs.json"
        text = "".join(json.dumps(record, ensure_ascii=ascii_only) + "\n" for record in records)
        path.write_bytes(text.encode("utf-8", "surrogatepass"))  # a lone surrogate: bytes that are not UTF-8
        assert read_or_refuse(path) == expected_pairs(records)

    check_property(st.tuples(st.lists(RECORDS, min_size=1, max_size=4), st.booleans()), examples, check)


@pytest.mark.parametrize("suffix", [".json", ".csv", ".tsv"])
@pytest.mark.parametrize("examples", EXAMPLES)
def test_any_bytes_give_valid_pairs_or_a_data_error(tmp_path, monkeypatch, examples, suffix):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")  # tables go through datasets
    header = b"sentence1,sentence2,label\n" if suffix == ".csv" else b"sentence1\tsentence2\tlabel\n"

    def check(case):
        body, with_header = case
        path = tmp_path / f"pairs{suffix}"
        path.write_bytes((header if with_header and suffix != ".json" else b"") + body)
        for row in read_or_refuse(path) or []:
            assert is_text(row["sentence1"]) and is_text(row["sentence2"]) and row["label"] in (0, 1)

    check_property(st.tuples(st.binary(max_size=200), st.booleans()), examples, check)


@pytest.mark.parametrize("separator", [",", "\t"])
@pytest.mark.parametrize("examples", EXAMPLES)
def test_any_table_is_read_back_exactly_or_refused(tmp_path, monkeypatch, examples, separator):
    """CSV written by the csv module (quoted where needed) and TSV (never quoted: a tab or a line break inside a cell
    cannot be written, so such a table must be refused), with the columns in any order and an extra column."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")

    def check(case):
        records, order = case
        columns = [*order, "note"]
        rows = [[str(record.get(column, "x")) for column in columns] for record in records]  # note: "x"
        path = tmp_path / ("pairs.csv" if separator == "," else "pairs.tsv")
        if separator == ",":
            with open(path, "w", encoding="utf-8", errors="surrogatepass", newline="") as stream:
                csv.writer(stream).writerows([columns, *rows])
        else:
            text = "".join("\t".join(row) + "\n" for row in [columns, *rows])
            path.write_bytes(text.encode("utf-8", "surrogatepass"))
        broken = separator == "\t" and any(c in cell for row in rows for cell in row for c in "\t\r\n")
        found = read_or_refuse(path)
        if found is not None:  # a line break that only moves whitespace out of a cell still reads back exactly
            assert found == expected_pairs(records)
        else:
            assert broken or expected_pairs(records) is None, records

    permutations = st.permutations(["sentence1", "sentence2", "label"])
    check_property(st.tuples(st.lists(RECORDS, min_size=1, max_size=4), permutations), examples, check)
