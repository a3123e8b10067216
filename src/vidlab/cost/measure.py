"""Time and memory of one denoising step against the size of the clip, measured on this machine (notebook 08).

Two kinds of model, at growing frame counts and resolutions:

- ``"vidlab"``: this series' tiny denoiser (random weights at the shipped model's width), one forward pass;
- a registry name: that model's offline stand-in (tiny config, random weights) through its real pipeline, one
  guided step as the pipeline runs it (the median after the first).

Each size runs in a fresh Python process, so the process's peak resident memory belongs to that size alone
(``python -m vidlab.cost.measure KIND WIDTH HEIGHT FRAMES`` prints one JSON line). Peak memory includes the
process's base (Python, torch and the model), about the same for every size of one kind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

from vidlab import env


def vidlab_step(width: int, height: int, num_frames: int, repeats: int = 3) -> dict:
    """Seconds of one forward pass of the tiny denoiser on one clip, and its tokens (frames x 4x4 patches)."""
    import torch

    from vidlab import train

    if width != height:
        raise ValueError(f"width={width}, height={height}: the tiny model's frames are square")
    cfg = train.TrainConfig(size=width, num_frames=num_frames)
    net, _ = train.build(cfg)
    x = torch.zeros(1, num_frames, 3, height, width)
    mask = torch.zeros(1, num_frames)
    mask[:, :cfg.context_frames] = 1
    steps = torch.tensor([500])
    times = []
    with torch.no_grad():
        for _ in range(repeats + 1):
            start = time.perf_counter()
            net(x, steps, x * mask[:, :, None, None, None], mask, None)
            times.append(time.perf_counter() - start)
    return {"tokens": num_frames * (height // 4) * (width // 4), "step_seconds": float(np.median(times[1:]))}


def stand_in_step(name: str, width: int, height: int, num_frames: int, steps: int = 4) -> dict:
    """Seconds of one guided step of ``name``'s stand-in through its pipeline, and the tokens its denoiser sees."""
    from vidlab import public
    from vidlab.cost.arithmetic import pipeline_tokens

    model = public.load(name, tiny=True)
    image = np.zeros((height, width, 3)) if name == "svd-xt" else None
    clip = public.generate(model, prompt=None if image is not None else "a ball", image=image, width=width,
                           height=height, num_frames=num_frames, steps=steps)
    return {"tokens": pipeline_tokens(model.pipe, width, height, num_frames),
            "step_seconds": clip.record["step_seconds"]}


def in_fresh_process(kind: str, width: int, height: int, num_frames: int) -> dict:
    """Run one measurement in a new Python process; add its peak resident memory (GiB)."""
    out = subprocess.run([sys.executable, "-m", "vidlab.cost.measure", kind, str(width), str(height),
                          str(num_frames)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"measuring {kind} at {width}x{height}x{num_frames} failed: {out.stderr[-800:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def scaling_exponent(tokens, seconds, last: int = 3) -> float:
    """The slope of log(seconds) against log(tokens) over the ``last`` largest sizes: 1 when the cost is linear
    in the tokens, 2 when attention's N^2 dominates."""
    order = np.argsort(tokens)[-last:]
    return float(np.polyfit(np.log(np.asarray(tokens)[order]), np.log(np.asarray(seconds)[order]), 1)[0])


def main(argv=None) -> None:
    kind, width, height, frames = (argv or sys.argv[1:])[:4]
    width, height, frames = int(width), int(height), int(frames)
    row = vidlab_step(width, height, frames) if kind == "vidlab" else stand_in_step(kind, width, height, frames)
    row["peak_rss_gib"] = env.peak_rss_gib()  # NaN on Windows
    print(json.dumps({"kind": kind, "width": width, "height": height, "frames": frames, **row}))


if __name__ == "__main__":
    main()
