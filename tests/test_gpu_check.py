"""scripts/gpu_check.py (``make gpu-check``): what it does without a GPU, and the report it writes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
try:
    import gpu_check
finally:
    sys.path.pop(0)


def test_without_cuda_it_says_so_and_writes_no_report(tmp_path):
    report = tmp_path / "report.md"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--report", str(report)],
                            env={**os.environ, "CUDA_VISIBLE_DEVICES": ""}, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2, result.stderr
    assert "make gpu-check needs an NVIDIA GPU with CUDA" in result.stderr and torch.__version__ in result.stderr
    assert not report.exists()


def test_the_report_gives_each_stage_and_each_notebooks_kernel_shutdown():
    machine = {"gpu": "NVIDIA H200", "gpus": 1, "compute_capability": "9.0", "torch": "2.13.0", "cuda": "13.0",
               "python": "3.12", "platform": "Linux", "cpu_count": 16}
    notebooks = [{"notebook": "03_training.ipynb", "passed": True, "detail": "", "seconds": 40.0,
                  "shutdown": "killed (SIGKILL)", "shutdown_seconds": 30.2}]
    results = {"tests": {"passed": True, "seconds": 300.0, "detail": "exit 0", "tail": "", "log": "x"},
               "notebooks": {"passed": True, "seconds": 41.0, "detail": "kernel not shut down cleanly: 03",
                             "notebooks": notebooks},
               "train": {"passed": False, "seconds": 90.0, "detail": "failed: resumed from a checkpoint",
                         "tail": "Traceback: boom", "log": "runs/gpu_check/train_resumed.log"}}
    text = gpu_check.report(machine, results, gpu_check.argparse.Namespace(train_steps=600))
    assert "NVIDIA H200" in text and "torch 2.13.0, CUDA 13.0" in text
    assert "| tests | pass | 300.0 |" in text and "| train | FAIL | 90.0 |" in text
    assert "| 03_training.ipynb | pass | 40.0 | killed (SIGKILL) | 30.2 |" in text
    assert "Traceback: boom" in text  # a failed stage's output is in the report


@pytest.mark.parametrize("content, step", [("", 0), ('{"step": 1}\n{"step": 2}\n', 2), ('{"step": 1}\n{"st', 0)])
def test_the_training_stage_reads_the_last_logged_step(tmp_path, content, step):
    (tmp_path / "log.jsonl").write_text(content)
    assert gpu_check._last_step(tmp_path / "log.jsonl") == step
    assert gpu_check._last_step(tmp_path / "missing.jsonl") == 0


def test_a_notebook_runs_in_its_own_kernel_whose_shutdown_is_timed(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1 + 1\nprint(x)")])
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    row = gpu_check.run_notebook(tmp_path / "tiny.ipynb", cell_timeout=120, shutdown_timeout=20)
    assert row["passed"] and row["notebook"] == "tiny.ipynb"
    assert row["shutdown"] == "clean (exited on the request)" and 0 <= row["shutdown_seconds"] < 20
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    nbformat.write(broken, tmp_path / "broken.ipynb")
    row = gpu_check.run_notebook(tmp_path / "broken.ipynb", cell_timeout=120, shutdown_timeout=20)
    assert not row["passed"] and "ZeroDivisionError" in row["detail"] and row["shutdown"].startswith("clean")
