"""vidlab.env: fast mode, device choice, version report."""

import pytest

from vidlab import env


def test_fast_mode_follows_the_variable(monkeypatch):
    monkeypatch.setenv("VIDLAB_FAST", "1")
    assert env.fast_mode()
    monkeypatch.setenv("VIDLAB_FAST", "0")
    assert not env.fast_mode()
    monkeypatch.delenv("VIDLAB_FAST")
    assert not env.fast_mode()


def test_report_prints_versions_and_returns_a_device(capsys):
    device = env.report()
    out = capsys.readouterr().out
    assert device in ("cuda", "mps", "cpu") and "numpy" in out and "device" in out and "pymunk" in out


def test_machine_record_and_gpu_message(capsys):
    info = env.machine()
    assert info["cpu_count"] >= 1 and info["device"] == env.pick_device()
    if env.pick_device() != "cuda":
        assert env.gpu_available("the Wan 2.1 demo") is False
        assert "Runtime > Change runtime type" in capsys.readouterr().out


def test_precision_names_map_to_torch_dtypes():
    import torch

    assert env.torch_dtype("bf16") == torch.bfloat16 and env.Precision("fp16", "").dtype == torch.float16
    with pytest.raises(ValueError, match="precision 'fp8': expected one of"):
        env.torch_dtype("fp8")
