"""``make gpu-check``: on a CUDA machine, the whole project with the GPU as its device, and a dated report.

Stages (each timed, pass or fail, its output kept under ``runs/gpu_check/``):

1. ``tests``: the test suite in fast mode (``VIDLAB_FAST=1 pytest``). ``env.pick_device()`` chooses cuda here, so
   every test that does not name its device runs on the GPU. The notebooks' fast runs are left to stage 2.
2. ``notebooks``: every notebook top to bottom in fast mode, each in a fresh kernel, then that kernel shut down
   on its own with a time limit: the report says whether it exited on the shutdown request, had to be
   terminated or killed, and how long that took (notebook 03's fast-mode kernel once did not shut down on an
   H100).
3. ``train``: a full-mode training run (``python -m vidlab.train``), interrupted with Ctrl+C (SIGINT) after
   some steps, then resumed with the same ``--output``; it must resume from its checkpoint and finish.

The report goes to ``benchmarks/results/gpu_check_YYYY-MM-DD.md``: machine, GPU, torch and CUDA versions, each
stage's result and seconds. Without CUDA the script says so and exits with status 2.

    python scripts/gpu_check.py [--only tests notebooks train] [--train-steps 600 --interrupt-at 250]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "runs" / "gpu_check"
STAGES = ("tests", "notebooks", "train")
NO_GPU = ("make gpu-check needs an NVIDIA GPU with CUDA, and torch sees none here ({why}). Run it on a CUDA "
          "machine (Colab: Runtime > Change runtime type > T4 GPU); on this one, `make test` checks the CPU path.")


def cuda_or_exit() -> dict:
    """What the report says about the GPU; exits with status 2 and the reason when there is no CUDA GPU."""
    import torch

    if not torch.cuda.is_available():
        why = f"torch {torch.__version__}, " + ("a CPU-only build" if torch.version.cuda is None
                                                 else f"built for CUDA {torch.version.cuda}, but no usable GPU")
        print(NO_GPU.format(why=why), file=sys.stderr)
        raise SystemExit(2)
    return {"gpu": torch.cuda.get_device_name(0), "gpus": torch.cuda.device_count(),
            "compute_capability": ".".join(map(str, torch.cuda.get_device_capability(0))),
            "torch": torch.__version__, "cuda": torch.version.cuda, "cpu_count": os.cpu_count(),
            "platform": platform.platform(), "python": platform.python_version()}


def run_logged(name: str, command: list, env: dict, timeout: float) -> dict:
    """Run ``command`` with its output in ``runs/gpu_check/NAME.log``; its result, seconds and output tail."""
    log = LOGS / f"{name}.log"
    start = time.perf_counter()
    with log.open("w") as out:
        try:
            code = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            code = f"timed out after {timeout:.0f} s"
    return {"passed": code == 0, "seconds": round(time.perf_counter() - start, 1), "detail": f"exit {code}",
            "tail": log.read_text()[-3000:], "log": str(log.relative_to(ROOT))}


def stage_tests(args) -> dict:
    env = {**os.environ, "VIDLAB_FAST": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k",
               "not test_notebook_runs_in_fast_mode"]  # stage 2 runs the notebooks, with the kernel's shutdown
    return run_logged("tests", command, env, args.tests_timeout)


def run_notebook(path: Path, cell_timeout: int, shutdown_timeout: float) -> dict:
    """Execute one notebook in fast mode in its own kernel, then time that kernel's shutdown."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    row = {"notebook": path.name}
    start = time.perf_counter()
    try:
        client.execute(cleanup_kc=False)  # the kernel stays up: its shutdown is timed on its own below
        row["passed"], row["detail"] = True, ""
    except Exception as err:  # a failing cell, a cell timeout, a dead kernel: report it and go on
        row["passed"], row["detail"] = False, f"{type(err).__name__}: {str(err)[-300:]}"
    row["seconds"] = round(time.perf_counter() - start, 1)
    row.update(shut_down(client, shutdown_timeout))
    return row


def shut_down(client, timeout: float) -> dict:
    """Shut ``client``'s kernel down (a shutdown request; jupyter_client terminates, then kills, a kernel that is
    still there after ``timeout``). Whether it exited on the request, and how long that took."""
    import asyncio

    from jupyter_core.utils import ensure_async, run_sync

    km = client.km
    if km is None or not km.has_kernel:
        return {"shutdown": "no kernel", "shutdown_seconds": 0.0}
    km.shutdown_wait_time = timeout

    async def request():  # jupyter_client's own escalation ends within the timeout; longer means a hang
        await asyncio.wait_for(ensure_async(km.shutdown_kernel(now=False)), timeout + 30)

    start = time.perf_counter()
    try:
        run_sync(request)()
        status = getattr(getattr(km, "_shutdown_status", None), "value", "unknown")
        outcome = {"ShutdownRequest": "clean (exited on the request)", "SigtermRequest": "terminated (SIGTERM)",
                   "SigkillRequest": "killed (SIGKILL)"}.get(status, status)
    except TimeoutError:
        outcome = f"hung: no end in {timeout + 30:.0f} s"
    except Exception as err:  # reported, not raised: the next notebook still runs
        outcome = f"{type(err).__name__}: {err}"
    seconds = round(time.perf_counter() - start, 1)
    if client.kc is not None:
        client.kc.stop_channels()
    return {"shutdown": outcome, "shutdown_seconds": seconds}


