"""Helpers shared by the benchmark scripts: pin to one core and record what ran where."""

import json
import os
import platform
import sys
import time


def one_core() -> None:
    """Run on a single CPU core with single-threaded numerical libraries (call before importing numpy)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def record(name: str, results: dict) -> None:
    """Print the results with the machine they came from, as one JSON line (for notes and the README)."""
    out = {"benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(),
           "machine": platform.platform(), "cpu_count": os.cpu_count(), **results}
    print(json.dumps(out), file=sys.stdout)
