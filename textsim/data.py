"""The seed's sentence-pair data: fetch with a checksum, validate every line, split with a seed.

Taught in notebook 01 (section 1); notebooks 02-04 reuse ``load_splits``.
"""
from __future__ import annotations

import csv
import hashlib
import http.client
import json
import shutil
import urllib.request
import warnings
from collections import Counter
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, load_dataset
from datasets.exceptions import DatasetGenerationError

from .checks import check_sentence
from .series.profiles import PROJECT_ROOT, Profile

DATA_FILE = "train_pair_1w.json"
DATA_SHA256 = "a29da9c4b1d0e89108f8de971aafdbb04cc5d5c856d7ed93c46e902df33c8e22"
DATA_URL = (
    "https://raw.githubusercontent.com/zyds/transformers-code/dfe7a9b36fc53c603916f5cfb1199229672000dd/"
    "02-NLP%20Tasks/12-sentence_similarity/train_pair_1w.json"
)
DATA_DIR = PROJECT_ROOT / "data"
SHARED_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
DOWNLOAD_TIMEOUT = 60  # seconds without an answer before a download gives up
LABEL_NAMES = ["不相似", "相似"]  # id2label of every model in the series
FIELDS = ("sentence1", "sentence2", "label")  # a pair file's fields (JSON lines) or named columns (CSV / TSV)
TABLE_SEPARATORS = {".csv": ",", ".tsv": "\t"}


