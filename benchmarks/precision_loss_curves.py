"""Does bf16 training follow the fp32 loss curve? Two runs with the same seed, clips and noise, one per format.

Each run is a separate ``python -m vidlab.train`` process (Accelerate fixes the precision once per process),
with ``VIDLAB_PRECISION`` set. Prints the mean loss of both runs over windows of steps, and their ratio.

    python benchmarks/precision_loss_curves.py [--steps 600] [--formats fp32 bf16] [--out runs/precision]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402


def run(fmt: str, steps: int, folder: Path) -> tuple:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vidlab.train", "--output", str(folder), "--steps", str(steps),
                    "--clip-pool", "4096", "--device", "cpu"], check=True, capture_output=True,
                   env={**os.environ, "VIDLAB_PRECISION": fmt})
    losses = [json.loads(line)["loss"] for line in (folder / "log.jsonl").read_text().splitlines()]
    return losses, time.perf_counter() - began


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--formats", nargs=2, default=["fp32", "bf16"])
    ap.add_argument("--out", default="runs/precision_loss_curves")
    args = ap.parse_args()
    curves, seconds = {}, {}
    for fmt in args.formats:
        curves[fmt], seconds[fmt] = run(fmt, args.steps, Path(args.out) / fmt)
    a, b = args.formats
    edges = [0, 50, 100, 200, 400, args.steps]
    print(f"mean training loss, {args.steps} steps, same seed, clips and noise ({a}: {seconds[a]:.0f} s, "
          f"{b}: {seconds[b]:.0f} s including start-up)")
    print(f"| steps | {a} | {b} | {b} / {a} |\n|---|---|---|---|")
    windows = {}
    for lo, hi in zip(edges, edges[1:], strict=False):
        if hi > lo:
            ma, mb = (sum(curves[f][lo:hi]) / (hi - lo) for f in (a, b))
            windows[f"{lo + 1}-{hi}"] = (ma, mb)
            print(f"| {lo + 1}-{hi} | {ma:.5f} | {mb:.5f} | {mb / ma:.3f} |")
    record("precision_loss_curves", {"steps": args.steps, "seconds": seconds, "windows": windows})


if __name__ == "__main__":
    main()
