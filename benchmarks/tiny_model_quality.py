"""Measure a trained tiny video model against the quality bar of issue 3, beside physics-free baselines.

Held-out clips use world seeds 0..N-1 (training uses seeds from 10,000,000 up). For each clip the model sees
the first k frames and generates the rest; vidlab.probes measures every generated frame. Sampling time per
clip is measured at each of ``--steps`` (the metrics use the first), on ``--device`` (default cuda, then mps,
then cpu). The training rate is compared with the matmul peak of the device that trained, measured here
only when this machine has that device.

    python benchmarks/tiny_model_quality.py --pipeline runs/tiny/pipeline [--clips 256] [--steps 25 10 50]
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import env, evaluate  # noqa: E402
from vidlab.pipeline import load_pretrained  # noqa: E402
from vidlab.train import TrainConfig, step_flops  # noqa: E402


def measure(pipe, clips, steps, batch) -> tuple:
    """Metrics of the model's continuations and the seconds per clip it took to sample them."""
    start = time.perf_counter()
    generated = evaluate.continue_clips(pipe, clips, steps, batch)  # returns numpy: the device has finished
    per_clip = (time.perf_counter() - start) / len(clips)
    return evaluate.video_metrics(generated, clips, pipe.training_config["context_frames"]), per_clip


def training_device(pipeline_folder, cfg: dict) -> dict:
    """The device that trained the model: from its config, or from the shipped checkpoint's training.json."""
    if "machine" in cfg:
        return cfg["machine"]
    record = Path(pipeline_folder) / "training.json"
    return json.loads(record.read_text())["machine"] if record.exists() else {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--clips", type=int, default=256)
    ap.add_argument("--steps", type=int, nargs="+", default=[25], help="sampling steps; metrics use the first")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--out", help="also write the results to this JSON file")
    ap.add_argument("--device", help="cpu, cuda or mps; default: cuda, then mps, then cpu")
    args = ap.parse_args()
    device = env.resolve_device(args.device)
    pipe = load_pretrained(args.pipeline, device=device)
    cfg = pipe.training_config
    k = cfg["context_frames"]
    clips = evaluate.held_out(cfg, args.clips)
    rows, timing = {}, {}
    for steps in args.steps:
        metrics, timing[steps] = measure(pipe, clips, steps, args.batch)
        rows.setdefault("model", metrics)
        rows[f"model, {steps} steps"] = metrics
    rows.update(evaluate.baseline_rows(clips, k))
    print(f"{len(clips)} held-out clips; {cfg.get('steps_done')} training steps in "
          f"{cfg.get('training_seconds', 0) / 60:.1f} min; torch threads: {torch.get_num_threads()}")
    print(f"sampling on {env.device_label(device)}; time per clip (batch of {args.batch}):",
          ", ".join(f"{s} steps {t:.3f} s" for s, t in timing.items()))
    print(evaluate.table({name: m for name, m in rows.items() if name != "model"}))
    model = rows["model"]
    ok = evaluate.meets_bar(model)
    base = [rows["copy last frame"], rows["constant velocity"]]
    # The baselines redraw the true ball, so their count and radius are right by construction: the
    # comparison that means something is on motion (centre error and gravity).
    ok["beats_baselines_on_motion"] = all(model[m] < b[m] for m in ("center_error_px", "gravity_rel_error")
                                          for b in base)
    print("meets the bar:", json.dumps(ok))
    fields = {k: v for k, v in cfg.items() if k in TrainConfig.__dataclass_fields__}
    net = type(pipe.network).from_config(pipe.network.config)  # fresh weights of its class, counted on the CPU
    flops = step_flops(net, TrainConfig(**fields))  # the latent model's includes its VAE's encoding
    rate = flops * cfg["steps_done"] / cfg["training_seconds"] if cfg.get("training_seconds") else float("nan")
    trained_on = training_device(args.pipeline, cfg)
    here = env.describe_device(device)
    same = trained_on.get("device") == here["device"] and trained_on.get("gpu") == here.get("gpu")
    fmt = trained_on.get("precision", "fp32")  # the peak of the format the run trained in
    peak = env.matmul_peak(device, dtype=env.torch_dtype(fmt)) if same else float("nan")
    where = trained_on.get("gpu") or trained_on.get("device", "an unrecorded device")
    print(f"training on {where} in {fmt}: {flops / 1e9:.1f} GFLOP per step (counted in fp32 terms), "
          f"{rate / 1e9:.1f} GFLOP/s" + (f" = {rate / peak:.0%} of that device's {fmt} matmul peak "
                                         f"({peak / 1e9:.0f} GFLOP/s, measured now)" if same
                                         else f"; not compared with a peak: this run is on {env.device_label(device)}"))
    results = {"pipeline": args.pipeline, "clips": args.clips, "sampling_seconds_per_clip": timing,
               "sampling_device": here, "training_device": trained_on,
               "rows": rows, "meets_bar": ok, "steps_done": cfg.get("steps_done"),
               "training_seconds": cfg.get("training_seconds"), "gflop_per_step": flops / 1e9,
               "training_gflops": rate / 1e9, "matmul_peak_gflops": peak / 1e9, "peak_format": fmt,
               "peak_fraction": rate / peak}
    record("tiny_model_quality", results)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
