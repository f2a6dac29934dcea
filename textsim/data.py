"""The seed's sentence-pair data: fetch with a checksum, validate every line, split with a seed.

Taught in notebook 01 (section 1); notebooks 02-04 reuse ``load_splits``.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import shutil
import urllib.request
from collections import Counter
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
DOWNLOAD_TIMEOUT = 60  # seconds without an answer before a download gives up
LABEL_NAMES = ["不相似", "相似"]  # id2label of every model in the series


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
    """Every line of a JSON-lines pair file, validated; the first bad line raises ``DataError``."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a pair file.")
    if not path.is_file():
        raise DataError(f"{path}: file not found. Run `make data` to fetch it.")
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


def check_sentence(value, where: str, error: type[ValueError] = ValueError) -> str:
    """``value`` as a non-empty string of valid Unicode, or ``error`` naming ``where``."""
    if not isinstance(value, str) or not value.strip():
        raise error(f"{where} must be a non-empty string, got {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as bad:
        raise error(f"{where} holds a lone surrogate {value[bad.start]!r} at character {bad.start + 1}: "
                    f"not valid Unicode text") from None
    return str(value)


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
        check_sentence(record[field], f"{where}: {field}", DataError)
    label = record["label"]
    if str(label) not in ("0", "1") or isinstance(label, bool):
        raise DataError(f"{where}: label must be 0 or 1 (an integer or a string), "
                        f"got {label!r} ({type(label).__name__}).")
    return {"sentence1": record["sentence1"].strip(), "sentence2": record["sentence2"].strip(),
            "label": int(label)}


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
    """The profile's splits: the full seeded split, each part cut to the profile's size."""
    splits = split_pairs(read_pairs(path or ensure_data()), seed=profile.seed)
    limits = {"train": profile.max_train, "validation": profile.max_eval, "test": profile.max_eval}
    return DatasetDict({name: take(part, limits[name]) for name, part in splits.items()})


def take(dataset: Dataset, limit: int | None) -> Dataset:
    return dataset if limit is None or limit >= len(dataset) else dataset.select(range(limit))
