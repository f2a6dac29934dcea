"""The seed's sentence-pair data: fetch with a checksum, validate every line, split with a seed.

Taught in notebook 01 (section 1); notebooks 02-04 reuse ``load_splits``.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import urllib.request
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict

from .config import PROJECT_ROOT, Profile

DATA_FILE = "train_pair_1w.json"
DATA_SHA256 = "a29da9c4b1d0e89108f8de971aafdbb04cc5d5c856d7ed93c46e902df33c8e22"
DATA_URL = (
    "https://raw.githubusercontent.com/zyds/transformers-code/dfe7a9b36fc53c603916f5cfb1199229672000dd/"
    "02-NLP%20Tasks/12-sentence_similarity/train_pair_1w.json"
)
DATA_DIR = PROJECT_ROOT / "data"
SHARED_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
LABEL_NAMES = ["不相似", "相似"]  # id2label of every model in the series


class DataError(ValueError):
    """Bad input data; the message names the file and, where it applies, the line."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str = DATA_SHA256) -> None:
    if not path.is_file():
        raise DataError(f"{path}: file not found. Run `make data` to fetch it.")
    actual = sha256_of(path)
    if actual != expected:
        raise DataError(f"{path}: sha256 is {actual}, expected {expected}. Delete it and run `make data` again.")


def ensure_data(target: Path = DATA_DIR / DATA_FILE, shared: Path = SHARED_DATA_DIR / DATA_FILE,
                url: str = DATA_URL) -> Path:
    """Put the data at ``target``: kept if its checksum holds, else copied from ``shared``, else downloaded."""
    target = Path(target)
    if target.is_file():
        verify_checksum(target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    if Path(shared).is_file():
        shutil.copyfile(shared, partial)
    else:
        urllib.request.urlretrieve(url, partial)
    try:
        verify_checksum(partial)
    except DataError:
        partial.unlink()
        raise
    partial.replace(target)
    return target


def read_pairs(path: Path) -> list[dict]:
    """Every line of a JSON-lines pair file, validated; the first bad line raises ``DataError``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found. Run `make data` to fetch it.")
    rows = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                rows.append(parse_pair(line, f"{path}:{number}"))
    if not rows:
        raise DataError(f"{path}: no sentence pairs in the file.")
    return rows


def parse_pair(line: str, where: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataError(f"{where}: malformed JSON ({error.msg}).") from None
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}.")
    for field in ("sentence1", "sentence2", "label"):
        if field not in record:
            raise DataError(f"{where}: missing field {field!r}.")
    for field in ("sentence1", "sentence2"):
        if not isinstance(record[field], str) or not record[field].strip():
            raise DataError(f"{where}: {field} must be a non-empty string, got {record[field]!r}.")
    label = record["label"]
    if str(label) not in ("0", "1") or isinstance(label, bool):
        raise DataError(f"{where}: label must be 0 or 1, got {label!r}.")
    return {"sentence1": record["sentence1"].strip(), "sentence2": record["sentence2"].strip(),
            "label": int(label)}


def split_pairs(rows: list[dict], seed: int = 42) -> DatasetDict:
    """A seeded, stratified 80/10/10 train/validation/test split."""
    dataset = Dataset.from_list(rows).cast_column("label", ClassLabel(names=["0", "1"]))
    first = dataset.train_test_split(test_size=0.2, seed=seed, stratify_by_column="label")
    second = first["test"].train_test_split(test_size=0.5, seed=seed, stratify_by_column="label")
    return DatasetDict(train=first["train"], validation=second["train"], test=second["test"])


def load_splits(profile: Profile, path: Path | None = None) -> DatasetDict:
    """The profile's splits: the full seeded split, each part cut to the profile's size."""
    splits = split_pairs(read_pairs(path or ensure_data()), seed=profile.seed)
    limits = {"train": profile.max_train, "validation": profile.max_eval, "test": profile.max_eval}
    return DatasetDict({name: take(part, limits[name]) for name, part in splits.items()})


def take(dataset: Dataset, limit: int | None) -> Dataset:
    return dataset if limit is None or limit >= len(dataset) else dataset.select(range(limit))
