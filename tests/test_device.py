import pytest
import torch
from transformers import TrainingArguments

from textsim import device as device_module
from textsim.device import autocast_dtype, describe, mixed_precision, pick_device


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


@pytest.fixture
def cpu_flags(monkeypatch):
    """``cpu_flags({"avx512_bf16"})``: the CPU feature flags that /proc/cpuinfo is taken to list."""
    def configure(flags):
        monkeypatch.setattr(device_module, "cpu_flags", lambda: frozenset(flags))

    return configure


@pytest.fixture
def apple_silicon(monkeypatch):
    """A Mac with an Apple GPU: MPS reported present, no CUDA."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)


@pytest.fixture
def fake_cuda(monkeypatch):
    """CUDA reported present; ``fake_cuda(bf16=False)`` sets what ``is_bf16_supported`` answers."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)

    def configure(bf16: bool):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)

    return configure


def test_pick_device_falls_back_to_cpu(cpu_only):
    assert pick_device() == torch.device("cpu")


def test_pick_device_prefers_cuda(fake_cuda):
    device = pick_device()
    assert device.type == "cuda"


def test_mixed_precision_bf16_on_a_bf16_gpu(fake_cuda):
    fake_cuda(bf16=True)
    assert mixed_precision(torch.device("cuda")) == {"bf16": True, "fp16": False}
    assert mixed_precision() == {"bf16": True, "fp16": False}  # picks the (fake) GPU itself
    assert autocast_dtype(torch.device("cuda"), "auto") == torch.bfloat16
    assert autocast_dtype(torch.device("cuda"), "auto", rows=1) == torch.bfloat16  # the rows rule is the CPU's
    assert autocast_dtype(torch.device("cuda")) is None  # the default is fp32


def test_mixed_precision_fp16_on_an_older_gpu(fake_cuda):
    fake_cuda(bf16=False)
    assert mixed_precision(torch.device("cuda")) == {"bf16": False, "fp16": True}
    assert autocast_dtype(torch.device("cuda"), "auto") == torch.float16


def test_mixed_precision_none_on_cpu(cpu_only, cpu_flags):
    cpu_flags({"avx2", "avx512f"})
    assert mixed_precision() == {"bf16": False, "fp16": False}
    assert mixed_precision(torch.device("cpu")) == {"bf16": False, "fp16": False}
    assert autocast_dtype(torch.device("cpu"), "auto") is None
    assert autocast_dtype(torch.device("cpu"), "auto", rows=64) is None


@pytest.mark.parametrize("flag", ["avx512_bf16", "amx_bf16"])
def test_auto_is_bf16_for_large_batches_on_a_cpu_that_computes_it(cpu_only, cpu_flags, flag):
    """Inference only: training on such a CPU keeps fp32 (``mixed_precision``: no Trainer flag)."""
    cpu_flags({"avx2", "avx512f", flag})
    assert autocast_dtype(torch.device("cpu"), "auto") == torch.bfloat16  # a batch of unknown size
    assert autocast_dtype(torch.device("cpu"), "auto", rows=device_module.BF16_MIN_ROWS) == torch.bfloat16
    assert mixed_precision(torch.device("cpu")) == {"bf16": False, "fp16": False}


@pytest.mark.parametrize("rows", [1, device_module.BF16_MIN_ROWS - 1])
def test_auto_stays_fp32_for_small_batches_where_bf16_is_no_faster(cpu_only, cpu_flags, rows):
    """One live query (batch 1) was slower in bf16 than in fp32 on a Xeon with AMX: "auto" keeps it in fp32."""
    cpu_flags({"amx_bf16"})
    assert autocast_dtype(torch.device("cpu"), "auto", rows=rows) is None
    assert autocast_dtype(torch.device("cpu"), "bf16", rows=rows) == torch.bfloat16  # asked for: always


def test_the_default_precision_is_fp32_on_every_device(fake_cuda, cpu_flags):
    """Published metrics must not depend on the CPU's flags: nothing autocasts unless asked."""
    fake_cuda(bf16=True)
    cpu_flags({"amx_bf16"})
    assert autocast_dtype(torch.device("cpu")) is None
    assert autocast_dtype(torch.device("cuda")) is None


