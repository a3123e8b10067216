"""Head to head at equal CPU time: the pixel U-Net against the latent DiT, trained side by side in one run.

Issue 24's performance goal: in fp32 on 2 threads, the DiT, trained on the shipped VAE, reaches the quality bar
in at most a quarter of the U-Net's time. Each model trains for ``--minutes`` here (its learning rate planned
to end then, as the 10-minute recipe does), saving its pipeline after each mark of ``--marks``; every snapshot
is then measured on ``--clips`` held-out clips against ``evaluate.QUALITY_BAR``. The first mark whose snapshot
meets every part of the bar is the model's time to the bar (an upper bound: a run planned for that many minutes
would have decayed its learning rate by then). Also recorded: steps per second, GFLOP per training step (the
DiT's includes its frozen VAE's encoding) and the share of the measured fp32 matmul peak, and the sampling
seconds per clip at 1, 4 and 25 steps. The VAE's own training time is the VAE run's record (``--vae``).

Both train on 17-frame clips with 5 given frames (the VAE's 1 + 4k layout; the U-Net's recipe otherwise has 16
and 4) and make the same 12 frames of the same held-out clips: one more given frame lowers the error, so the
U-Net gets it too.

    VIDLAB_PRECISION=fp32 python benchmarks/latent_vs_unet.py --vae runs/vae/pipeline --minutes 40 \\
        [--marks 2 5 10 20 40] [--clips 64] [--threads 2] [--only dit]
"""

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import env, evaluate, runs, train  # noqa: E402
from vidlab.pipeline import load_pretrained  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "latent_vs_unet.jsonl"
SAMPLING_STEPS = (1, 4, 25)


def configs(vae: str, seed: int, pool: int) -> dict:
    """name -> the TrainConfig of each contestant (the DiT's settings: vidlab.train.TrainConfig's defaults)."""
    return {"pixel U-Net": train.TrainConfig(clip_pool=pool, seed=seed, num_frames=17, context_frames=5),
            "latent DiT": train.TrainConfig(clip_pool=pool, seed=seed, family="latent_dit", vae=vae,
                                            num_frames=17, context_frames=5)}


def train_for(cfg, minutes: float, marks: list, folder: Path) -> dict:
    """Train ``cfg`` for ``minutes`` here (resumable), with a snapshot at each mark; its run's figures."""
    cfg = train.fit_to_minutes(dataclasses.replace(cfg, snapshot_minutes=tuple(marks)), minutes, folder)
    pipe = train.train(cfg, folder)
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    seconds = {r["step"]: r["seconds"] for r in log}
    last = max(seconds)
    first = 10 if last > 20 else min(seconds)  # steps per second past the first 10 (the pool is made before)
    rate = (last - first) / max(seconds[last] - seconds[first], 1e-9)
    flops = train.step_flops(pipe.network, cfg)
    return {"steps": last, "steps_per_second": round(rate, 3), "gflop_per_step": round(flops / 1e9, 2),
            "share_of_fp32_peak": round(flops * rate / env.matmul_peak("cpu"), 3)}


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vae", required=True, help="the trained VAE's folder (a family='vae' run's pipeline/)")
    ap.add_argument("--minutes", type=float, default=40.0)
    ap.add_argument("--marks", type=float, nargs="+", default=[2, 5, 10, 20, 40])
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clip-pool", type=int, default=16384, help="distinct training clips (the recipe's 16,384)")
    ap.add_argument("--output", default="runs/latent_vs_unet", help="the runs' folders (resumable)")
    ap.add_argument("--only", default="", help="run only the contestants whose name contains this")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    marks = sorted(m for m in args.marks if m <= args.minutes)
    machine = {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "bf16_units": env.cpu_has_bf16_units(),
               "precision": env.precision("cpu").name, "threads": torch.get_num_threads(),
               "matmul_peak_fp32_gflops": round(env.matmul_peak("cpu") / 1e9, 1), "torch": torch.__version__}
    for name, cfg in configs(args.vae, args.seed, args.clip_pool).items():
        if args.only.lower() not in name.lower():
            continue
        folder = Path(args.output) / f"{name.replace(' ', '_')}_{machine['precision']}_{args.minutes:g}min"
        run = train_for(cfg, args.minutes, marks, folder)
        snapshots = {f"{m:g}": measure(runs.snapshot_dir(folder, m), args.clips) for m in marks
                     if runs.snapshot_dir(folder, m).exists()}
        to_bar = next((float(m) for m, s in snapshots.items() if all(s["meets"].values())), None)
        row = {"model": name, "minutes": args.minutes, "time_to_bar_minutes": to_bar, **run,
               "snapshots": snapshots, "final": measure(folder / "pipeline", args.clips),
               "sampling_seconds_per_clip": sampling_seconds(folder / "pipeline"), "clips": args.clips,
               "vae": args.vae if cfg.family == "latent_dit" else None, "seed": args.seed, **machine}
        record("latent_vs_unet", row)
        with RESULTS.open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
