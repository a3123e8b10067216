"""A training run's folder and processes: Accelerate on the chosen device, the config check, checkpoints,
resume on any device and with any number of processes, the loss log, and what the processes agree on.

``vidlab.train`` runs the loop; this module keeps the run's records straight. Only the main process writes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from accelerate import Accelerator

from vidlab import env


def latest_checkpoint(output: Path):
    """The newest checkpoint folder of a run, or None."""
    found = sorted((output / "checkpoints").glob("step_*"))
    return found[-1] if found else None


def accelerator_for(output, device) -> Accelerator:
    """Accelerate on ``device`` (None: env's choice, or the launcher's), training in env's precision."""
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    chosen = env.resolve_device(device) if device is not None else None
    # `accelerate launch --cpu` says so through ACCELERATE_USE_CPU, which PartialState alone does not read;
    # without a GPU, processes started by torchrun must be told they share the CPU, or each runs alone
    cpu = chosen.type == "cpu" if chosen is not None else (
        parse_flag_from_env("ACCELERATE_USE_CPU") or env.pick_device() == "cpu")
    if not cpu:
        check_gpus_per_process(int(os.environ.get("LOCAL_WORLD_SIZE", "1")), torch.cuda.device_count())
    state = PartialState(cpu=cpu)  # the process's device, known before the precision is chosen for it
    if chosen is not None and state.device.type != chosen.type:
        raise ValueError(f"device={str(chosen)!r}: this process already trains on {state.device}, and Accelerate "
                         "sets the device once per process: restart the kernel to change it (under torchrun or "
                         "accelerate launch, leave device=None)")
    return Accelerator(project_dir=str(output), cpu=cpu, mixed_precision=env.precision(state.device).accelerate,
                       step_scheduler_with_optimizer=False)  # one schedule step per optimizer step


def check_gpus_per_process(local_processes: int, gpus: int) -> None:
    """NCCL needs a GPU of its own for every process: refuse, with the fix, when more processes start than GPUs."""
    if gpus and local_processes > gpus:
        raise ValueError(f"{local_processes} processes were started on a machine with {gpus} GPU(s): NCCL needs one "
                         f"GPU per process. Start at most {gpus} (torchrun --nproc_per_node {gpus}), or set "
                         "CUDA_VISIBLE_DEVICES= to train all of them on the CPU")


def prepare_output(cfg, output, main: bool) -> Path:
    """Create ``output`` and store the config; refuse to resume a run that had other settings.

    A run saved before a config field existed resumes when this run leaves that field at its default (the
    run trained with the behaviour the default keeps).
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    saved, config = output / "config.json", _as_json(dataclasses.asdict(cfg))
    if saved.exists():
        earlier = json.loads(saved.read_text())
        defaults = _as_json(dataclasses.asdict(type(cfg)()))  # every config field has a default
        added_since = {k: v for k, v in defaults.items() if k not in earlier}
        if {**added_since, **earlier} != config:
            raise ValueError(f"{output} holds a run with a different config: resume with the same settings "
                             f"(see {saved}) or choose a new --output folder")
    if main:
        write_json(saved, config)
    return output


def _as_json(value):
    """``value`` as it reads back from a JSON file (tuples become lists)."""
    return json.loads(json.dumps(value))


def resume(accelerator, output: Path, ema, optimizer, lr_schedule, lr: float) -> tuple:
    """Load the last checkpoint, if any, onto this run's device; return (step, seconds trained so far)."""
    latest = latest_checkpoint(output)
    if latest is None:
        return 0, 0.0
    accelerator.load_state(str(latest))
    if ema is not None:
        ema.to(device=accelerator.device)  # Accelerate restores registered objects on the CPU
    rebase_lr(optimizer, lr_schedule, lr)
    state = json.loads((latest / "vidlab_state.json").read_text())
    if accelerator.is_main_process:
        print(f"resuming from {latest.name} (step {state['step']}, {state['seconds']:.0f} s of training so far)")
    return state["step"], state["seconds"]


def rebase_lr(optimizer, lr_schedule, lr: float) -> None:
    """Put this run's base learning rate (it follows the number of processes) under a restored schedule."""
    schedule = getattr(lr_schedule, "scheduler", lr_schedule)
    for group, old in zip(optimizer.param_groups, schedule.base_lrs, strict=True):
        if old != lr:
            group["lr"] *= lr / old
        group["initial_lr"] = lr
    schedule.base_lrs = [lr] * len(schedule.base_lrs)
    schedule._last_lr = [group["lr"] for group in optimizer.param_groups]


def open_log(log_file: Path, start: int):
    """The loss log, opened for appending; steps after the last checkpoint are trained again, so their lines go."""
    if log_file.exists():
        lines = [ln for ln in log_file.read_text().splitlines() if json.loads(ln)["step"] <= start]
        log_file.write_text("".join(ln + "\n" for ln in lines))
    return open(log_file, "a")


def agree(accelerator, losses: list, over_time: bool) -> tuple:
    """Every process's loss at each of the given steps (one list per step), and whether any process's clock ran
    out (then all stop at this step). ``losses``: this process's loss tensors since the last call."""
    mine = torch.stack([loss.float() for loss in losses])
    if accelerator.num_processes == 1:
        return [[value] for value in mine.tolist()], over_time
    flag = torch.tensor([float(over_time)], device=mine.device)
    both = accelerator.gather(torch.cat([mine, flag])[None])  # [processes, steps + 1]
    return both[:, :-1].T.tolist(), bool(both[:, -1].max().item() > 0)


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as JSON whole or not at all, so another process never reads half a file (numpy numbers and
    arrays as JSON numbers and lists; inf and NaN as Python's json writes them)."""
    write_text(path, json.dumps(data, indent=1, default=plain) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write whole or not at all: into a temporary file of the same folder, then renamed over ``path``. The
    temporary name is unique, so processes (or threads) writing the same file at once never share one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the file replaced was readable by all
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def plain(value):
    """numpy scalars and arrays as the Python numbers and lists JSON can hold (``json.dumps(default=plain)``)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def snapshot_dir(output: Path, minutes: float) -> Path:
    return output / "snapshots" / f"minutes_{minutes:g}"


def checkpoint(accelerator, output: Path, step: int, seconds: float, keep: int = 2):
    """Every process saves its part (the main one the weights and optimizer, each its random state)."""
    folder = output / "checkpoints" / f"step_{step:07d}"
    accelerator.save_state(str(folder), safe_serialization=True)
    if accelerator.is_main_process:
        write_json(folder / "vidlab_state.json", {"step": step, "seconds": round(seconds, 2)})
        for old in sorted((output / "checkpoints").glob("step_*"))[:-keep]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