def test_precision_fp32_turns_autocast_off_everywhere(fake_cuda, cpu_flags):
    fake_cuda(bf16=True)
    cpu_flags({"amx_bf16"})
    assert autocast_dtype(torch.device("cpu"), "fp32") is None
    assert autocast_dtype(torch.device("cuda"), "fp32") is None


def test_precision_bf16_is_bf16_even_on_a_cpu_without_it(cpu_only, cpu_flags):
    cpu_flags(set())
    assert autocast_dtype(torch.device("cpu"), "bf16") == torch.bfloat16


def test_precision_bf16_on_mps_and_an_unknown_precision_are_refused(apple_silicon):
    with pytest.raises(ValueError, match="not supported on MPS"):
        autocast_dtype(torch.device("mps"), "bf16")
    with pytest.raises(ValueError, match=r"precision must be one of \('fp32', 'auto', 'bf16'\), got 'fp16'"):
        autocast_dtype(torch.device("cpu"), "fp16")


REAL_CPU_FLAGS = device_module.cpu_flags  # taken before any fixture replaces it


def test_cpu_flags_are_those_of_proc_cpuinfo():
    cpuinfo = device_module.Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        assert REAL_CPU_FLAGS() == frozenset()
        return
    line = next(line for line in cpuinfo.read_text().splitlines() if line.startswith("flags"))
    assert REAL_CPU_FLAGS() == frozenset(line.split(":", 1)[1].split())


def test_cpu_device_means_full_precision_even_with_a_gpu(fake_cuda):
    fake_cuda(bf16=True)
    assert mixed_precision(torch.device("cpu")) == {"bf16": False, "fp16": False}


def test_describe_cpu():
    assert describe(torch.device("cpu")) == f"cpu ({torch.get_num_threads()} threads)"


def test_describe_cuda_names_the_card(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Fake GPU 80GB")
    assert describe(torch.device("cuda")) == "cuda (Fake GPU 80GB)"


def test_pick_device_takes_mps_on_apple_silicon(apple_silicon):
    assert pick_device() == torch.device("mps")


def test_pick_device_prefers_cuda_to_mps(fake_cuda, monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device().type == "cuda"


def test_mps_keeps_full_precision(apple_silicon):
    """The README's numbers were measured in fp32: on MPS no bf16/fp16 flags and no autocast either."""
    assert mixed_precision() == {"bf16": False, "fp16": False}  # picks the (fake) MPS device itself
    assert mixed_precision(torch.device("mps")) == {"bf16": False, "fp16": False}
    assert autocast_dtype(torch.device("mps")) is None


def test_training_arguments_get_no_bf16_or_fp16_on_mps(apple_silicon, tmp_path):
    """textsim.training passes ``**mixed_precision()`` to ``TrainingArguments``, as here."""
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none", **mixed_precision())
    assert args.bf16 is False and args.fp16 is False


def test_describe_mps_names_the_apple_gpu():
    assert describe(torch.device("mps")) == "mps (Apple silicon GPU)"


def test_a_gpu_with_only_emulated_bf16_gets_fp16(fake_cuda, monkeypatch):
    """Pre-Ampere cards (a T4, Colab's free GPU) can hold bf16 tensors, so ``torch.cuda.is_bf16_supported()``
    answers True by default, but have no bf16 tensor cores: they get fp16, as the README says."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert mixed_precision(torch.device("cuda")) == {"bf16": False, "fp16": True}
    assert autocast_dtype(torch.device("cuda"), "auto") == torch.float16


def test_speed_flags_are_the_cpus_flags_that_decide_speed_in_their_order(monkeypatch):
    monkeypatch.setattr(device_module, "cpu_flags", lambda: frozenset({"fpu", "amx_tile", "avx2", "avx512_bf16"}))
    assert device_module.speed_flags() == ["avx2", "avx512_bf16", "amx_tile"]
    assert device_module.cpu_name()  # a model name on Linux, platform.processor() elsewhere
