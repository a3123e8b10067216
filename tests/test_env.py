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


@pytest.mark.parametrize("platform, maxrss", [("linux", 2**20), ("darwin", 2**30)])  # kB on Linux, bytes on macOS
def test_peak_memory_reads_ru_maxrss_in_each_systems_unit(platform, maxrss, monkeypatch):
    import resource
    import sys
    from types import SimpleNamespace

    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(resource, "getrusage", lambda who: SimpleNamespace(ru_maxrss=maxrss))
    assert env.peak_rss_gib() == 1.0


def test_without_the_resource_module_peak_memory_is_nan_and_the_cost_module_still_imports(monkeypatch):
    import importlib
    import math
    import sys

    from vidlab.cost import measure

    monkeypatch.setitem(sys.modules, "resource", None)  # as on Windows: `import resource` raises ImportError
    assert math.isnan(env.peak_rss_gib())
    importlib.reload(measure)


@pytest.mark.parametrize("device, kind", [("cuda", "cuda"), ("cuda:1", "cuda"), ("cpu", "cpu"), ("mps", "mps")])
def test_a_devices_kind_whatever_its_spelling(device, kind):
    import torch

    assert env.device_type(device) == env.device_type(torch.device(device)) == kind


def test_matmul_peak_is_the_best_repeats_rate(monkeypatch):
    clock = iter([0.0, 0.004, 1.0, 1.002, 2.0, 2.003])  # three products timed at 4, 2 and 3 ms
    monkeypatch.setattr(env.time, "perf_counter", lambda: next(clock))
    assert env.matmul_peak("cpu", size=64, repeats=3) == pytest.approx(2 * 64**3 / 0.002)


def test_matmul_peak_measures_this_cpu():
    assert env.matmul_peak("cpu", size=256, repeats=2) > 1e8  # FLOP/s: any CPU does more than 0.1 GFLOP/s
