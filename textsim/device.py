"""Pick the device and the mixed precision; the same notebooks run unchanged on CUDA, Apple's MPS or the CPU.

Taught in notebook 01 (section 3).
"""
from __future__ import annotations

import contextlib
import functools
import platform
from pathlib import Path

import torch

# Inference precision. "fp32", the default: the same scores on every CPU, so the published metrics do not depend on
# the machine. "auto": the faster one for the batch at hand (bf16/fp16 on GPUs that compute it, bf16 on a CPU that
# computes it natively for batches of at least BF16_MIN_ROWS, fp32 below). "bf16": always.
PRECISIONS = ("fp32", "auto", "bf16")
SPEED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")  # what decides fp32 and bf16 speed on x86
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 CPUs with bf16 arithmetic in hardware (Cooper Lake, Zen 4 on)
# Below this many rows a batch gains little or nothing from bf16 on the CPU (make bench, "batch-size crossover"):
# one pair took 17.3 ms in bf16 against 14.2 ms in fp32 on a Xeon with AMX, 6.8 against 7.1 ms on an AMD EPYC with
# avx512_bf16, while 8 pairs took 42 against 68 ms there.
BF16_MIN_ROWS = 8


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


def autocast_dtype(device: torch.device, precision: str = "fp32", rows: int | None = None) -> torch.dtype | None:
    """The dtype for ``torch.autocast`` at inference, or None for full precision.

    ``"fp32"``: never. ``"bf16"``: always (not on MPS). ``"auto"``: bf16/fp16 on CUDA as ``mixed_precision`` says;
    on a CPU that computes bf16 natively (``cpu_computes_bf16``), bf16 for a batch of ``rows`` >= ``BF16_MIN_ROWS``
    (or of unknown size), fp32 for smaller ones; full precision on MPS and other CPUs."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp32" or device.type == "mps":
        if precision == "bf16":
            raise ValueError("precision='bf16' is not supported on MPS: use 'auto' or 'fp32'")
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cpu":
        small = rows is not None and rows < BF16_MIN_ROWS
        return torch.bfloat16 if cpu_computes_bf16() and not small else None
    flags = mixed_precision(device)
    return torch.bfloat16 if flags["bf16"] else torch.float16 if flags["fp16"] else None


def autocast(device: torch.device, precision: str = "fp32", rows: int | None = None):
    """bf16/fp16 autocast for a batch of ``rows`` when ``precision`` asks for it (``autocast_dtype``), else a
    context that does nothing."""
    dtype = autocast_dtype(device, precision, rows)
    return torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()


def cpu_computes_bf16() -> bool:
    """True on a CPU with bf16 arithmetic in hardware (AVX512-BF16 or AMX): there bf16 autocast scores batches
    1.5-2.4x faster than fp32 (make bench; benchmarks/precision.py measures how much the scores move). Elsewhere bf16
    is emulated, slower."""
    return any(flag in cpu_flags() for flag in CPU_BF16_FLAGS)


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them in /proc/cpuinfo; empty on other systems (so: fp32 there).
    ``torch.backends.cpu.get_cpu_capability()`` says only "AVX512", not whether bf16 is native."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return frozenset()
    lines = cpuinfo.read_text(errors="replace").splitlines()
    return frozenset(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))


def describe(device: torch.device) -> str:
    """A human-readable name of the hardware, recorded in every results file."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple silicon GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"


def cpu_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")), platform.processor())


def speed_flags() -> list[str]:
    """The CPU's flags among ``SPEED_FLAGS``: whether it has AVX-512, and bf16 in hardware (avx512_bf16, AMX)."""
    return [flag for flag in SPEED_FLAGS if flag in cpu_flags()]


def launch_overrides() -> dict:
    """What one process does not need and several do (under torchrun / accelerate launch). ``use_cpu``: without
    it, CPU processes would each train alone instead of with DDP over gloo. ``average_tokens_across_devices``:
    our losses are per-pair means, so the Trainer must not multiply them by the number of processes (that scales
    the logged losses and the gradients, which are clipped, by that number)."""
    return {"use_cpu": pick_device().type == "cpu", "average_tokens_across_devices": False}
