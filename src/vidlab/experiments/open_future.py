"""Open futures: does a model sample one future with the true odds, or draw their average? (issue 25)

In the peg scenarios (``world.OPEN_FUTURE``) a ball dropped onto a peg goes right with probability 1/2
("peg") or 4/5 ("peg_skewed", whose peg has its own colour, so the given frames say which odds hold); the
given frames are the same either way. A model trained on them sees each context followed sometimes by one
future and sometimes by the other. One that regresses the clip (x0) is pulled toward their mean, a ghost;
diffusion's promise is to sample one of them, with the right odds.

Models: the U-Net recipe on both peg scenarios (32 px, 16 frames, 4 given), 3 training seeds, per training
target (:data:`VARIANTS`, as in ``targets``) and with frames denoised one by one. Each continues
:data:`CONTEXTS` held-out contexts per scenario :data:`SAMPLES` times (different sampling noise), under each
sampling setting of :data:`SETTINGS`: deterministic at 25 and at 1 step (DDIM; the DiT's Euler), and
stochastic at 25 (DDPM's ancestral step; Euler with fresh noise). The last
four frames of every continuation are read by ``probes.branches.branch_reading``: left, right, or an averaging
failure (a split ghost, a faded ball, a ball still on the peg); the last frame's reading is the outcome. Per
model and setting:

- the outcome frequencies against the truth's, with the total variation distance and a χ² test of left
  against right among the decided samples;
- the ghost rate (split, faded or undecided), per seed and over seeds (clusters: seeds, then contexts);
- the switch rate: the ball on one side in one of the last four frames and on the other in another (frames
  that disagree about the branch: the question of joint against per-frame denoising, with the per-frame
  variant of ``mixing``);
- diversity: for each context, the share of its samples that go right, against the truth's binomial spread.
"""

from __future__ import annotations

import numpy as np
from diffusers import FlowMatchEulerDiscreteScheduler
from scipy import stats as scipy_stats

from vidlab import evaluate, pipeline, world
from vidlab.experiments import stats, vae_physics, zoo
from vidlab.experiments.core import experiment
from vidlab.experiments.targets import VARIANTS as TARGET_VARIANTS
from vidlab.families.latent import load_vae
from vidlab.pixels import as_float_video
from vidlab.probes.branches import branch_reading

SCENARIOS = world.OPEN_FUTURE
VARIANTS = {**{name: TARGET_VARIANTS[name] for name in
               ("x0, cosine", "v, cosine zero terminal SNR", "epsilon, scaled linear")},
            # each frame denoised alone, told its index and handed every given frame (mixing's last variant):
            # can frames that do not see each other agree on a branch?
            "x0, per frame": {"prediction_type": "sample", "temporal": False, "frame_index": True,
                              "given_frames": 4},
            # the modern recipe (notebook 03b): flow matching with a DiT on the shipped VAE, on 17 frames with 5
            # given (the VAE's 1 + 4k): the same contexts' seeds, one given frame more, so compared unpaired
            "flow matching, latent DiT": {"family": "latent_dit", "vae": "tiny-latent", "num_frames": 17,
                                          "context_frames": 5}}
UNPAIRED = ("flow matching, latent DiT",)  # variants whose clips differ from x0's (one more given frame)
# (sampler, steps): deterministic is DDIM for the U-Net and Euler for the DiT; stochastic draws fresh noise at
# every step: DDPM's ancestral step, or Euler with stochastic_sampling (set_sampler)
SETTINGS = {"deterministic, 25 steps": ("deterministic", 25), "deterministic, 1 step": ("deterministic", 1),
            "stochastic, 25 steps": ("stochastic", 25)}
STEPS = {"full": 3561, "fast": 3}  # the 10-minute recipe's steps; fast: a code check
CONTEXTS = {"full": 16, "fast": 2}  # held-out contexts per scenario
SAMPLES = {"full": 16, "fast": 2}  # continuations of each
GHOSTS = ("split", "faded", "undecided")
READ_FRAMES = (-4, -3, -2, -1)  # the frames read: the last decides; a change of side among them is a switch
BASELINE, BASE_SETTING = "x0, cosine", "deterministic, 25 steps"


def config(ctx, variant: str, seed: int):
    """The recipe's config on the peg scenarios, for one training target and seed."""
    return ctx.config(seed=seed, scenarios=SCENARIOS, steps=STEPS[ctx.mode.name], snapshot_minutes=(),
                      **VARIANTS[variant])


def models(ctx) -> list:
    return [(config(ctx, variant, seed), None) for variant in VARIANTS for seed in ctx.mode.seeds]


