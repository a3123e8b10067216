"""Which prediction target works here, and why: the clean clip (x0), the noise (ε) or v, on two schedules.

Notebook 01's committed comparison (``benchmarks/train_vs_peers.py``) trained each target once, about 1,000
steps of an older fp32 recipe, and found that ε drew no ball at all. That has a textbook cause besides the
target (Lin et al. 2024, arXiv 2305.08891): the cosine schedule's ᾱ at t = 999 is 2.4e-9, sampling starts
there, and x̂0 = (x_t - √(1-ᾱ) ε̂) / √ᾱ multiplies the error of ε̂ by 1/√ᾱ ≈ 20,000. So the three targets are
trained again under the current recipe (3,561 steps, 3 seeds), and two schedules are added that take that
cause away: v on the cosine schedule rescaled to zero terminal SNR (Lin et al.'s fix; ε is undefined there),
and ε on Stable Diffusion's scaled-linear schedule, whose √ᾱ at t = 999 is 0.068 (a factor of 15, not
20,000). Every variant is measured on the same 256 held-out in-distribution clips, and compared with x0 on
those clips (paired), seeds first.
"""

from __future__ import annotations

from vidlab import evaluate
from vidlab.experiments import stats, zoo
from vidlab.experiments.core import experiment

# variant -> TrainConfig changes (train.NOISE_SCHEDULES names the schedules)
VARIANTS = {
    "x0, cosine": {"prediction_type": "sample"},
    "epsilon, cosine": {"prediction_type": "epsilon"},
    "v, cosine": {"prediction_type": "v_prediction"},
    "v, cosine zero terminal SNR": {"prediction_type": "v_prediction", "noise_schedule": "cosine_zero_snr"},
    "epsilon, scaled linear": {"prediction_type": "epsilon", "noise_schedule": "scaled_linear"},
}
BASELINE = "x0, cosine"
STEPS = {"full": 3561, "fast": 3}  # the 10-minute recipe's step count (see ood.RECIPE_STEPS); fast: a code check
ERRORS = ("center_error_px", "velocity_error_px")


def config(ctx, variant: str, seed: int):
    """The recipe's config for one variant and seed, named by its steps (no minute snapshots)."""
    return ctx.config(seed=seed, steps=STEPS[ctx.mode.name], snapshot_minutes=(), **VARIANTS[variant])


def models(ctx) -> list:
    return [(config(ctx, variant, seed), None) for variant in VARIANTS for seed in ctx.mode.seeds]


def terminal_signal(cfg) -> dict:
    """√ᾱ at t = 999 of ``cfg``'s schedule, and 1/√ᾱ: how much an ε error grows in the first step's x̂0."""
    from vidlab.train import training_scheduler

    root = float(training_scheduler(cfg).alphas_cumprod[-1]) ** 0.5
    return {"sqrt_alpha_bar_999": root, "epsilon_error_factor": 1 / root if root > 0 else float("inf")}


@experiment("prediction_targets", models=models)
def prediction_targets(ctx) -> dict:
    """x0, ε and v under the current recipe, and v and ε on schedules that make them workable (issue 23, point 6)."""
    # 1. every variant and seed on the same held-out clips
    for variant in VARIANTS:
        for seed in ctx.mode.seeds:
            if ctx.results.done(seed=seed, variant=variant):
                continue
            pipe = zoo.by_steps(ctx, config(ctx, variant, seed))
            clips = evaluate.held_out(pipe.training_config, ctx.mode.clips)
            k = pipe.training_config["context_frames"]
            videos = evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps)
            ctx.results.add({"seed": seed, "variant": variant, "steps": pipe.training_config["steps_done"],
                             **evaluate.metrics_with_clips(videos, clips, k)})
    return summarize(ctx.results.rows(), ctx)


def summarize(rows: list, ctx) -> dict:
    """Per variant: its schedule's terminal signal, the errors' median over seeds then clips (with each seed's),
    the share of frames with the right ball count per seed, and each error minus x0's on the same clips."""
    by = {(r["seed"], r["variant"]): r for r in rows}
    seeds = sorted({s for s, _ in by if all((s, v) in by for v in VARIANTS)})
    summary = {}
    for variant in VARIANTS:
        entry = terminal_signal(config(ctx, variant, ctx.mode.seeds[0]))
        if seeds:
            clips = {m: [by[s, variant]["per_clip"][m] for s in seeds] for m in ERRORS}
            entry.update({m: stats.cluster_median(clips[m]) for m in ERRORS})
            entry["count_right_in_every_frame"] = stats.cluster_rate(
                [[c >= 1.0 for c in by[s, variant]["per_clip"]["correct_count"]] for s in seeds])
            entry["correct_count"] = stats.over_seeds([by[s, variant]["correct_count"] for s in seeds])
            if variant != BASELINE:
                entry["minus_x0"] = {m: stats.difference([by[s, BASELINE]["per_clip"][m] for s in seeds], clips[m],
                                                         paired=True, statistic="median") for m in ERRORS}
        summary[variant] = entry
    return summary
