"""Drift: clips extended to 4 times the trained length, what goes wrong, and what helps (notebook 08).

Six models per training seed with the 10-minute recipe. Three give the model different given frames: the
recipe itself (4 given frames), 8 given frames, and noise augmentation (``context_noise``: noise of a random
level on the given frames in training, as in cascaded diffusion and Stable Video Diffusion's
``noise_aug_strength``; the level is not given to the network, so this is not diffusion forcing). Each is
trained twice: on clips from launch (the recipe's clips), and on random 16-frame windows of 64-frame
simulations (``window="random"``), whose given frames show the ball mid-fall and after bounces, as every
window past the first does when a clip is extended.

Every model is run three ways on the same 64-frame held-out clips from launch
(:mod:`vidlab.experiments.drift_measures`):

- **plain**: each window continues from the model's own last frames (errors can compound);
- **teacher-forced**: each window continues from the true frames (the control: nothing compounds, only given
  frames the model may never have trained on remain);
- **re-anchored** (the 4-given-frame models): its context redrawn cleanly from the probes before every window.

Each is measured frame by frame against the truth (``drift_measures.errors_over_time``). The launch models'
plain and re-anchored rows are the results committed before random windows and the control existed.
"""

from __future__ import annotations

import numpy as np

from vidlab import evaluate, world
from vidlab.experiments import drift_measures, stats
from vidlab.experiments.core import experiment

FACTOR = 4  # clips this many times the trained length
# Random windows of a simulation as long as the measured clips: training sees every state an extension meets.
RANDOM_WINDOWS = {"window": "random", "simulate_frames": FACTOR * world.ClipSpec.num_frames}
FROM_LAUNCH = {"4 given frames": {}, "8 given frames": {"context_frames": 8},
               "noise on the given frames in training": {"context_noise": 0.2}}  # (names as committed)
VARIANTS = {**FROM_LAUNCH, **{f"{name}, random windows": {**changes, **RANDOM_WINDOWS}
                              for name, changes in FROM_LAUNCH.items()}}
# In the order of what they decide, so a session that ends early has measured the most telling runs on every
# seed: launch against random windows, each extended from its own frames and from the true ones (the control).
KEY = ["4 given frames", "4 given frames, random windows"]
RUNS = ([(variant, method) for variant in KEY for method in ("plain", "teacher-forced", "re-anchored")]
        + [(variant, method) for variant in VARIANTS if variant not in KEY
           for method in ("plain", "teacher-forced")])
EXTEND = {"re-anchored": drift_measures.reanchored_clips, "teacher-forced": drift_measures.teacher_forced_clips}
# Fast mode checks each code path once per seed (training on windows, the three ways of extending), not every
# variant: the full set is 14 runs of 6 models per seed, minutes of a test suite's time on 2 cores.
FAST_RUNS = [("4 given frames", "plain"), ("4 given frames, random windows", "plain"),
             ("4 given frames", "re-anchored"), ("4 given frames", "teacher-forced"),
             ("4 given frames, random windows", "teacher-forced")]


def runs(mode) -> list:
    """The (variant, method) pairs measured in ``mode``, in the order the rows are written."""
    return [run for run in RUNS if run in FAST_RUNS] if mode.fast else RUNS


def _models(ctx):
    """The models still needed: a variant's model on a seed whose every run has its row is not retrained."""
    variants = dict.fromkeys(variant for variant, _ in runs(ctx.mode))  # trained in this order
    needed = [(variant, seed) for variant in variants for seed in ctx.mode.seeds
              if any(not ctx.results.done(seed=seed, variant=variant, method=method)
                     for v, method in runs(ctx.mode) if v == variant)]
    return [(ctx.config(seed=seed, **VARIANTS[variant]), ctx.mode.train_minutes) for variant, seed in needed]


@experiment("drift", models=_models, summarise=lambda rows: summarise(rows))
def drift(ctx) -> dict:
    """Errors against time at 4x the trained length, per variant and method (means over seeds)."""
    n_clips = max(2, ctx.mode.clips // 8)  # 32 per seed in full mode: 14 runs x 3 seeds x 32 clips x 64 frames
    factor = 2 if ctx.mode.fast else FACTOR  # fast mode only checks the code path
    for variant, method in runs(ctx.mode):  # every seed of one run before the next (the order of RUNS)
        for seed in ctx.mode.seeds:
            if ctx.results.done(seed=seed, variant=variant, method=method):
                continue
            pipe = ctx.model(ctx.config(seed=seed, **VARIANTS[variant]))
            clips = drift_measures.long_clips(pipe.training_config, n_clips, factor)
            videos = (evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps) if method == "plain" else
                      EXTEND[method](pipe, clips, ctx.mode.sampling_steps))
            errors = drift_measures.errors_over_time(videos, clips, pipe.training_config["context_frames"])
            ctx.results.add({"seed": seed, "variant": variant, "method": method, "clips": n_clips,
                             **{k: _jsonable(v) for k, v in errors.items()}})
    return summarise(ctx.results.rows())


# Paired comparisons (b minus a) on the same held-out clips and training seeds: does a control or a remedy
# change how often the ball is lost in the last window, and how far off it is just past the trained length?
COMPARISONS = {
    "teacher-forced minus plain, launch": (("4 given frames", "plain"), ("4 given frames", "teacher-forced")),
    "teacher-forced minus plain, random windows": (("4 given frames, random windows", "plain"),
                                                   ("4 given frames, random windows", "teacher-forced")),
    "random windows minus launch, plain": (("4 given frames", "plain"), ("4 given frames, random windows", "plain")),
    "random windows minus launch, teacher-forced": (("4 given frames", "teacher-forced"),
                                                    ("4 given frames, random windows", "teacher-forced")),
}
PER_CLIP = {"clip_lost_last_window": "mean", "clip_position_first_extension_px": "median"}


def compare(rows: list) -> dict:
    """Each of :data:`COMPARISONS` whose two runs were measured, with their per-clip outcomes, on the same seeds:
    ``stats.difference`` (paired on the clips) of the lost share in the last window and of the position error
    just past the trained length."""
    out = {}
    for name, (a, b) in COMPARISONS.items():
        runs_ab = [{r["seed"]: r for r in rows if (r["variant"], r["method"]) == run and PER_CLIP.keys() <= r.keys()}
                   for run in (a, b)]
        seeds = sorted(set(runs_ab[0]) & set(runs_ab[1]))
        if not seeds:
            continue
        out[name] = {"seeds": seeds, **{
            key: stats.difference([_floats(runs_ab[0][s][key]) for s in seeds],
                                  [_floats(runs_ab[1][s][key]) for s in seeds], paired=True, statistic=statistic)
            for key, statistic in PER_CLIP.items()}}
    return out


def _floats(values) -> list:
    return [np.nan if v is None else float(v) for v in values]


def summarise(rows: list) -> dict:
    """Per variant and method: each curve averaged over the seeds measured (and how many); then the paired
    comparisons (:func:`compare`) under ``"comparisons"``."""
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
    comparisons = compare(rows)
    return {**out, "comparisons": comparisons} if comparisons else out


def _jsonable(values) -> list:
    """Arrays as lists, with NaN and infinities as None (JSON has neither)."""
    return [None if not np.isfinite(v) else round(float(v), 5) for v in np.asarray(values, float)]
