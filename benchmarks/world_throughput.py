"""How fast vidlab.world makes clips: the issue asks for 10,000 clips of 32x32 px, 16 frames, in <= 30 s
on one core. Every scenario takes a turn; seeds 0..N-1.

    python benchmarks/world_throughput.py [--clips 10000] [--size 32]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import one_core, record  # noqa: E402

one_core()
from vidlab import world  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--frames", type=int, default=16)
    args = ap.parse_args()
    per_scenario = {}
    start = time.perf_counter()
    for i in range(args.clips):
        scenario = world.SCENARIOS[i % len(world.SCENARIOS)]
        t0 = time.perf_counter()
        world.simulate(scenario, i, size=args.size, num_frames=args.frames)
        per_scenario.setdefault(scenario, []).append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    print(f"{args.clips} clips of {args.size}x{args.size} px, {args.frames} frames, on one core: {total:.1f} s "
          f"({args.clips / total:.0f} clips/s; target <= 30 s for 10,000)")
    for scenario, times in per_scenario.items():
        print(f"  {scenario:<10} {1e3 * sum(times) / len(times):.2f} ms per clip")
    record("world_throughput", {"clips": args.clips, "size": args.size, "frames": args.frames,
                                "seconds": round(total, 2), "clips_per_s": round(args.clips / total, 1)})


if __name__ == "__main__":
    main()
