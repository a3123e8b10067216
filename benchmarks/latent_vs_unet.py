"""Head to head at equal CPU time: the pixel U-Net against the latent DiT, timed side by side in one run.

Issue 24's performance goal: in fp32 on 2 threads, the DiT, trained on the shipped VAE, reaches the quality bar
in at most a quarter of the U-Net's time. The run has two phases, so that the time is measured on a quiet CPU
while the long trainings may share it:

1. **Plan** (a JSON file in ``benchmarks/results/``, committed; it needs the CPU to itself at ``--threads``):
   each contestant's seconds per training step and start-up are timed (``train.step_timing``), one after the
   other in this process, and turned into the steps that fit in ``--minutes`` and in each mark of ``--marks``
   (``train.planned_steps``, as the 10-minute recipe plans its schedule). Its sampling seconds per clip at 1, 4
   and 25 steps are timed too (they do not depend on the weights), and its GFLOP per training step (the DiT's
   includes its frozen VAE's encoding) with the share of the measured fp32 matmul peak.
2. **Train and measure** (resumable; may run on a loaded CPU, one process per contestant with ``--only``): each
   trains the planned steps, saving its pipeline at each mark's step count; every snapshot is measured on
   ``--clips`` held-out clips against ``evaluate.QUALITY_BAR``. The first mark that meets every part of the bar
   is the model's time to the bar (an upper bound: a run planned for that many minutes would have decayed its
   learning rate by then). Steps do not depend on the load, so a run on a busy CPU gives the same snapshots as
   one on a quiet one; its wall-clock seconds are recorded as well, for what they are.

Both train on 17-frame clips with 5 given frames (the VAE's 1 + 4k layout; the U-Net's recipe otherwise has 16
and 4) and make the same 12 frames of the same held-out clips: one more given frame lowers the error, so the
U-Net gets it too. The VAE's own training time is the VAE run's record (``--vae``).

    VIDLAB_PRECISION=fp32 python benchmarks/latent_vs_unet.py --vae tiny-latent --minutes 40 --plan-only
    VIDLAB_PRECISION=fp32 python benchmarks/latent_vs_unet.py --vae tiny-latent --minutes 40 --only U-Net \\
        --threads 1 &   # and the same with --only DiT: both train at once
"""

import argparse
import dataclasses
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import env, evaluate, runs, train  # noqa: E402
from vidlab.pipeline import load_pretrained  # noqa: E402

PLANS = Path(__file__).parent / "results"
RESULTS = PLANS / "latent_vs_unet.jsonl"
SAMPLING_STEPS = (1, 4, 25)


def configs(vae: str, seed: int, pool: int) -> dict:
    """name -> the TrainConfig of each contestant (the DiT's settings: vidlab.train.TrainConfig's defaults)."""
    return {"pixel U-Net": train.TrainConfig(clip_pool=pool, seed=seed, num_frames=17, context_frames=5),
            "latent DiT": train.TrainConfig(clip_pool=pool, seed=seed, family="latent_dit", vae=vae,
                                            num_frames=17, context_frames=5)}


def plan(contestants: dict, minutes: float, marks: list, output: Path, machine: dict, path: Path) -> dict:
    """Phase 1: each contestant's timing here, one after the other, and the steps it trains; kept in ``path``
    (committed, so a later run, on a loaded CPU or in another session, trains by this plan)."""
    if path.exists():
        return json.loads(path.read_text())
    out = {"minutes": minutes, "marks": marks, "runnable_before": _runnable(), **machine}
    for name, cfg in contestants.items():
        per_step, start_up = train.step_timing(cfg)
        one_step = train.train(dataclasses.replace(cfg, steps=1, clip_pool=cfg.batch_size),
                               output / f"{_folder(name)}_untrained")
        flops = train.step_flops(one_step.network, cfg)
        out[name] = {"seconds_per_step": round(per_step, 4), "steps_per_second": round(1 / per_step, 3),
                     "start_up_seconds": round(start_up, 1), "steps": train.planned_steps(minutes, per_step, start_up),
                     "snapshot_steps": {f"{m:g}": train.planned_steps(m, per_step, start_up) for m in marks},
                     "gflop_per_step": round(flops / 1e9, 2),
                     "share_of_fp32_peak": round(flops / per_step / env.matmul_peak("cpu"), 3),
                     "sampling_seconds_per_clip": sampling_seconds(output / f"{_folder(name)}_untrained" / "pipeline")}
    out["runnable_after"] = _runnable()
    runs.write_json(path, out)
    return out


