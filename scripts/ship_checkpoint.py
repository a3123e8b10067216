"""Copy a finished training run into the package as the shipped checkpoint, with its record beside it.

    python scripts/ship_checkpoint.py runs/tiny --metrics runs/tiny/quality.json [--snapshot-metrics F ...]
    python scripts/ship_checkpoint.py runs/zoo/collision+occlusion+table_... --name tiny-scenes --results ...

Writes src/vidlab/checkpoints/NAME/ (package data; NAME tiny-physics unless given): the pipeline (safetensors)
and ``training.json`` (the exact command, wall time, machine, steps and the benchmark's metrics, or the
experiments whose committed results measure it). Writes records/NAME/ (in
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
from vidlab.pipeline import RECORDS_IN_CHECKOUT, SHIPPED_MODELS, load_pretrained


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--name", default="tiny-physics", choices=sorted(SHIPPED_MODELS))
    ap.add_argument("--metrics", help="JSON written by benchmarks/tiny_model_quality.py --out")
    ap.add_argument("--command", help="the command that trained it, where the run has no command.txt")
    ap.add_argument("--results", nargs="*", default=[], help="experiments (results/NAME/) that measure this model")
    ap.add_argument("--snapshot-metrics", nargs="*", default=[], help="the same, for snapshots")
    ap.add_argument("--vae-run", help="a latent model: the run that trained its VAE (its record is added)")
    args = ap.parse_args()
    run = Path(args.run)
    state = json.loads((run / "state.json").read_text())
    shipped, records = SHIPPED_MODELS[args.name], RECORDS_IN_CHECKOUT.parent / args.name
    if shipped.exists():
        shutil.rmtree(shipped)
    shutil.copytree(run / "pipeline", shipped)
    pipe = load_pretrained(shipped)
    cfg = pipe.training_config
    clips = evaluate.held_out(cfg, 6)
    stages = {p.name.replace("minutes_", "") + "_min": load_pretrained(p)
              for p in sorted((run / "snapshots").glob("minutes_*"), key=lambda p: float(p.name[8:]))}
    stages[f"{state['seconds'] / 60:.0f}_min"] = pipe
    captions = cfg.get("text", False)  # a prompted model continues each clip with its caption
    progress = {k: np.stack(evaluate.continue_clips(p, clips, with_captions=captions)) for k, p in stages.items()}
    records.mkdir(parents=True, exist_ok=True)  # records stay in the repository, out of the package
    np.savez_compressed(records / "progress.npz", **progress)
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    (records / "log.jsonl").write_text("".join(json.dumps({"step": r["step"], "loss": round(r["loss"], 5),
                                                           "seconds": r["seconds"]}) + "\n" for r in log))
    command = run / "command.txt"
    record = {"command": command.read_text().strip() if command.exists() else args.command, "run": run.name,
              "training_seconds": state["seconds"], "steps": state["step"],
              "planned_steps": json.loads((run / "config.json").read_text())["steps"], "machine": state["machine"],
              "metrics": json.loads(Path(args.metrics).read_text()) if args.metrics else None,
              "snapshot_metrics": [json.loads(Path(f).read_text()) for f in args.snapshot_metrics],
              "measured_by": [f"results/{name}/" for name in args.results]}
    if args.vae_run:  # the latent recipe's VAE trained first, in a run of its own
        vae_run = Path(args.vae_run)
        vae_state = json.loads((vae_run / "state.json").read_text())
        record["vae"] = {"command": (vae_run / "command.txt").read_text().strip(), "run": vae_run.name,
                         "training_seconds": vae_state["seconds"], "steps": vae_state["step"],
                         "machine": vae_state["machine"]}
    (shipped / "training.json").write_text(json.dumps(record, indent=1) + "\n")
    size = sum(f.stat().st_size for m in SHIPPED_MODELS.values() for f in m.rglob("*") if f.is_file())
    print(f"shipped {run} to {shipped}: {size / 1e6:.1f} MB for every shipped model together")
    if size > 25e6:
        sys.exit("the shipped checkpoints must stay under 25 MB together")


if __name__ == "__main__":
    main()
