"""Input checks shared by the inference code, the pipelines, retrieval and the data reader: each returns the value
it accepts or raises an error that names the argument (and the item) it refuses.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

PROGRESS_OVER = 1000  # progress=None: a bar for more texts than this (a corpus), none for a test set of 1,000


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



def check_pairs(pairs, where: str = "pairs") -> list[tuple[str, str]]:
    """``[(s1, s2), ...]`` of non-empty strings, or a ``ValueError`` naming the bad item."""
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise ValueError(f"{where} must be a list of (sentence1, sentence2) pairs, got {type(pairs).__name__}")
    return [check_pair(pair, f"{where}[{index}]") for index, pair in enumerate(pairs)]


def check_pair(pair, where: str) -> tuple[str, str]:
    """``(s1, s2)`` from a 2-sequence or a ``{"text", "text_pair"}`` dict, each a non-empty string."""
    if isinstance(pair, dict):
        pair = (pair.get("text"), pair.get("text_pair"))
    if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
        raise ValueError(f"{where} must be a pair of two sentences, got {pair!r}")
    return check_sentence(pair[0], f"{where} sentence 1"), check_sentence(pair[1], f"{where} sentence 2")


def check_positive_int(value, name: str) -> int:
    """``value`` as an ``int`` when it is a positive integer (numpy integers too, not bools or floats)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_queries_and_k(queries, k) -> None:
    """A non-empty list of queries and a positive int ``k`` (how many results per query), or a ValueError."""
    if len(queries) == 0:
        raise ValueError("queries is empty: give at least one query")
    check_positive_int(k, "k")


def show_progress(progress, items: int) -> bool:
    """Whether to draw a bar: ``progress`` if True or False, else (None) only for more than ``PROGRESS_OVER`` items."""
    if progress is not None and not isinstance(progress, bool):
        raise ValueError(f"progress must be True, False or None (automatic), got {progress!r}")
    return items > PROGRESS_OVER if progress is None else progress


def check_max_length(max_length, model_limit: int) -> int:
    """A positive integer ``max_length``, capped at the model's ``max_position_embeddings``."""
    return min(check_positive_int(max_length, "max_length"), model_limit)


def check_threshold(threshold) -> float:
    """``threshold`` as a finite ``float``: NaN, infinities and non-numbers are refused."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    return value


def check_choice(value, allowed: tuple, name: str):
    """``value`` if it is one of ``allowed``, or a ``ValueError`` naming ``name``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_sentences(sentences) -> list[str]:
    """A list of non-empty strings from any iterable of them, or a ``ValueError`` naming the bad one."""
    if isinstance(sentences, str):
        raise ValueError("encode takes a list of sentences, got one string: wrap it in a list")
    if isinstance(sentences, bytes) or not isinstance(sentences, Iterable):
        raise ValueError(f"encode takes a list of sentences, got {type(sentences).__name__}")
    return [check_sentence(sentence, f"sentences[{index}]") for index, sentence in enumerate(sentences)]


def as_pipeline_inputs(inputs, where: str = "inputs"):
    """What a pair pipeline's ``__call__`` accepts, checked: one pair (``("s1", "s2")`` or
    ``{"text": "s1", "text_pair": "s2"}``) becomes one dict, a list of pairs a list of dicts."""
    if isinstance(inputs, dict) or (isinstance(inputs, (tuple, list)) and len(inputs) == 2 and not any(
            isinstance(item, (tuple, list, dict)) for item in inputs)):  # ("你好", None) is one bad pair, not a batch
        first, second = check_pair(inputs, where)
        return {"text": first, "text_pair": second}
    return [{"text": first, "text_pair": second} for first, second in check_pairs(inputs, where)]