def train_by_plan(cfg, planned: dict, folder: Path) -> dict:
    """Phase 2: train ``cfg`` the planned steps (resumable), with a snapshot at each mark's step count."""
    cfg = dataclasses.replace(cfg, steps=planned["steps"], max_minutes=None,
                              snapshot_steps=tuple(sorted(set(planned["snapshot_steps"].values()))))
    began = time.perf_counter()
    train.train(cfg, folder)
    return {"wall_seconds_here": round(time.perf_counter() - began, 1),
            "runnable_at_end_of_training": _runnable()}


def measure(folder: Path, clips: int) -> dict:
    """One snapshot on held-out clips: the probes' figures, whether each part of the bar is met."""
    pipe = load_pretrained(folder, device="cpu")
    held = evaluate.held_out(pipe.training_config, clips)
    metrics = evaluate.video_metrics(evaluate.continue_clips(pipe, held, 25), held,
                                     pipe.training_config["context_frames"])
    return {"steps_done": pipe.training_config["steps_done"], **metrics, "meets": evaluate.meets_bar(metrics)}


def sampling_seconds(folder: Path, clips: int = 16) -> dict:
    """Seconds per clip to generate 12 frames at each of ``SAMPLING_STEPS``, in one batch of ``clips``."""
    pipe = load_pretrained(folder, device="cpu")
    held = evaluate.held_out(pipe.training_config, clips)
    out = {}
    for steps in SAMPLING_STEPS:
        start = time.perf_counter()
        evaluate.continue_clips(pipe, held, steps, batch_size=clips)
        out[str(steps)] = round((time.perf_counter() - start) / clips, 4)
    return out


def _runnable() -> int | None:
    """Processes running or ready to run now, this one included (Linux): 1 on a quiet CPU. A load average
    would still count, for a minute, processes stopped to quiet the CPU."""
    try:
        return int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return None


def _cpu_model() -> str:
    """The CPU's model name and its matrix units (Linux), e.g. 'Intel(R) Xeon(R) Processor; amx_bf16 avx512_bf16'."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    return f"{name}; " + " ".join(f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2") if f in flags)


def _folder(name: str) -> str:
    return name.replace(" ", "_")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vae", required=True, help="the trained VAE: a family='vae' run's pipeline/, or a name")
    ap.add_argument("--minutes", type=float, default=40.0)
    ap.add_argument("--marks", type=float, nargs="+", default=[2, 5, 10, 20, 40])
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clip-pool", type=int, default=16384, help="distinct training clips (the recipe's 16,384)")
    ap.add_argument("--output", default="runs/latent_vs_unet", help="the runs' folders (resumable)")
    ap.add_argument("--plan", default="", help="the plan's file (default: in benchmarks/results, by precision, "
                    "minutes and seed)")
    ap.add_argument("--plan-only", action="store_true", help="time both and write plan.json; train nothing")
    ap.add_argument("--results", default=str(RESULTS), help="the JSON-lines file the rows are added to")
    ap.add_argument("--only", default="", help="train only the contestants whose name contains this")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    marks = sorted(m for m in args.marks if m <= args.minutes)
    machine = {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "bf16_units": env.cpu_has_bf16_units(),
               "cpu_model": _cpu_model(), "precision": env.precision("cpu").name, "threads": torch.get_num_threads(),
               "matmul_peak_fp32_gflops": round(env.matmul_peak("cpu") / 1e9, 1), "torch": torch.__version__}
    output = Path(args.output) / f"{machine['precision']}_{args.minutes:g}min_seed{args.seed}"
    contestants = configs(args.vae, args.seed, args.clip_pool)
    plan_file = Path(args.plan or PLANS / f"latent_vs_unet_plan_{output.name}.json")
    timing = plan(contestants, args.minutes, marks, output, machine, plan_file)
    print(json.dumps(timing, indent=1))
    if args.plan_only:
        return
    for name, cfg in contestants.items():
        if args.only.lower() not in name.lower():
            continue
        folder = output / _folder(name)
        run = train_by_plan(cfg, timing[name], folder)
        snapshots = {m: measure(train.snapshot_step_dir(folder, step), args.clips)
                     for m, step in timing[name]["snapshot_steps"].items()}
        to_bar = next((float(m) for m, s in snapshots.items() if all(s["meets"].values())), None)
        row = {"model": name, "minutes": args.minutes, "time_to_bar_minutes": to_bar,
               "steps_to_bar": timing[name]["snapshot_steps"][f"{to_bar:g}"] if to_bar else None,
               **{k: v for k, v in timing[name].items() if k != "snapshot_steps"}, **run,
               "snapshots": snapshots, "final": measure(folder / "pipeline", args.clips), "clips": args.clips,
               "vae": args.vae if cfg.family == "latent_dit" else None, "seed": args.seed,
               **{k: v for k, v in timing.items() if k not in contestants}}  # the plan's machine and load
        record("latent_vs_unet", row)
        with Path(args.results).open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
