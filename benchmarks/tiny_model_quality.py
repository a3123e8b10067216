"""Measure a trained tiny video model against the quality bar of issue 3, beside physics-free baselines.

Held-out clips use world seeds 0..N-1 (training uses seeds from 10,000,000 up). For each clip the model sees
the first k frames and generates the rest; vidlab.probes measures every generated frame.

    python benchmarks/tiny_model_quality.py --pipeline runs/tiny/pipeline [--clips 256] [--steps 25]
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import check, world  # noqa: E402
from vidlab.pipeline import load_pretrained  # noqa: E402

BAR = {"correct_count": (">=", 0.98), "centre_error_px": ("<=", 1.0), "gravity_rel_error": ("<=", 0.10),
       "radius_cv": ("<=", 0.05)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--clips", type=int, default=256)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    pipe = load_pretrained(args.pipeline)
    cfg = pipe.training_config
    k = cfg["context_frames"]
    clips = [world.simulate(cfg["scenarios"][s % len(cfg["scenarios"])], s, size=cfg["size"],
                            num_frames=cfg["num_frames"], fps=cfg["fps"]) for s in range(args.clips)]
    generated, start = [], time.perf_counter()
    for i in range(0, len(clips), args.batch):
        part = clips[i:i + args.batch]
        out = pipe(context=np.stack([c.video[:k] for c in part]), num_inference_steps=args.steps,
                   generator=torch.Generator().manual_seed(i), progress=False)
        generated += list((out.frames * 255).round().astype(np.uint8))
    per_clip = (time.perf_counter() - start) / len(clips)
    rows = {"model": check.video_metrics(generated, clips, k),
            "copy last frame": check.video_metrics([check.copy_last_frame(c, k) for c in clips], clips, k),
            "constant velocity": check.video_metrics([check.constant_velocity(c, k) for c in clips], clips, k)}
    print(f"{len(clips)} held-out clips, {args.steps} sampling steps, {per_clip:.2f} s per clip")
    print(f"{'':<18} {'right count':>11} {'centre px':>9} {'gravity err':>11} {'radius CV':>9}")
    for name, m in rows.items():
        print(f"{name:<18} {m['correct_count']:11.3f} {m['centre_error_px']:9.2f} {m['gravity_rel_error']:11.3f} "
              f"{m['radius_cv']:9.3f}")
    ok = {key: (rows["model"][key] >= v if op == ">=" else rows["model"][key] <= v) for key, (op, v) in BAR.items()}
    print("bar:", json.dumps(ok))
    record("tiny_model_quality", {"pipeline": args.pipeline, "sampling_steps": args.steps,
                                  "seconds_per_clip": round(per_clip, 3), **{k2: v for k2, v in rows.items()},
                                  "meets_bar": ok, "training_config": cfg})


if __name__ == "__main__":
    main()