def set_sampler(pipe, kind: str) -> None:
    """Give ``pipe`` the ``kind`` of sampler, "deterministic" or "stochastic", on its own training schedule:
    DDIM or DDPM for a U-Net pipeline; flow-matching Euler without or with fresh noise at each step for a DiT."""
    if kind not in ("deterministic", "stochastic"):
        raise ValueError(f"kind={kind!r}: expected 'deterministic' or 'stochastic'")
    config = pipe.scheduler.config
    if isinstance(pipe.scheduler, FlowMatchEulerDiscreteScheduler):
        pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(config, stochastic_sampling=kind == "stochastic")
    else:
        pipe.scheduler = pipeline.sampler("DDPM" if kind == "stochastic" else "DDIM", config)


def read_outcomes(videos, clips, frames=READ_FRAMES) -> list:
    """The branch reading of ``frames`` of each video (``clips[i]`` gives the peg's line and the ball): one
    list of outcomes per video, the last frame's last."""
    out = []
    for video, clip in zip(videos, clips, strict=True):
        _, x0, _, x1, _, _ = clip.scenery[0]
        line, area = (x0 + x1) / 2, np.pi * clip.radii[0, 0] ** 2
        backdrop = np.median(as_float_video(video), axis=0)  # once per video, for every frame read
        out.append([branch_reading(video, clip.colors[0, 0], line, area, frame=f, backdrop=backdrop)["outcome"]
                    for f in frames])
    return out


def _floor(videos, clips) -> dict:
    """The reader on videos of the true futures: how many it misreads, and how many switch sides."""
    readings = read_outcomes(videos, clips)
    return {"clips": len(clips), "outcomes": [r[-1] for r in readings],
            "misread": sum(r[-1] != c.params["outcome"] for r, c in zip(readings, clips, strict=True)),
            "switched": sum(map(switched, readings))}


def switched(readings: list) -> bool:
    """Whether the ball changes side over the frames read: two frames decided for different sides."""
    return len({o for o in readings if o in ("left", "right")}) > 1


@experiment("open_future", models=models)
def open_future(ctx) -> dict:
    """Outcome frequencies, ghosts and diversity per training target and sampling setting (3 seeds)."""
    n_contexts, n_samples = CONTEXTS[ctx.mode.name], SAMPLES[ctx.mode.name]
    # 1. the truth, read by the same instrument: it must read as what happened, every time; and the truth
    # through the shipped VAE (encoded and decoded), the latent model's floor
    if not ctx.results.done(seed="truth"):
        truth = evaluate.held_out(ctx.clip_spec(scenarios=SCENARIOS), n_contexts * len(SCENARIOS))
        through = evaluate.held_out(ctx.clip_spec(scenarios=SCENARIOS, num_frames=17, context_frames=5),
                                    n_contexts * len(SCENARIOS))
        ctx.results.add({"seed": "truth", **_floor([c.video for c in truth], truth),
                         "through the VAE": _floor(vae_physics.reconstruct(load_vae("tiny-latent"), through),
                                                   through)})
    # 2. every model continues the same contexts, each n_samples times, under each setting
    for variant in VARIANTS:
        for seed in ctx.mode.seeds:
            todo = [s for s in SETTINGS if not ctx.results.done(seed=seed, variant=variant, setting=s)]
            if not todo:
                continue
            pipe = zoo.by_steps(ctx, config(ctx, variant, seed))  # loaded once, for every setting left
            contexts = evaluate.held_out(pipe.training_config, n_contexts * len(SCENARIOS))
            repeated = [c for c in contexts for _ in range(n_samples)]  # sample j of context i: i * n + j
            for setting in todo:
                sampler, steps = SETTINGS[setting]
                set_sampler(pipe, sampler)
                videos = evaluate.continue_clips(pipe, repeated, steps, batch_size=n_samples)
                readings = read_outcomes(videos, repeated)
                ctx.results.add({"seed": seed, "variant": variant, "setting": setting,
                                 "context_seeds": [c.seed for c in contexts],
                                 "scenarios": [c.scenario for c in contexts], "samples": n_samples,
                                 "outcomes": [r[-1] for r in readings],
                                 "switched": [switched(r) for r in readings]})
    return summarise(ctx.results.rows())


