import pytest
import torch
from transformers import TrainingArguments

from textsim.device import autocast_dtype, describe, mixed_precision, pick_device


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


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
    assert autocast_dtype(torch.device("cuda")) == torch.bfloat16


def test_mixed_precision_fp16_on_an_older_gpu(fake_cuda):
    fake_cuda(bf16=False)
    assert mixed_precision(torch.device("cuda")) == {"bf16": False, "fp16": True}
    assert autocast_dtype(torch.device("cuda")) == torch.float16


def test_mixed_precision_none_on_cpu(cpu_only):
    assert mixed_precision() == {"bf16": False, "fp16": False}
    assert mixed_precision(torch.device("cpu")) == {"bf16": False, "fp16": False}
    assert autocast_dtype(torch.device("cpu")) is None


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
    assert autocast_dtype(torch.device("cuda")) == torch.float16
