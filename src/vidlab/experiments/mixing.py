"""What a frame needs from the others when it is denoised (notebook 01, section 4), the causes separated.

A frame denoised on its own (``temporal=False``) lacks two things a joint model has: it does not know which
frame it is drawing, and it sees only the last given frame, so it cannot tell where the ball was going. Four
models with the recipe's training, step for step, take these apart:

- joint: the recipe; frames exchange information by attention across time;
- per frame: no mixing across frames; every frame sees its own noise and the last given frame;
- per frame + its index: the same, told its position in the clip (``frame_index``);
- per frame + index + all given frames: also handed every given frame (``given_frames=4``), so each frame
  on its own has all a joint model is given. What is left of the gap is what mixing across the generated
  frames adds.

Each is measured on the same held-out clips: the probes' centre, gravity and count figures, teleports and
vanishings per clip, the background's flicker, and how far the ball falls, frame by frame.
"""

from __future__ import annotations

import numpy as np

from vidlab import check, evaluate, probes
from vidlab.experiments import stats
from vidlab.experiments.core import experiment

VARIANTS = {
    "joint": {},
    "per frame": {"temporal": False},
    "per frame + its index": {"temporal": False, "frame_index": True},
    "per frame + index + all given frames": {"temporal": False, "frame_index": True, "given_frames": 4},
}
GALLERY_CLIPS = 4  # example continuations kept per variant (first training seed), for the notebook
METRICS = ("center_error_px", "gravity_rel_error", "correct_count", "teleports_per_clip", "vanishings_per_clip",
           "flicker")


def mixing_models(ctx) -> list:
    return [(ctx.config(seed=seed, **changes), ctx.mode.train_minutes)
            for changes in VARIANTS.values() for seed in ctx.mode.seeds]


def fall_curve(reports, clips, context_frames: int) -> list:
    """Mean drop (px, down) of the matched ball below its place in the last given frame, per frame.

    ``reports``: the probes' reading of each video (``probes.physics_report``), one per true clip. Averaged
    over the clips where the probes matched the ball to the truth; None where no clip had it.
    """
    drops = []
    for report, truth in zip(reports, clips, strict=True):
        track = check.match_tracks(truth, report)[0]
        start = truth.centers[context_frames - 1, 0, 1]
        drops.append(track.centers[:, 1] - start if track is not None else np.full(len(truth.video), np.nan))
    return _mean_curve(drops)


def event_rates(reports) -> dict:
    """Teleports and vanishings per clip, and the mean background flicker, from the probes' reports."""
    kinds = [e.kind for r in reports for e in r.events]
    return {"teleports_per_clip": kinds.count("teleport") / len(reports),
            "vanishings_per_clip": kinds.count("vanish") / len(reports),
            "flicker": _finite_mean([r.flicker for r in reports])}


def _finite_mean(values) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


@experiment("frame_mixing", models=mixing_models)
def frame_mixing(ctx) -> dict:
    """Each variant's errors on the same held-out clips, per training seed, then over seeds."""
    # 1. every variant and seed continues the same held-out clips, and the probes read them (once each)
    truth_falls = {}
    for variant, changes in VARIANTS.items():
        for seed in ctx.mode.seeds:
            if ctx.results.done(variant=variant, seed=seed):
                continue
            pipe = ctx.model(ctx.config(seed=seed, **changes))
            k = pipe.training_config["context_frames"]
            clips = evaluate.held_out(pipe.training_config, ctx.mode.clips)
            videos = evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps)
            if seed == ctx.mode.seeds[0]:
                _keep_examples(ctx, variant, videos[:GALLERY_CLIPS], clips[:GALLERY_CLIPS])
            reports = [probes.physics_report(v, c.fps) for v, c in zip(videos, clips, strict=True)]
            if seed not in truth_falls:  # the same true clips for every variant of a seed
                truth_falls[seed] = fall_curve([probes.physics_report(c.video, c.fps) for c in clips], clips, k)
            ctx.results.add({"variant": variant, "seed": seed, "steps": pipe.training_config["steps_done"],
                             **evaluate.video_metrics(videos, clips, k), **event_rates(reports),
                             "fall": fall_curve(reports, clips, k), "true_fall": truth_falls[seed]})
    # 2. each figure over the seeds measured, and the mean fall curve
    rows = ctx.results.rows()
    out = {}
    for variant in VARIANTS:
        mine = [r for r in rows if r["variant"] == variant]
        if mine:
            out[variant] = {m: stats.over_seeds([r[m] for r in mine]) for m in METRICS}
            out[variant]["fall"] = _mean_curve([r["fall"] for r in mine])
            out[variant]["true_fall"] = _mean_curve([r["true_fall"] for r in mine])
            out[variant]["seeds"] = sorted(r["seed"] for r in mine)
    return out


def _keep_examples(ctx, variant: str, videos, clips) -> None:
    """Add a variant's first continuations (uint8) to ``gallery.npz``, with the true clips under "truth"."""
    path = ctx.results.folder / "gallery.npz"
    arrays = dict(np.load(path)) if path.exists() else {}
    arrays[variant] = np.stack([np.asarray(v, np.uint8) for v in videos])
    arrays["truth"] = np.stack([c.video for c in clips])
    np.savez_compressed(path, **arrays)


def _mean_curve(curves) -> list:
    """The mean of several curves, point by point, ignoring gaps (None or NaN); None where all have one."""
    values = np.array([[np.nan if v is None else v for v in c] for c in curves], float)
    seen = np.isfinite(values).sum(0)
    total = np.where(np.isfinite(values), values, 0.0).sum(0)
    return [round(float(t / n), 3) if n else None for t, n in zip(total, seen, strict=True)]