def summarise(rows: list) -> dict:
    """Per variant and setting: each scenario's outcome shares against the truth, the total variation
    distance, a χ² test of the decided samples' odds, the ghost rate and the per-context spread."""
    truth = next((r for r in rows if r["seed"] == "truth"), None)
    keep = ("clips", "misread", "switched")
    summary = {"instrument": {"truth": {k: truth[k] for k in keep},
                              "truth through the VAE": {k: truth["through the VAE"][k] for k in keep}}
               if truth else None}
    model_rows = [r for r in rows if isinstance(r["seed"], int)]
    kinds = {key: {r["seed"]: r for r in model_rows if (r["variant"], r["setting"]) == key}
             for key in sorted({(r["variant"], r["setting"]) for r in model_rows})}
    for (variant, setting), by_seed in kinds.items():
        summary[f"{variant} | {setting}"] = {scenario: _scenario_figures(by_seed, scenario) for scenario in SCENARIOS}
    summary["ghost rate, paired differences"] = _comparisons(kinds)
    return summary


def _comparisons(kinds: dict) -> dict:
    """The ghost rate of each other variant (DDIM, 25 steps) and each other setting (x0) minus the baseline's,
    on the same contexts and sampling seeds of the same training seeds: a paired test of the difference."""
    baseline = (BASELINE, BASE_SETTING)
    pairs = [((v, BASE_SETTING), baseline) for v in VARIANTS if v != BASELINE]
    pairs += [((BASELINE, s), baseline) for s in SETTINGS if s != BASE_SETTING]
    out = {}
    for other, base in pairs:
        seeds = sorted(set(kinds.get(other, {})) & set(kinds.get(base, {})))
        if not seeds:
            continue
        name = f"{' | '.join(other)} minus {' | '.join(base)}"
        out[name] = stats.difference([_ghost_flags(kinds[base][s]) for s in seeds],
                                     [_ghost_flags(kinds[other][s]) for s in seeds], paired=other[0] not in UNPAIRED)
    return out


def _ghost_flags(row: dict) -> list:
    """Each sample of a row: 1 if it is an averaging failure (a ghost), else 0."""
    return [float(o in GHOSTS) for o in row["outcomes"]]


def _scenario_figures(by_seed: dict, scenario: str) -> dict:
    """One scenario's figures for one model kind over its seeds (each seed's, and seeds then contexts)."""
    truth = world.TABLE[scenario].truth
    per_seed, ghosts_by_seed, tv_by_seed, spread_by_seed, switch_by_seed = {}, [], [], [], []
    counts = dict.fromkeys(("left", "right", *GHOSTS), 0)
    for seed, row in sorted(by_seed.items()):
        n = row["samples"]
        contexts = [row["outcomes"][i * n:(i + 1) * n] for i, s in enumerate(row["scenarios"]) if s == scenario]
        flat = [o for c in contexts for o in c]
        shares = {o: flat.count(o) / len(flat) for o in counts}
        for o in counts:
            counts[o] += flat.count(o)
        tv = 0.5 * sum(abs(shares[o] - truth.get(o, 0.0)) for o in counts)
        ghosts_by_seed.append([sum(o in GHOSTS for o in c) / n for c in contexts])  # per context
        switches = [row["switched"][i * n:(i + 1) * n] for i, s in enumerate(row["scenarios"]) if s == scenario]
        switch_by_seed.append([sum(c) / n for c in switches])
        tv_by_seed.append(tv)
        right_share = [c.count("right") / n for c in contexts]
        spread_by_seed.append(float(np.std(right_share)))
        per_seed[str(seed)] = {"shares": shares, "tv": tv, "ghost_rate": shares["split"] + shares["faded"]
                               + shares["undecided"], "right_share_sd_over_contexts": spread_by_seed[-1]}
    decided = counts["left"] + counts["right"]
    p_right = truth["right"]
    chi2 = (scipy_stats.chisquare([counts["left"], counts["right"]], [decided * (1 - p_right), decided * p_right])
            if decided else None)
    n = next(iter(by_seed.values()))["samples"]
    return {"truth": truth, "per_seed": per_seed, "counts": counts,
            "right_given_decided": counts["right"] / decided if decided else None,
            "chi2_p_decided_odds": float(chi2.pvalue) if chi2 is not None else None,
            "tv": stats.over_seeds(tv_by_seed),
            # seeds, then contexts (a context's samples share it): each context's share of ghosts is one unit
            "ghost_rate": {**stats.cluster_rate(ghosts_by_seed), "k": sum(counts[g] for g in GHOSTS),
                           "n": sum(counts.values()), "unit": "context"},
            "right_share_sd_over_contexts": stats.over_seeds(spread_by_seed),
            "switch_rate": {**stats.cluster_rate(switch_by_seed), "unit": "context"},
            "truth_right_share_sd": float(np.sqrt(p_right * (1 - p_right) / n))}
