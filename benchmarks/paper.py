"""Section 5, what the ``paper`` profile would cost here: the training rate of a model of MacBERT-base's size on
our data path, and the hours of training that ``TEXTSIM_PROFILE=paper make run`` would take on this device."""
from __future__ import annotations

import torch
from transformers import BertConfig, BertForSequenceClassification, DataCollatorWithPadding

from textsim.series.profiles import PROFILES

from .timing import SEED, stats
from .train_speed import length_grouped_order, timed_sample, train_rates
from .tutorial import cross_features


def measure(tok, train, device, size) -> dict:
    """Training pairs/s of a randomly initialised model of MacBERT-base's size (the Hub is out of reach), on our
    data path; from it, the hours that `TEXTSIM_PROFILE=paper make run` would train for on this machine."""
    paper = PROFILES["paper"]
    train = train.select(range(min(len(train), size["train_rows"])))
    features = cross_features(train, tok, padded=False)
    lengths = [len(f["input_ids"]) for f in features]
    _, sample = timed_sample(length_grouped_order(lengths, size["batch"]), [lengths], size)
    torch.manual_seed(SEED)
    model = BertForSequenceClassification(BertConfig(vocab_size=tok.vocab_size, num_labels=2)).to(device)
    rate = stats(train_rates(model, features, sample, DataCollatorWithPadding(tok), device, size["reps"])["rates"])
    # original_bi_epochs: the epochs of the original tutorial's bi-encoder recipe
    pairs = 8000 * (2 * paper.cross_epochs + paper.original_bi_epochs + paper.improved_bi_epochs)
    bi_epochs = paper.original_bi_epochs + paper.improved_bi_epochs
    hours = pairs / rate["median"] / 3600
    note = (f"{model.num_parameters() / 1e6:.0f}M parameters (BERT-base, MacBERT's size), random weights, "
            f"batch {size['batch']}, length-grouped; `paper` trains {pairs:,.0f} pairs in all "
            f"(8,000 x {2 * paper.cross_epochs:g} cross-encoder epochs + {bi_epochs:g}"
            f" bi-encoder epochs, bi-encoder steps taken as costly as cross-encoder ones): about {hours:.1f} h of "
            f"training on this device at {rate['median']:.2f} pairs/s, evaluation not counted")
    print(f"  paper profile: {rate['median']:.2f} pairs/s -> about {hours:.1f} h", flush=True)
    return {"rows": [], "estimate": [{"name": "training, BERT-base size", "unit": "pairs/s", "rate": rate,
                                      "hours": hours}],
            "notes": [note]}