def stage_notebooks(args) -> dict:
    os.environ["VIDLAB_FAST"] = "1"  # the kernels inherit it
    start = time.perf_counter()
    rows = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        rows.append(run_notebook(path, args.cell_timeout, args.shutdown_timeout))
        print(f"  {path.name}: {'passed' if rows[-1]['passed'] else 'FAILED'} in {rows[-1]['seconds']} s; "
              f"kernel shutdown {rows[-1]['shutdown']} in {rows[-1]['shutdown_seconds']} s", flush=True)
    failed = [r["notebook"] for r in rows if not r["passed"]]
    unclean = [r["notebook"] for r in rows if not r["shutdown"].startswith("clean")]
    detail = "; ".join(filter(None, [f"failed: {', '.join(failed)}" if failed else "",
                                     f"kernel not shut down cleanly: {', '.join(unclean)}" if unclean else ""]))
    return {"passed": not failed, "seconds": round(time.perf_counter() - start, 1), "detail": detail or "all ran",
            "notebooks": rows}


def stage_train(args) -> dict:
    """Full mode, on the GPU: SIGINT once the log passes ``interrupt_at``, then the same command resumes."""
    output = LOGS / "train"
    if output.exists():
        import shutil

        shutil.rmtree(output)
    env = {k: v for k, v in os.environ.items() if k != "VIDLAB_FAST"}
    command = [sys.executable, "-m", "vidlab.train", "--output", str(output), "--steps", str(args.train_steps),
               "--checkpoint-every", str(args.checkpoint_every)]
    start = time.perf_counter()
    with (LOGS / "train_interrupted.log").open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        reached = 0
        while proc.poll() is None and reached < args.interrupt_at and time.perf_counter() - start < args.train_timeout:
            time.sleep(1)
            reached = _last_step(output / "log.jsonl")
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # as Ctrl+C in a terminal
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
    stopped_at = _last_step(output / "log.jsonl")
    resumed = run_logged("train_resumed", command, env, args.train_timeout)
    state = json.loads((output / "state.json").read_text()) if (output / "state.json").exists() else {}
    steps = [json.loads(line)["step"] for line in (output / "log.jsonl").read_text().splitlines()] \
        if (output / "log.jsonl").exists() else []
    checks = {"interrupted before the end": 0 < stopped_at < args.train_steps,
              "resumed from a checkpoint": "resuming from" in resumed["tail"],
              "finished every step": state.get("step") == args.train_steps,
              "each step logged once": steps == list(range(1, args.train_steps + 1))}
    failed = [name for name, ok in checks.items() if not ok]
    return {"passed": resumed["passed"] and not failed, "seconds": round(time.perf_counter() - start, 1),
            "detail": f"SIGINT at step {stopped_at} of {args.train_steps}; "
                      + (f"failed: {', '.join(failed)}" if failed else "resumed and finished"),
            "tail": resumed["tail"], "log": resumed["log"]}


def _last_step(log: Path) -> int:
    try:
        lines = log.read_text().splitlines()
        return json.loads(lines[-1])["step"] if lines else 0
    except (OSError, ValueError, KeyError):  # not written yet, or a line half-written
        return 0


def report(machine: dict, results: dict, args) -> str:
    """The Markdown report: the machine, then one row per stage, the notebooks' table, and failures' output."""
    lines = [f"# make gpu-check, {time.strftime('%Y-%m-%d %H:%M')}", "",
             f"- GPU: {machine['gpu']} (compute capability {machine['compute_capability']}, {machine['gpus']} "
             f"visible)", f"- torch {machine['torch']}, CUDA {machine['cuda']}, Python {machine['python']}",
             f"- machine: {machine['platform']}, {machine['cpu_count']} CPU cores",
             f"- git commit: {_commit()}", f"- settings: {vars(args)}", "",
             "| stage | result | seconds | detail |", "|---|---|---:|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {'pass' if r['passed'] else 'FAIL'} | {r['seconds']} | {r['detail']} |")
    rows = results.get("notebooks", {}).get("notebooks", [])
    if rows:
        lines += ["", "## Notebooks (fast mode) and their kernels' shutdown", "",
                  "| notebook | result | seconds | kernel shutdown | shutdown seconds |", "|---|---|---:|---|---:|"]
        lines += [f"| {r['notebook']} | {'pass' if r['passed'] else 'FAIL: ' + r['detail']} | {r['seconds']} | "
                  f"{r['shutdown']} | {r['shutdown_seconds']} |" for r in rows]
    for name, r in results.items():
        if not r["passed"] and r.get("tail"):
            lines += ["", f"## {name}: the end of its output ({r['log']})", "", "```", r["tail"].strip(), "```"]
    return "\n".join(lines) + "\n"


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("VIDLAB_GIT_COMMIT", "unknown (a copy without git)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--tests-timeout", type=float, default=3600)
    parser.add_argument("--cell-timeout", type=int, default=600)
    parser.add_argument("--shutdown-timeout", type=float, default=30)
    parser.add_argument("--train-steps", type=int, default=600)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--interrupt-at", type=int, default=250)
    parser.add_argument("--train-timeout", type=float, default=1800)
    parser.add_argument("--report", type=Path, default=None, help="default: benchmarks/results/gpu_check_DATE.md")
    args = parser.parse_args(argv)
    machine = cuda_or_exit()
    LOGS.mkdir(parents=True, exist_ok=True)
    stages = {"tests": stage_tests, "notebooks": stage_notebooks, "train": stage_train}
    results = {}
    for name in args.only:
        print(f"{name} ...", flush=True)
        results[name] = stages[name](args)
        print(f"{name}: {'pass' if results[name]['passed'] else 'FAIL'} in {results[name]['seconds']} s "
              f"({results[name]['detail']})", flush=True)
    path = args.report or ROOT / "benchmarks" / "results" / f"gpu_check_{time.strftime('%Y-%m-%d')}.md"
    path.write_text(report(machine, results, args))
    print(f"report: {path}")
    return 0 if all(r["passed"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
