"""Drift: clips extended to 4 times the trained length, and what helps (notebook 08).

Three models per training seed with the 10-minute recipe: the recipe itself (4 given frames), 8 given frames,
and noise on the given frames in training (``context_noise``, noise augmentation as in diffusion forcing).
The recipe's model is also run re-anchored: its context redrawn cleanly from the probes before every window.
Each is measured frame by frame against the truth (``drift_measures.errors_over_time``).
"""

from __future__ import annotations

import numpy as np

from vidlab import evaluate
from vidlab.experiments import drift_measures
from vidlab.experiments.core import experiment

VARIANTS = {"4 given frames": {}, "8 given frames": {"context_frames": 8},
            "noise on the given frames in training": {"context_noise": 0.2}}
RUNS = [(variant, "plain") for variant in VARIANTS] + [("4 given frames", "re-anchored")]
FACTOR = 4  # clips this many times the trained length


def _models(ctx):
    return [(ctx.config(seed=seed, **changes), ctx.mode.train_minutes)
            for seed in ctx.mode.seeds for changes in VARIANTS.values()]


@experiment("drift", models=_models)
def drift(ctx) -> dict:
    """Errors against time at 4x the trained length, per variant and method (means over seeds)."""
    n_clips = max(2, ctx.mode.clips // 8)  # 32 per seed in full mode: 4 runs x 3 seeds x 32 clips x 64 frames
    factor = 2 if ctx.mode.fast else FACTOR  # fast mode only checks the code path
    for seed in ctx.mode.seeds:
        for variant, method in RUNS:
            if ctx.results.done(seed=seed, variant=variant, method=method):
                continue
            pipe = ctx.model(ctx.config(seed=seed, **VARIANTS[variant]))
            clips = drift_measures.long_clips(pipe.training_config, n_clips, factor)
            videos = (evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps) if method == "plain" else
                      drift_measures.reanchored_clips(pipe, clips, ctx.mode.sampling_steps))
            errors = drift_measures.errors_over_time(videos, clips, pipe.training_config["context_frames"])
            ctx.results.add({"seed": seed, "variant": variant, "method": method, "clips": n_clips,
                             **{k: _jsonable(v) for k, v in errors.items()}})
    return summarise(ctx.results.rows())


def summarise(rows: list) -> dict:
    """Per variant and method: each curve averaged over the seeds measured (and how many)."""
    out = {}
    for variant, method in dict.fromkeys((r["variant"], r["method"]) for r in rows):
        mine = [r for r in rows if r["variant"] == variant and r["method"] == method]
        entry = {"seeds": sorted(r["seed"] for r in mine), "clips_per_seed": mine[0]["clips"]}
        for key in ("frame", "window_start"):
            entry[key] = mine[0][key]
        for key in ("position_px", "vanish", "gravity_error", "morph", "teleport", "flicker"):
            values = np.array([[np.nan if v is None else v for v in r[key]] for r in mine], float)
            with np.errstate(invalid="ignore"):
                entry[key] = _jsonable(np.nanmean(np.where(np.isinf(values), np.nan, values), axis=0))
        out[f"{variant} | {method}"] = entry
    return out


def _jsonable(values) -> list:
    """Arrays as lists, with NaN and infinities as None (JSON has neither)."""
    return [None if not np.isfinite(v) else round(float(v), 5) for v in np.asarray(values, float)]
