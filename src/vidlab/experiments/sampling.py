"""How the failure rates change with the sampler, the number of sampling steps, and the training time.

The same in-distribution models are sampled with DDIM, DPM-Solver++ and Euler (diffusers schedulers) at 1
to 25 steps, in distribution and on faster balls than any seen in training. Then the pipelines saved after
1 and 3 minutes of training are compared with the finished 10-minute ones.
"""

from __future__ import annotations

from vidlab import evaluate, pipeline, probes
from vidlab.experiments.core import each_seed, experiment
from vidlab.experiments.failures import KINDS, classify, compact, rates_by
from vidlab.experiments.ood import CONDITIONS

STEPS = (1, 2, 5, 10, 25)
WHERE = {"in distribution": CONDITIONS["in distribution"], "faster": CONDITIONS["faster"]}


def _held_out(ctx, pipe, params) -> tuple:
    """Half the mode's clips per seed (3 seeds still give more than 256), and the probes' reports on them."""
    clips = evaluate.held_out(pipe.training_config, max(2, ctx.mode.clips // 2), **params)
    return clips, [probes.physics_report(c.video, c.fps) for c in clips]


@experiment("samplers_and_steps", models=each_seed())
def samplers_and_steps(ctx) -> dict:
    """Failure rates and centre error for DDIM, DPM-Solver++ and Euler at 1 to 25 sampling steps."""
    steps_list = STEPS if not ctx.mode.fast else (1, 2)
    for seed in ctx.mode.seeds:
        pipe = None
        for where, params in WHERE.items():
            todo = [(name, n) for name in pipeline.SAMPLERS for n in steps_list
                    if not ctx.results.done(seed=seed, where=where, sampler=name, steps=n)]
            if not todo:
                continue
            pipe = pipe or ctx.model(ctx.config(seed=seed))
            clips, truth = _held_out(ctx, pipe, params)
            for name, n in todo:
                pipe.scheduler = pipeline.sampler(name, pipe.scheduler.config)
                videos = evaluate.continue_clips(pipe, clips, n)
                per_clip = classify(videos, clips, pipe.training_config["context_frames"], truth)
                ctx.results.add({"seed": seed, "where": where, "sampler": name, "steps": n, "kinds": list(KINDS),
                                 "per_clip": compact(per_clip)})
            pipe.scheduler = pipeline.sampler("DDIM", pipe.scheduler.config)
    return rates_by(ctx.results.rows(), ("where", "sampler", "steps"), reference={"sampler": "DDIM", "steps": 25})


@experiment("training_time", models=each_seed())
def training_time(ctx) -> dict:
    """Failure rates and centre error after 1, 3 and 10 minutes of training (the same runs' snapshots)."""
    for seed in ctx.mode.seeds:
        cfg = ctx.config(seed=seed)
        for minutes in (*ctx.mode.snapshots, ctx.mode.train_minutes):
            for where, params in WHERE.items():
                if ctx.results.done(seed=seed, minutes=minutes, where=where):
                    continue
                pipe = ctx.model(cfg) if minutes == ctx.mode.train_minutes else ctx.snapshot(cfg, minutes)
                clips, truth = _held_out(ctx, pipe, params)
                videos = evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps)
                per_clip = classify(videos, clips, pipe.training_config["context_frames"], truth)
                ctx.results.add({"seed": seed, "minutes": minutes, "where": where, "kinds": list(KINDS),
                                 "per_clip": compact(per_clip)})
    return rates_by(ctx.results.rows(), ("where", "minutes"), reference={"minutes": ctx.mode.train_minutes})
