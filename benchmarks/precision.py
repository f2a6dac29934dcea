"""Section 6, scoring precision: how far bf16 autocast and int8 dynamic quantization move the scores of the trained
models (max |Δ|, labels at the threshold, test accuracy) and how much faster they score than fp32.

A precision is worth adopting only if the test accuracy moves by at most ``ADOPT_POINTS`` points. Runs on the
local profile's trained models when ``make run`` has saved them, else on the base model (untrained heads: the
agreement still holds, the accuracy says nothing)."""
from __future__ import annotations

import copy
import warnings

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from textsim.biencoder import BiEncoder
from textsim.series.profiles import PROJECT_ROOT
from textsim.device import autocast_dtype
from textsim.inference import score_pairs
from textsim.models import load_pretrained

from .scoring import encode_in, pairs_of
from .timing import interleaved_rates, row, stats
from .tutorial import load_bi, load_cross

ADOPT_POINTS = 0.5  # the largest change of test accuracy (percentage points) a faster precision may cost
TRAINED = {"cross-encoder": PROJECT_ROOT / "models/local/01_cross_encoder_classification",
           "bi-encoder": PROJECT_ROOT / "models/local/03_bi_encoder/improved"}


def load_models(path, tok, device) -> tuple[dict, str]:
    """encoder -> (model, threshold, tokenizer): the trained models, each with the tokenizer saved beside it
    (cross-encoder: threshold 0.5 on P(相似); bi-encoder: its saved threshold), else the base model's with ``tok``;
    and which of the two it is."""
    if all(folder.is_dir() for folder in TRAINED.values()):
        cross = load_pretrained(AutoModelForSequenceClassification, str(TRAINED["cross-encoder"]))[0].to(device)
        bi = BiEncoder.from_pretrained(str(TRAINED["bi-encoder"])).to(device)
        toks = {name: AutoTokenizer.from_pretrained(str(folder)) for name, folder in TRAINED.items()}
        where = ("the local profile's trained models (01's cross-encoder, 03's improved bi-encoder), each with its "
                 "own tokenizer")
    else:
        cross, bi = load_cross(path, device), load_bi(path, device, pooling="mean")
        toks = dict.fromkeys(TRAINED, tok)
        where = "the base model with untrained heads (no trained models under models/local): accuracy meaningless"
    return {"cross-encoder": (cross.eval(), 0.5, toks["cross-encoder"]),
            "bi-encoder": (bi.eval(), float(bi.config.threshold), toks["bi-encoder"])}, where


def variants(model, device) -> dict:
    """name -> (model, precision): fp32, bf16 autocast, and on the CPU int8 dynamic quantization of every Linear."""
    found = {"fp32": (model, "fp32"), "bf16": (model, "bf16")}
    if device.type == "cpu":
        with warnings.catch_warnings():  # torch announces the quantized tensor functions' deprecation
            warnings.simplefilter("ignore", UserWarning)
            quantized = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear},
                                                               dtype=torch.qint8)
        found["int8"] = (quantized, "fp32")
    return found


def scorer(encoder: str, model, tok, precision: str):
    if encoder == "cross-encoder":
        return lambda pairs: score_pairs(model, tok, pairs, 64, precision=precision)
    return lambda pairs: (encode_in(model, tok, [a for a, _ in pairs], precision)
                          * encode_in(model, tok, [b for _, b in pairs], precision)).sum(axis=1)


def agreement(reference: np.ndarray, scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """max |Δ| against fp32, the share of labels unchanged at the threshold, and both test accuracies."""
    fp32_labels, labels_here = reference >= threshold, scores >= threshold
    accuracy = float(np.mean(fp32_labels == labels)), float(np.mean(labels_here == labels))
    change = 100 * (accuracy[1] - accuracy[0])
    return {"max_abs_diff": float(np.max(np.abs(scores - reference))),
            "label_agreement": float(np.mean(fp32_labels == labels_here)), "threshold": threshold,
            "accuracy_fp32": accuracy[0], "accuracy": accuracy[1], "accuracy_change_points": change,
            "adoptable": bool(abs(change) <= ADOPT_POINTS)}


def measure(path, tok, test, device, size) -> dict:
    pairs = pairs_of(test, size["pairs"])
    labels = np.asarray(test["label"][:len(pairs)])
    models, where = load_models(path, tok, device)
    rows, found = [], {}
    for encoder, (model, threshold, tok) in models.items():
        scores, runs = {}, {}
        for name, (variant, precision) in variants(model, device).items():
            score = scorer(encoder, variant, tok, precision)
            runs[name] = (lambda ps, name=name, score=score: scores.__setitem__(name, score(ps)), pairs)
        timed = {name: stats(values) for name, values in interleaved_rates(runs, device, size["reps"]).items()}
        for name in [n for n in runs if n != "fp32"]:
            agreed = agreement(scores["fp32"], scores[name], labels, threshold)
            agreed["speedup"] = timed[name]["median"] / timed["fp32"]["median"]
            found[f"{encoder}, {name}"] = agreed
            rows.append(row(f"precision, {encoder}, {name} vs fp32", "pairs/s", timed["fp32"], timed[name], 1.0,
                            note=describe(agreed, encoder, name, len(pairs))))
            print(f"  {rows[-1]['name']}: {agreed['speedup']:.2f}x, max |Δ| {agreed['max_abs_diff']:.4f}, "
                  f"accuracy {agreed['accuracy_change_points']:+.1f} points", flush=True)
    native = autocast_dtype(device, "auto") is not None
    notes = [f"models: {where}; {len(pairs)} test pairs, batches of 64; 'seed' column = fp32. precision='auto' "
             f"{'takes bf16 here for batches of 64 (native bf16)' if native else 'stays fp32 here (no native bf16)'}"
             f"; the notebooks' published metrics are fp32, the default"]
    return {"rows": rows, "agreement": found, "notes": notes}


def describe(agreed: dict, encoder: str, name: str, pairs: int) -> str:
    what = "P(相似)" if encoder == "cross-encoder" else "cosine"
    verdict = "within" if agreed["adoptable"] else "NOT within"
    return (f"max |Δ{what}| {agreed['max_abs_diff']:.4f}; labels at {agreed['threshold']:.4g}: "
            f"{agreed['label_agreement']:.1%} unchanged of {pairs}; test accuracy {agreed['accuracy_fp32']:.1%} -> "
            f"{agreed['accuracy']:.1%} ({agreed['accuracy_change_points']:+.1f} points, {verdict} the "
            f"±{ADOPT_POINTS} adoption bound)")