class DataError(ValueError):
    """Bad input data; the message names the file and, where it applies, the line."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str | None = None) -> None:
    """``path`` exists and its sha256 is ``expected`` (default: ``DATA_SHA256``)."""
    expected = expected or DATA_SHA256
    if not path.is_file():
        raise DataError(f"{path}: file not found. Run `make data` to fetch it.")
    actual = sha256_of(path)
    if actual != expected:
        raise DataError(f"{path}: sha256 is {actual}, expected {expected}. Delete it and run `make data` again.")


def ensure_data(target: Path = DATA_DIR / DATA_FILE, shared: Path = SHARED_DATA_DIR / DATA_FILE,
                url: str = DATA_URL, timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """Put the data at ``target``: kept if its checksum holds, else copied from ``shared``, else downloaded.

    The bytes go to a ``.part`` file first, which becomes ``target`` only once its checksum holds.
    """
    target, shared = Path(target), Path(shared)
    if target.is_file():
        verify_checksum(target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    source = shared if shared.is_file() else url
    try:
        if source is shared:
            shutil.copyfile(shared, partial)
        else:
            download(url, partial, timeout, places=(target, shared))
        check_source(partial, source)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def download(url: str, destination: Path, timeout: float, places: tuple[Path, Path]) -> None:
    """Stream ``url`` to ``destination``; a ``DataError`` naming ``places`` (where to put the file by hand)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(destination, "wb") as stream:
            shutil.copyfileobj(response, stream)
    except (OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise DataError(f"Downloading {url} failed ({reason}). Put the data file (sha256 {DATA_SHA256}) "
                        f"by hand at {places[0]} or {places[1]}, then run `make data` again.") from None


def check_source(copy: Path, source: Path | str) -> None:
    """The bytes copied from ``source`` (the shared file or the URL) have the data's checksum."""
    actual = sha256_of(copy)
    if actual != DATA_SHA256:
        fix = "Replace or delete that file" if isinstance(source, Path) else "Try again later"
        raise DataError(f"{source}: sha256 is {actual}, expected {DATA_SHA256}; nothing was saved. "
                        f"{fix}, then run `make data` again.")


def read_pairs(path: Path) -> list[dict]:
    """Every pair of a pair file, validated; the first bad line raises ``DataError``. JSON lines, or CSV / TSV
    (by the suffix ``.csv`` / ``.tsv``) with the named columns sentence1, sentence2, label."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a pair file.")
    if not path.is_file():
        fetch = " Run `make data` to fetch it." if path.name == DATA_FILE else ""
        raise DataError(f"{path}: file not found.{fetch}")
    if path.suffix.lower() in TABLE_SEPARATORS:
        return read_table(path, TABLE_SEPARATORS[path.suffix.lower()])
    rows = []
    with open(path, "rb") as stream:
        for number, raw in enumerate(stream, start=1):
            line = decode_line(raw, f"{path}:{number}")
            if line.strip():
                rows.append(parse_pair(line, f"{path}:{number}"))
    if not rows:
        raise DataError(f"{path}: no sentence pairs in the file.")
    return rows


def decode_line(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{where}: not UTF-8 text (byte {raw[error.start]:#04x} at byte {error.start + 1} of "
                        f"the line). Save the file as UTF-8.") from None


def parse_pair(line: str, where: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataError(f"{where}: malformed JSON ({error.msg}).") from None
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}.")
    for field in FIELDS:
        if field not in record:
            raise DataError(f"{where}: missing field {field!r}.")
    return check_record(record, where)


def check_record(record: dict, where: str) -> dict:
    """One pair from a record holding the three fields: stripped sentences and an int label, or ``DataError``."""
    for field in ("sentence1", "sentence2"):
        check_sentence(record[field], f"{where}: {field}", DataError)
    label = record["label"]
    if str(label) not in ("0", "1") or isinstance(label, bool):
        raise DataError(f"{where}: label must be 0 or 1 (an integer or a string), "
                        f"got {label!r} ({type(label).__name__}).")
    return {"sentence1": record["sentence1"].strip(), "sentence2": record["sentence2"].strip(),
            "label": int(label)}


def read_table(path: Path, separator: str) -> list[dict]:
    """The pairs of a CSV or TSV file with a header row, read by ``datasets`` (pandas): every cell as text.

    TSV cells are never quoted (a quote is text); CSV cells may be, over several lines. A row of empty cells is
    a blank line and skipped; lines are counted from the header, line 1.
    """
    table = load_table(path, separator)
    missing = [field for field in FIELDS if field not in table.column_names]
    if missing:
        raise DataError(f"{path}:1: missing column {missing[0]!r}; the header names {table.column_names}.")
    rows, line = [], 2
    for record in table:
        cells = [str(value) for value in record.values()]  # columns other than FIELDS may be numbers
        if any(cell.strip() for cell in cells):
            rows.append(check_record(record, f"{path}:{line}"))
        line += 1 + sum(cell.count("\n") for cell in cells)
    if not rows:
        raise DataError(f"{path}: no sentence pairs in the file.")
    return rows


def load_table(path: Path, separator: str) -> Dataset:
    from pandas.errors import ParserWarning

    quoting = csv.QUOTE_NONE if separator == "\t" else csv.QUOTE_MINIMAL
    try:  # a row with too many cells: an error, never an index column or cells dropped; utf-8-sig: Excel's BOM
        with warnings.catch_warnings():
            warnings.simplefilter("error", ParserWarning)
            return load_dataset("csv", data_files=str(path), split="train", sep=separator, quoting=quoting,
                                encoding="utf-8-sig", converters={field: str for field in FIELDS}, na_filter=False,
                                index_col=False, skip_blank_lines=False)
    except DatasetGenerationError as error:
        cause = error.__cause__
        if isinstance(cause, UnicodeDecodeError):  # name the line, as the JSON-lines reader does
            with open(path, "rb") as stream:
                for number, raw in enumerate(stream, start=1):
                    decode_line(raw, f"{path}:{number}")
        if type(cause).__name__ == "EmptyDataError":
            raise DataError(f"{path}: no sentence pairs in the file.") from None
        raise DataError(f"{path}: cannot be read as {path.suffix[1:].upper()} ({str(cause).strip()}).") from None
    except ValueError as error:  # a header and no rows: 'Instruction "train" corresponds to no data!'
        raise DataError(f"{path}: no sentence pairs in the file ({error}).") from None


def split_pairs(rows: list[dict], seed: int = 42) -> DatasetDict:
    """A seeded, stratified 80/10/10 train/validation/test split."""
    try:
        dataset = Dataset.from_list(rows).cast_column("label", ClassLabel(names=["0", "1"]))
        first = dataset.train_test_split(test_size=0.2, seed=seed, stratify_by_column="label")
        second = first["test"].train_test_split(test_size=0.5, seed=seed, stratify_by_column="label")
    except ValueError as error:
        counts = dict(Counter(row["label"] for row in rows))
        raise ValueError(f"cannot split {len(rows)} pairs (label counts {counts}) 80/10/10 stratified by label: "
                         f"{error} Give at least 10 pairs of each label.") from error
    return DatasetDict(train=first["train"], validation=second["train"], test=second["test"])


def load_splits(profile: Profile, path: Path | None = None) -> DatasetDict:
    """The profile's splits: the full seeded split, each part cut to the profile's size; each must hold pairs of
    both labels (``check_both_labels``)."""
    path = path or ensure_data()
    splits = split_pairs(read_pairs(path), seed=profile.seed)
    limits = {"train": profile.max_train, "validation": profile.max_eval, "test": profile.max_eval}
    check_both_labels(splits := DatasetDict({name: take(part, limits[name]) for name, part in splits.items()}), path)
    return splits


def check_both_labels(splits: DatasetDict, path) -> None:
    """``DataError`` with every split's label counts when a split lacks a label: nothing can be learnt or chosen
    from one label, and accuracy on it is the majority class's (1.0 for 300 pairs all labelled 1)."""
    counts = {name: dict(sorted(Counter(part["label"]).items())) for name, part in splits.items()}
    for name, found in counts.items():
        for label in (0, 1):
            if not found.get(label):
                shown = ", ".join(f"{split} {count}" for split, count in counts.items())
                raise DataError(f"{path}: the {name} split has no pair of label {label} ({LABEL_NAMES[label]}); "
                                f"label counts: {shown}. Give pairs of both labels, at least 10 of each.")


def take(dataset: Dataset, limit: int | None) -> Dataset:
    return dataset if limit is None or limit >= len(dataset) else dataset.select(range(limit))
