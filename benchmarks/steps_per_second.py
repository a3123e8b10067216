"""Training steps per second of the 10-minute recipe on this machine, with what kind of CPU it is.

A short run of the shipped design (batch 16, a small clip pool) times its steps 10 to the last; the record
beside it says what decides the speed: torch's CPU capability (AVX2, AVX-512, ...), the precision
``vidlab.env`` chose (bf16 only where the CPU has bf16 units) and the measured fp32 matmul peak. The result is
appended to ``benchmarks/results/steps_per_second.jsonl``, which notebook 03 reads.

    python benchmarks/steps_per_second.py [--steps 40] [--clip-pool 256] [--note "..."]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import env, train  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "steps_per_second.jsonl"


def measure(steps: int = 40, clip_pool: int = 256, device=None) -> dict:
    """Steps per second over steps 10..``steps`` of a fresh run, and the machine that made them."""
    device = env.resolve_device(device)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cfg = train.TrainConfig(steps=steps, clip_pool=clip_pool, checkpoint_every=10 ** 9)
    with tempfile.TemporaryDirectory() as folder:
        train.train(cfg, folder, device=device)
        log = [json.loads(line) for line in (Path(folder) / "log.jsonl").read_text().splitlines()]
    seconds = {r["step"]: r["seconds"] for r in log}
    per_step = (seconds[steps] - seconds[10]) / (steps - 10)
    return {"steps_per_second": round(1 / per_step, 3), "timed_steps": f"10-{steps}",
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "precision": env.precision(device).name, "torch": torch.__version__,
            "matmul_peak_fp32_gflops": round(env.matmul_peak(device) / 1e9, 1),
            "device": env.device_label(device), "threads": torch.get_num_threads(),
            "load_average": [load_before, os.getloadavg()[0] if load_before is not None else None]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--clip-pool", type=int, default=256)
    ap.add_argument("--device", default=None)
    ap.add_argument("--note", default="", help="stored with the row, e.g. 'shared machine, 5 agents'")
    args = ap.parse_args()
    row = {"date": time.strftime("%Y-%m-%d"), **measure(args.steps, args.clip_pool, args.device),
           "command": f"python benchmarks/steps_per_second.py --steps {args.steps} --clip-pool {args.clip_pool}",
           "note": args.note}
    record("steps_per_second", row)
    with RESULTS.open("a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
