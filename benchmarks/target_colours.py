"""Does ``physics_report(target=name)`` find a ball of every colour the world's palette names, as public models
draw it? The figures behind notebook 07's section 2 (``benchmarks/results/target_colours_cpu.txt``).

Each colour of ``world.COLORS`` is thrown in the open world of the image-to-video trials (as wide as the
frame, a drawn floor) at 448x256, 16 frames at 10 fps, drawn four ways:

- plain: a flat white backdrop, a flat ball, no shadow;
- shaded+shadow: a lit backdrop (lighting 0.5, vignette 0.3), the ball shaded by 0.3, a shadow of 0.5;
- JPEG q75 and q50: the shaded frames through JPEG at that quality.

Per cell, over the seeds: the share of frames in which a target track's centre lies within half a radius of
the true centre (found), the median and largest centre error of those (px), the clips with a track of the
target colour that is not the ball (extra), and the clips the probes refused.

    python benchmarks/target_colours.py [--seeds 6] [--out benchmarks/results/target_colours_cpu.txt]
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import probes, world  # noqa: E402
from vidlab.public import trials  # noqa: E402
from vidlab.world.style import Style  # noqa: E402

FLOOR = trials.MODEL_STYLE.floor
LIT = Style(lighting=0.5, vignette=0.3, shading=0.3, shadow=0.5, floor=FLOOR)
CONDITIONS = {"plain": (Style(background=(255, 255, 255), floor=FLOOR), None), "shaded+shadow": (LIT, None),
              "JPEG q75": (LIT, 75), "JPEG q50": (LIT, 50)}


def measure(name: str, style: Style, quality, seeds) -> dict:
    """One cell of the table: the colour ``name`` drawn in ``style`` (through JPEG at ``quality``)."""
    found, errors, extra, refused = [], [], 0, []
    for seed in seeds:
        s = trials.open_world("projectile", seed, 448, 256, 16, 10.0, style, color=name)
        video = s.video if quality is None else world.degrade(s.video, jpeg_quality=quality)
        report = probes.physics_report(video, s.fps, target=name)
        if not report.measurable:
            refused.append(report.unmeasurable)
            found.append(0.0)
            continue
        truth = s.centers[:, 0]
        gaps = np.array([np.linalg.norm(t.centers - truth, axis=1) for t in report.tracks])  # [tracks, T]
        gaps = np.where(np.isnan(gaps), np.inf, gaps)
        near = gaps.min(0) <= s.radii[:, 0] / 2
        found.append(float(near.mean()))
        errors += gaps.min(0)[near].tolist()
        extra += int(any(np.all(g > s.radii[:, 0] / 2) for g in gaps))  # a track that is never the ball
    return {"found": float(np.mean(found)), "median_px": float(np.median(errors)) if errors else None,
            "max_px": float(np.max(errors)) if errors else None, "extra": extra, "refused": len(refused),
            "why": refused[:1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=6, help="clips per cell (seeds 0 to N - 1)")
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args()
    start, seeds = time.time(), range(args.seeds)
    lines = [f"target= on every colour of world.COLORS: {args.seeds} clips per cell, 448x256, 16 frames at 10 fps "
             "(open world, drawn floor); found = share of frames with a target track within r/2 of the true "
             "centre; error = centre error of those, median / max px; extra = clips with a target track that "
             "is never the ball; refused = clips the probes refused",
             "", "| colour | " + " | ".join(CONDITIONS) + " |", "|---|" + "---|" * len(CONDITIONS)]
    results = {}
    for name in world.COLORS:
        cells = []
        for condition, (style, quality) in CONDITIONS.items():
            r = results[f"{name} {condition}"] = measure(name, style, quality, seeds)
            err = "n/a" if r["median_px"] is None else f"{r['median_px']:.2f} / {r['max_px']:.2f} px"
            cells.append(f"found {r['found']:.2f}, {err}, extra {r['extra']}, refused {r['refused']}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    lines.append(f"\n{time.time() - start:.0f} s on {os.cpu_count()} CPU cores, {time.strftime('%Y-%m-%d')}")
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    record("target_colours", {"seeds": args.seeds, "cells": results})


if __name__ == "__main__":
    main()
