"""Execute every notebook top to bottom and save its outputs in place (``make notebooks``).

Full mode unless VIDLAB_FAST=1 is set. Each notebook's wall time is written to notebooks/run_times.json,
with the machine, the device (GPU model) and the precision it ran in, under a key per device, so a run on
a GPU does not overwrite the CPU's figure. The README's table quotes them.

    python scripts/run_notebooks.py [notebooks/02_a_tiny_physics_world.ipynb ...]
"""

import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from vidlab import env

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, timeout: int = 3600) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=resources).execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


def main():
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    times_file = ROOT / "notebooks" / "run_times.json"
    times = json.loads(times_file.read_text()) if times_file.exists() else {}
    fast = os.environ.get("VIDLAB_FAST") == "1"
    for path in paths:
        seconds = run(path)
        size_mb = path.stat().st_size / 1e6
        print(f"{path.name}: {seconds:.0f} s, {size_mb:.2f} MB")
        if not fast:
            device = env.describe_device()
            where = device["device"] if device["device"] != "cuda" else f"cuda ({device['gpu']})"
            entry = times.get(path.name, {})
            if "seconds" in entry:  # the old layout held one CPU run
                entry = {"cpu": entry}
            times[path.name] = entry
            entry[where] = {"seconds": round(seconds), "machine": platform.platform(), "cpus": os.cpu_count(),
                            **device, "date": time.strftime("%Y-%m-%d")}
    if not fast:
        times_file.write_text(json.dumps(times, indent=1) + "\n")


if __name__ == "__main__":
    main()
