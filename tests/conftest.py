"""Shared fixtures: a tiny offline tokenizer, tiny random BERT models and small generated pair files.

Nothing here downloads: the tokenizer is built from a vocab file written into a temporary folder and the models
are randomly initialised from a ``BertConfig`` of a few thousand parameters, so the suite runs in seconds.
"""
from __future__ import annotations

import json
import os
import random

# Before anything imports huggingface_hub, which reads these once at import time.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# Every character the generated sentences use is in the vocabulary, so few tokens are [UNK].
CHARS = "今天气很好我喜欢吃苹果你在哪里这是一个测试句子相似不的人们去学校胡长得太快怎么办求部小时候动画片谢了想买台新电脑"
DIGITS = "0123456789"
MAX_POSITIONS = 128  # = the default max_length of score_pairs / encode


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """Every test runs with the Hub switched off (the machine has no network anyway)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


@pytest.fixture(params=["fp32", "bf16"])
def precision(request):
    """Each inference precision in which two code paths are compared: fp32 (what a CPU without native bf16 runs,
    and the default everywhere) and bf16 (what "auto" runs on a CPU with avx512_bf16 or AMX; emulated elsewhere)."""
    return request.param


@pytest.fixture(scope="session", autouse=True)
def _quiet():
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()


@pytest.fixture(scope="session")
def vocab_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_tokenizer")
    vocab = SPECIAL_TOKENS + list(dict.fromkeys(CHARS)) + list(DIGITS)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tokenizer(vocab_dir):
    from transformers import BertTokenizer

    tok = BertTokenizer.from_pretrained(str(vocab_dir))
    assert tok.pad_token_id == 0 and tok.convert_tokens_to_ids("[UNK]") == 1
    assert len(tok) == len((vocab_dir / "vocab.txt").read_text(encoding="utf-8").split())
    return tok


@pytest.fixture
def tiny_config(tokenizer):
    """Factory of tiny ``BertConfig`` objects: ``tiny_config(num_labels=1)``."""
    from transformers import BertConfig

    def make(**overrides):
        settings = dict(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=MAX_POSITIONS)
        settings.update(overrides)
        return BertConfig(**settings)

    return make


@pytest.fixture
def base(tmp_path, tiny_config, tokenizer):
    """A tiny pretrained-looking checkpoint: a random BertModel and its tokenizer, saved (a --model / base)."""
    from transformers import BertModel

    torch.manual_seed(0)
    folder = tmp_path / "base"
    BertModel(tiny_config()).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def make_biencoder(tiny_config):
    """Factory of tiny random BiEncoders in eval mode: ``make_biencoder(pooling="cls", loss="cosent")``."""
    from textsim.biencoder import BiEncoder

    def make(seed: int = 0, **settings):
        torch.manual_seed(seed)
        return BiEncoder(tiny_config(), **settings).eval()

    return make


@pytest.fixture
def tiny_biencoder(make_biencoder):
    return make_biencoder(pooling="mean")


@pytest.fixture
def tiny_cross_encoder(tiny_config):
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    return BertForSequenceClassification(tiny_config(num_labels=2)).eval()


def random_sentence(rng: random.Random, low: int = 2, high: int = 20) -> str:
    return "".join(rng.choice(CHARS) for _ in range(rng.randint(low, high)))


@pytest.fixture
def make_rows():
    """Factory of valid pair rows: unique ``sentence1`` (it ends with the row number), varied lengths."""
    def make(n: int = 200, positive_share: float = 0.4, seed: int = 0) -> list[dict]:
        rng = random.Random(seed)
        positives = set(rng.sample(range(n), round(n * positive_share)))
        return [{"sentence1": random_sentence(rng) + str(i), "sentence2": random_sentence(rng),
                 "label": int(i in positives)} for i in range(n)]

    return make


@pytest.fixture
def sentence_pairs():
    """Pairs of clearly different lengths, in no particular length order."""
    rng = random.Random(1)
    lengths = [(3, 9), (15, 2), (1, 1), (20, 17), (6, 6), (11, 4), (2, 25)]
    return [("".join(rng.choice(CHARS) for _ in range(a)), "".join(rng.choice(CHARS) for _ in range(b)))
            for a, b in lengths]


@pytest.fixture
def pair_dataset(sentence_pairs):
    """``sentence_pairs`` as a ``datasets.Dataset`` of pair rows, both labels present."""
    from datasets import Dataset

    labels = [1, 0, 1, 0, 0, 1, 0]
    return Dataset.from_list([{"sentence1": a, "sentence2": b, "label": label}
                              for (a, b), label in zip(sentence_pairs, labels)])


@pytest.fixture
def write_jsonl(tmp_path):
    """Writes lines (dicts are JSON-encoded, strings written as they are) to a file; returns its path."""
    def write(lines, name: str = "pairs.json"):
        path = tmp_path / name
        text = "".join((json.dumps(line, ensure_ascii=False) if isinstance(line, dict) else line) + "\n"
                       for line in lines)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_run(tmp_path):
    """Factory of runs rooted in tmp_path under a profile "unit" (``base``'s, smoke by default, with ``changes``):
    every test that needs a ``Run`` builds it here. ``make_run(None)`` is the whole series, as the runner sees it."""
    import dataclasses

    from textsim.series.profiles import PROFILES
    from textsim.series.run import Run

    def make(notebook: str | None = "unit_notebook", root=None, base: str = "smoke", **changes):
        profile = dataclasses.replace(PROFILES[base], name="unit", **changes)
        return Run(profile, notebook, root=root or tmp_path)

    return make


@pytest.fixture
def unit_results(make_run):
    """The run of the whole series under a profile "unit", rooted in tmp_path, whose results folder holds notebook
    01's results file and a summary of 1 minute: ``(run, folder)``."""
    from textsim.series import summary

    run = make_run(None)
    folder = run.results_dir
    folder.mkdir(parents=True)
    record = {"model": "m3e-small", "device": "cpu (2 threads)", "profile": "unit", "rows": [
        {"recipe": "cross-encoder (classification)", "accuracy": 0.9, "f1": 0.85, "precision": 0.8, "recall": 0.9,
         "threshold": 0.5, "threshold_source": "fixed"}]}
    (folder / "01_cross_encoder_classification.json").write_text(json.dumps(record), encoding="utf-8")
    summary.write_summary(run, minutes={"01_cross_encoder_classification": 1.0})
    return run, folder
