"""How accurate the probes are on random clips with known ground truth (the figures in the README).

Random scenarios, seeds and backgrounds (plain, textured, several colours) at 64 px; then the same single-ball
and multi-object clips after blur, sensor noise, JPEG and grayscale; then recall of injected failures.

    python benchmarks/probe_accuracy.py [--clips 300]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import check, probes, world  # noqa: E402

BACKGROUNDS = [(255, 255, 255), (20, 20, 20), (90, 130, 180), (230, 220, 180), (128, 128, 128)]
DEGRADATIONS = {"blur 1px": dict(blur=1.0), "noise 3%": dict(noise=0.03), "jpeg q75": dict(jpeg_quality=75),
                "jpeg q85": dict(jpeg_quality=85), "grayscale": dict(grayscale=True)}


def random_clips(n, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield world.simulate(world.SCENARIOS[rng.integers(5)], int(rng.integers(10**6)),
                             background=("plain", "noise")[rng.integers(2)],
                             background_color=BACKGROUNDS[rng.integers(len(BACKGROUNDS))])


def clean_sweep(n):
    errors, gravity, with_events = [], [], 0
    for clip in random_clips(n):
        report = probes.physics_report(clip.video, clip.fps)
        errors.append(check.center_errors(clip, report))
        with_events += bool(report.events)
        if clip.gravity_px_s2 and report.free_flight_frames >= 8:
            gravity.append(abs(report.gravity_px_s2 / clip.gravity_px_s2 - 1))
    err = np.concatenate(errors)
    print(f"clean, {n} random clips: centre error median {np.nanmedian(err):.3f} px, "
          f"p99 {np.nanpercentile(err, 99):.3f}, max {np.nanmax(err):.3f}, objects missed {int(np.isnan(err).sum())}; "
          "gravity error max "
          f"{100 * max(gravity):.2f}% over {len(gravity)} clips; clips with false events {with_events}")
    return {"clips": n, "center_median_px": float(np.nanmedian(err)), "center_max_px": float(np.nanmax(err)),
            "missed": int(np.isnan(err).sum()), "gravity_max_rel": max(gravity), "false_event_clips": with_events}


def degraded(n):
    out = {}
    print(f"degraded, {n} clips per scenario: max centre error px / clips with false events")
    for name, kw in DEGRADATIONS.items():
        row = []
        for scenario in world.SCENARIOS:
            errs, events = [], 0
            for seed in range(n):
                clip = world.simulate(scenario, seed)
                report = probes.physics_report(world.degrade(clip.video, seed=seed, **kw), clip.fps)
                errs.append(check.center_errors(clip, report))
                events += bool(report.events)
            row.append((scenario, float(np.nanmax(np.concatenate(errs))), events))
        out[name] = row
        print(f"  {name:<10}" + "".join(f" {s}: {e:.2f}/{k}" for s, e, k in row))
    return out


def recall(n):
    out = {}
    for kind in ("vanish", "teleport", "morph", "color_change", "interpenetration"):
        r = check.injection_recall(kind, range(n))
        out[kind] = (r["recall"], r["clips"])
    print("recall at the right frame +-1: " + ", ".join(f"{k} {r:.2f} ({c})" for k, (r, c) in out.items()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=300)
    args = ap.parse_args()
    start = time.perf_counter()
    results = {"clean": clean_sweep(args.clips), "degraded": degraded(max(5, args.clips // 10)),
               "recall": recall(max(10, args.clips // 3))}
    record("probe_accuracy", {**results, "seconds": round(time.perf_counter() - start, 1)})


if __name__ == "__main__":
    main()
