"""Section 4, on a GPU only: scoring in fp32 against bf16/fp16 autocast, and autocast with ``torch.compile``."""
from __future__ import annotations

import torch

from textsim.device import autocast_dtype
from textsim.inference import score_pairs

from .scoring import pairs_of
from .timing import rates, row, stats, timed
from .tutorial import load_cross


def measure(path, tok, test, device, size) -> dict:
    if device.type != "cuda":
        return {"rows": [], "notes": ["skipped: no GPU (torch.cuda.is_available() is False or --device cpu)"]}
    pairs = pairs_of(test, size["pairs"])
    cross, reps = load_cross(path, device).eval(), size["reps"]

    def scoring_rates(model, precision: str = "auto") -> dict:
        return stats(rates(lambda ps: score_pairs(model, tok, ps, 64, precision=precision), pairs, device, reps))

    fp32 = scoring_rates(cross, "fp32")
    mixed = scoring_rates(cross)
    rows = [row(f"scoring, fp32 vs {str(autocast_dtype(device, 'auto')).split('.')[-1]} autocast", "pairs/s", fp32, mixed,
                1.0, note="score_pairs, batches of 64; 'seed' column = fp32")]
    note = "ran on " + torch.cuda.get_device_name(device)
    try:
        compiled = torch.compile(cross, dynamic=True)
        compile_seconds = timed(lambda: score_pairs(compiled, tok, pairs, 64, precision="auto"), device)
        rows.append(row("scoring, autocast + torch.compile", "pairs/s", mixed, scoring_rates(compiled), 1.0,
                        note=f"'seed' column = autocast without compile; first call (compiling) "
                             f"{compile_seconds:.1f} s"))
    except Exception as error:  # compile support varies with the platform: record it, don't fail the benchmark
        note += f"; torch.compile failed: {type(error).__name__}: {str(error)[:200]}"
    return {"rows": rows, "notes": [note]}
