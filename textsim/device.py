"""Pick the device and the mixed precision; the same notebooks run unchanged on CUDA or CPU.

Taught in notebook 01 (section 3).
"""
from __future__ import annotations

import torch


def pick_device() -> torch.device:
    """The first CUDA GPU when present, else the CPU (never a hard-coded ``device=0``)."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def mixed_precision(device: torch.device | None = None) -> dict[str, bool]:
    """Trainer flags: bf16 on GPUs that support it, fp16 on older GPUs, full precision on the CPU."""
    device = device or pick_device()
    if device.type != "cuda":
        return {"bf16": False, "fp16": False}
    bf16 = torch.cuda.is_bf16_supported()
    return {"bf16": bf16, "fp16": not bf16}


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The dtype for ``torch.autocast`` at inference, or None for full precision."""
    flags = mixed_precision(device)
    return torch.bfloat16 if flags["bf16"] else torch.float16 if flags["fp16"] else None


def describe(device: torch.device) -> str:
    """A human-readable name of the hardware, recorded in every results file."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"
