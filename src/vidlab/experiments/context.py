"""How many frames must the model see? Error against the number of conditioning frames, 1 to 4.

One frame shows where the ball is but not where it is going; two frames give its velocity; three give its
acceleration. In this world gravity is always the same, so a model could learn it and need only two frames.
Models are trained with 1, 2, 3 and 4 context frames and measured on the same generated frames (the last
12 of 16), so that the figures compare like with like.
"""

from __future__ import annotations

from vidlab import evaluate
from vidlab.experiments import stats
from vidlab.experiments.core import experiment

CONTEXTS = (1, 2, 3, 4)
MEASURED_FROM = 4  # every model is measured on frames 4-15, whatever it was given
METRICS = ("center_error_px", "velocity_error_px", "gravity_rel_error", "correct_count")


def context_models(ctx) -> list:
    return [(ctx.config(seed=seed, context_frames=k), ctx.mode.train_minutes)
            for k in CONTEXTS for seed in ctx.mode.seeds]


@experiment("context_frames", models=context_models)
def context_frames(ctx) -> dict:
    """Centre, velocity and gravity error of models given 1, 2, 3 or 4 conditioning frames."""
    # 1. a model per number of context frames and training seed, measured on the same held-out clips
    for k in CONTEXTS:
        for seed in ctx.mode.seeds:
            if ctx.results.done(context_frames=k, seed=seed):
                continue
            pipe = ctx.model(ctx.config(seed=seed, context_frames=k))
            clips = evaluate.held_out(pipe.training_config, ctx.mode.clips)
            videos = evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps)
            ctx.results.add({"context_frames": k, "seed": seed,
                             **evaluate.metrics_with_clips(videos, clips, MEASURED_FROM)})
    # 2. each figure over seeds, per number of context frames
    rows = ctx.results.rows()
    return {str(k): {m: stats.over_seeds([r[m] for r in rows if r["context_frames"] == k]) for m in METRICS}
            for k in CONTEXTS}
