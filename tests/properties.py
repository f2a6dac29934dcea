"""Shared pieces of the property-based tests (hypothesis): strategies of tricky text and how many examples to run.

CI runs each property on a fixed set of 60 examples; ``make test-properties`` runs 1,000 new ones (marked slow and
exhaustive, which ``make test`` leaves out).
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Every corner of Unicode: lone surrogates (not valid text), control characters, zero-width and combining marks,
# line and paragraph separators, a byte-order mark, CJK, emoji with a skin-tone modifier, quotes and separators.
ANY_CHARACTER = st.characters(exclude_categories=())
TRICKY = "今天气很好 \t\r\n\x00\x1f\x7f\u200b\u200d\u2028\u2029\u0301\u0300\ufeff\ud800\udfff😀👍🏽,\";'\\"
SENTENCES = st.one_of(st.text(ANY_CHARACTER, max_size=30), st.text(st.sampled_from(TRICKY), max_size=12),
                      st.text(st.sampled_from("今天气很好"), min_size=1, max_size=20))
EXAMPLES = [pytest.param(dict(max_examples=60, derandomize=True), id="60"),
            pytest.param(dict(max_examples=1000), id="1000", marks=[pytest.mark.slow, pytest.mark.exhaustive])]


def check_property(strategy, examples: dict, check) -> None:
    """Run ``check(example)`` on examples of ``strategy`` (no deadline: the first model call is slow to warm)."""
    settings(deadline=None, database=None, suppress_health_check=list(HealthCheck), **examples)(given(strategy)(check))()


def is_text(value: str) -> bool:
    """What ``check_sentence`` accepts: valid Unicode (no lone surrogate) that is not only whitespace."""
    return bool(value.strip()) and not any("\ud800" <= c <= "\udfff" for c in value)


def valid_sentences():
    """Sentences the models must score: tricky text that ``is_text``, and lines of up to 10,000 characters."""
    units = st.sampled_from(["今天天气很好", "😀a ", "é\u0301", "Ωмир"])
    long_lines = st.builds(lambda unit, times: (unit * times)[:10_000], units, st.integers(1, 5000))
    return st.one_of(SENTENCES.filter(is_text), long_lines)
