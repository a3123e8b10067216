"""Training with 1 and with N processes, side by side: steps per second, clips per second, and quality over time.

Each run is the CLI a reader would use, with notebook 03's settings (the shipped run's, stopped after
``--minutes``): ``python -m vidlab.train`` for one process, ``torchrun --standalone --nproc_per_node N -m
vidlab.train`` for N (gloo on CPUs, NCCL on GPUs). Every process draws its own batch of 16 clips, so the
global batch is 16 N, and the learning rate is scaled by sqrt(N). On a CPU the processes share its cores:
one process uses all of them, N processes 1/N each. The pipeline snapshots at ``--snapshot-minutes`` and at
the end are measured on held-out clips (world seeds 0..C-1) against the quality bar; "time to the bar" is
the first of those that meets it.

    python benchmarks/train_processes.py --processes 1 2 --minutes 10 --snapshot-minutes 5 [--clips 64]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import env, evaluate  # noqa: E402
from vidlab.pipeline import load_pretrained  # noqa: E402


def launch(processes: int, output: Path, minutes: float, snapshots: list, device: str) -> float:
    """Train with ``processes`` processes into ``output``; return the wall time of the whole command."""
    args = ["-m", "vidlab.train", "--output", str(output), "--max-minutes", str(minutes),
            "--snapshot-minutes", *map(str, snapshots)]
    if processes > 1:  # each process takes the device its launcher gives it
        args = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", *args]
    else:
        args += ["--device", device]
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def stages(output: Path) -> dict:
    """The run's snapshots and final pipeline, by minutes of training."""
    found = {float(p.name[len("minutes_"):]): p for p in (output / "snapshots").glob("minutes_*")}
    state = json.loads((output / "state.json").read_text())
    return {**found, state["seconds"] / 60: output / "pipeline"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--snapshot-minutes", type=float, nargs="*", default=[5.0])
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--device", help="cpu or cuda; default: cuda, then mps, then cpu")
    args = ap.parse_args()
    device = env.resolve_device(args.device)
    print(f"device: {env.device_label(device)}, {env.machine(device)['cpu_count']} CPU cores", flush=True)
    clips = evaluate.held_out({"scenarios": ["projectile"], "size": 32, "num_frames": 16, "fps": 10.0}, args.clips)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in args.processes:
            output = Path(folder) / f"processes_{n}"
            wall = launch(n, output, args.minutes, args.snapshot_minutes, device.type)
            state = json.loads((output / "state.json").read_text())
            for minutes, path in sorted(stages(output).items()):
                pipe = load_pretrained(path, device=device)
                metrics = evaluate.evaluate(pipe, clips, baselines=False)["model"]
                cfg = pipe.training_config
                row = {"processes": n, "minutes": round(minutes, 2), "steps": cfg["steps_done"],
                       "steps_per_s": state["step"] / state["seconds"], "global_batch": cfg["global_batch"],
                       "lr_used": cfg["lr_used"], "wall_s": round(wall), **metrics,
                       "meets_bar": all(evaluate.meets_bar(metrics).values())}
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(f"\n{args.clips} held-out clips, 25 DDIM steps; {env.device_label(device)}")
    named = {f"{r['processes']} process(es), {r['minutes']:g} min": r for r in rows}
    columns = {"global batch": lambda r: str(r["global_batch"]), "lr": lambda r: f"{r['lr_used']:.2g}",
               "steps/s": lambda r: f"{r['steps_per_s']:.2f}",
               "clips/s": lambda r: f"{r['steps_per_s'] * r['global_batch']:.1f}",
               "steps": lambda r: f"{r['steps']:,}", "meets the bar": lambda r: "yes" if r["meets_bar"] else "no"}
    print(evaluate.table(named, extra={col: {name: cell(r) for name, r in named.items()}
                                       for col, cell in columns.items()}))
    for n in args.processes:
        met = [r["minutes"] for r in rows if r["processes"] == n and r["meets_bar"]]
        print(f"{n} process(es): time to the bar {f'{min(met):g} min' if met else f'not within {args.minutes:g} min'}")
    record("train_processes", {**env.describe_device(device), "minutes": args.minutes, "clips": args.clips,
                               "rows": rows})


if __name__ == "__main__":
    main()
