"""How long vidlab.probes.physics_report takes on a 16-frame 64x64 clip, on one core (target <= 20 ms).

Reports the median over clips of every scenario, on plain and on textured backgrounds.

    python benchmarks/probe_speed.py [--clips 40]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import one_core, record  # noqa: E402

one_core()
from vidlab import probes, world  # noqa: E402


def time_reports(clips, repeats=5):
    times = []
    for clip in clips:
        best = min(_once(clip) for _ in range(repeats))  # the least-disturbed run on a shared machine
        times.append(best)
    return times


def _once(clip):
    t0 = time.perf_counter()
    probes.physics_report(clip.video, clip.fps)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=40, help="clips per scenario and background")
    args = ap.parse_args()
    results = {}
    for background in ("plain", "noise"):
        for scenario in world.SCENARIOS:
            clips = [world.simulate(scenario, s, background=background) for s in range(args.clips)]
            results[f"{scenario}/{background}"] = statistics.median(time_reports(clips)) * 1e3
    plain = statistics.median(v for k, v in results.items() if k.endswith("plain"))
    textured = statistics.median(v for k, v in results.items() if k.endswith("noise"))
    reference = _reference_ms()
    print("physics_report on 16-frame 64x64 clips, one core, median ms per clip (best of 5 runs each):")
    for key, ms in results.items():
        print(f"  {key:<20} {ms:6.1f} ms")
    print(f"median over plain-background scenarios: {plain:.1f} ms (target <= 20 ms); textured: {textured:.1f} ms")
    print(f"machine reference in the same run: {reference:.2f} ms for a fixed numpy workload "
          "(scale the figures above by it to compare machines)")
    record("probe_speed", {"median_ms_plain": round(plain, 2), "median_ms_textured": round(textured, 2),
                           "reference_ms": round(reference, 3), **{k: round(v, 2) for k, v in results.items()}})


def _reference_ms():
    """Best of 20: sort a [16, 64, 64, 3] float32 array along time, a core step of the probes."""
    import numpy as np

    x = np.random.default_rng(0).random((16, 64, 64, 3), dtype=np.float32)
    best = float("inf")
    for _ in range(20):
        t0 = time.perf_counter()
        np.sort(x, axis=0)
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


if __name__ == "__main__":
    main()
