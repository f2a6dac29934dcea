"""Pick the device and the mixed precision; the same notebooks run unchanged on CUDA, Apple's MPS or the CPU.

Taught in notebook 01 (section 3).
"""
from __future__ import annotations

import torch


def pick_device() -> torch.device:
    """The first CUDA GPU when present, else Apple silicon's GPU (MPS), else the CPU (never a hard-coded
    ``device=0``)."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def mixed_precision(device: torch.device | None = None) -> dict[str, bool]:
    """Trainer flags: bf16 on GPUs that compute in it (Ampere and newer), fp16 on older GPUs, full precision on
    MPS and the CPU."""
    device = device or pick_device()
    # MPS stays in fp32, like the CPU: the README's numbers were measured in fp32, and fp16 autocast on MPS is not
    # what they were measured with (nor tested here), so a Mac runs the measured fp32 recipe, only on its GPU.
    if device.type != "cuda":
        return {"bf16": False, "fp16": False}
    # Native bf16 only (Ampere and newer): older cards such as the T4 can hold bf16 tensors, so the default check
    # says yes, but they have no bf16 tensor cores (it is emulated); fp16 is their fast half precision.
    bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
    return {"bf16": bf16, "fp16": not bf16}


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The dtype for ``torch.autocast`` at inference, or None for full precision (MPS and the CPU)."""
    flags = mixed_precision(device)
    return torch.bfloat16 if flags["bf16"] else torch.float16 if flags["fp16"] else None


def describe(device: torch.device) -> str:
    """A human-readable name of the hardware, recorded in every results file."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple silicon GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"
