"""Sampling levers: time per clip and quality at each number of DDIM steps, in fp32 and in bf16 autocast.

The same held-out clips and seeds for every setting; time per clip in batches of ``--batch``; quality by the
probes (frames with the right ball count, centre error, gravity error, radius CV) against the bar.

    python benchmarks/sampling_speed.py [--pipeline PATH] [--clips 256] [--steps 25 10 8 6] [--device cpu]
"""

import argparse
import contextlib
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import env, evaluate  # noqa: E402
from vidlab.pipeline import load_pretrained  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", default=None, help="default: the shipped checkpoint")
    ap.add_argument("--clips", type=int, default=256)
    ap.add_argument("--steps", type=int, nargs="+", default=[25, 10, 8, 6])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--device", default=None)
    args = ap.parse_args()
    device = env.resolve_device(args.device)
    pipe = load_pretrained(args.pipeline, device=device)
    clips = evaluate.held_out(pipe.training_config, args.clips)
    k = pipe.training_config["context_frames"]
    formats = {name: None if name == "fp32" else env.torch_dtype(name) for name in env.native_formats(device)}
    print(f"{len(clips)} held-out clips, batches of {args.batch}, on {env.device_label(device)}")
    print("| DDIM steps | format | s per clip | right count | centre error | gravity error | radius CV | bar |")
    print("|---|---|---|---|---|---|---|---|")
    rows = {}
    for steps in args.steps:
        for name, dtype in formats.items():
            autocast = torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()
            with autocast:
                began = time.perf_counter()
                generated = evaluate.continue_clips(pipe, clips, steps, args.batch)
                per_clip = (time.perf_counter() - began) / len(clips)
            m = evaluate.video_metrics(generated, clips, k)
            ok = all(evaluate.meets_bar(m).values())
            rows[f"{steps} steps {name}"] = {**m, "seconds_per_clip": per_clip, "meets_bar": ok}
            print(f"| {steps} | {name} | {per_clip:.3f} | {m['correct_count']:.3f} | {m['center_error_px']:.2f} px | "
                  f"{100 * m['gravity_rel_error']:.1f}% | {m['radius_cv']:.3f} | {'yes' if ok else 'no'} |", flush=True)
    record("sampling_speed", {"pipeline": args.pipeline or "shipped", "device": env.device_label(device),
                              "batch": args.batch, "rows": rows})


if __name__ == "__main__":
    main()
