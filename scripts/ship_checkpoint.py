"""Copy a finished training run into the package as the shipped checkpoint, with its record beside it.

    python scripts/ship_checkpoint.py runs/tiny --metrics runs/tiny/quality.json [--snapshot-metrics F ...]

Writes src/vidlab/checkpoints/tiny-physics/ (package data): the pipeline (safetensors) and ``training.json``
(the exact command, wall time, machine, steps and the benchmark's metrics). Writes records/tiny-physics/ (in
the repository, not the package): ``log.jsonl`` (the loss per step) and ``progress.npz`` (continuations of
held-out clips 0-5 by the snapshots saved during training, which notebook 03 shows through
``vidlab.pipeline.shipped_record``).
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from vidlab import evaluate
from vidlab.pipeline import RECORDS_IN_CHECKOUT, SHIPPED, load_pretrained


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--metrics", required=True, help="JSON written by benchmarks/tiny_model_quality.py --out")
    ap.add_argument("--snapshot-metrics", nargs="*", default=[], help="the same, for snapshots")
    args = ap.parse_args()
    run = Path(args.run)
    state = json.loads((run / "state.json").read_text())
    if SHIPPED.exists():
        shutil.rmtree(SHIPPED)
    shutil.copytree(run / "pipeline", SHIPPED)
    pipe = load_pretrained(SHIPPED)
    cfg = pipe.training_config
    clips = evaluate.held_out(cfg, 6)
    stages = {p.name.replace("minutes_", "") + "_min": load_pretrained(p)
              for p in sorted((run / "snapshots").glob("minutes_*"), key=lambda p: float(p.name[8:]))}
    stages[f"{state['seconds'] / 60:.0f}_min"] = pipe
    progress = {k: np.stack(evaluate.continue_clips(p, clips)) for k, p in stages.items()}
    RECORDS_IN_CHECKOUT.mkdir(parents=True, exist_ok=True)  # records stay in the repository, out of the package
    np.savez_compressed(RECORDS_IN_CHECKOUT / "progress.npz", **progress)
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    (RECORDS_IN_CHECKOUT / "log.jsonl").write_text("".join(json.dumps({"step": r["step"], "loss": round(r["loss"], 5),
                                                           "seconds": r["seconds"]}) + "\n" for r in log))
    record = {"command": (run / "command.txt").read_text().strip(), "training_seconds": state["seconds"],
              "steps": state["step"], "machine": state["machine"],
              "metrics": json.loads(Path(args.metrics).read_text()),
              "snapshot_metrics": [json.loads(Path(f).read_text()) for f in args.snapshot_metrics]}
    (SHIPPED / "training.json").write_text(json.dumps(record, indent=1) + "\n")
    size = sum(f.stat().st_size for f in SHIPPED.rglob("*") if f.is_file())
    print(f"shipped {run} to {SHIPPED}: {size / 1e6:.1f} MB")
    if size > 20e6:
        sys.exit("the shipped checkpoint must stay under 20 MB")


if __name__ == "__main__":
    main()
