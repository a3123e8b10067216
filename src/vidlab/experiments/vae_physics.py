"""Where the VAE breaks physics: the world's clips through the tiny causal VAE and back, against the truth.

Every public video model generates latents, not pixels: whatever its VAE cannot carry through its compression,
no transformer can draw. So before the transformer, the VAE alone: held-out clips are encoded and decoded by
the trained VAE (``vidlab.latent.vae.TinyVideoVAE``, trained with ``family="vae"``) and the reconstructions are
read by the same probes as every generated clip (centre and velocity error, the right number of balls, gravity,
bounces, the failure kinds of ``failures``, PSNR and SSIM). This is the VAE's own share of the physics errors of
a latent model.

Two VAEs per training seed, 3 seeds: 4 frames per latent frame (Wan's and LTX's temporal compression) and 2.
Held-out clips in distribution, with faster balls (more motion inside one latent frame) and with smaller balls
(a few pixels, inside one 4x4-pixel latent). Frame 0 is encoded alone, so it is left out: the figures are
over frames 1-16, where frames are folded in time. The 2x and 4x VAEs are compared on the same clips (paired).
"""

from __future__ import annotations

import numpy as np
import torch

from vidlab import evaluate, pixels, probes
from vidlab.experiments import failures, stats, zoo
from vidlab.experiments.core import experiment
from vidlab.experiments.ood import CONDITIONS as OOD
from vidlab.latent.vae import decode_latents, encode_frames

TIME_GROUPS = (4, 2)  # frames per latent frame after the first
CONDITIONS = {name: OOD[name] for name in ("in distribution", "faster", "smaller")}
STEPS = {"full": 1500, "fast": 3}  # the VAE recipe: 1,500 steps of 16 clips from a pool of 4,096
POOL = {"full": 4096, "fast": 32}
FIRST = 1  # frames before this one are left out of the figures (frame 0 is encoded alone)
ERRORS = ("center_error_px", "velocity_error_px")


def config(ctx, group: int, seed: int):
    """A VAE of ``group`` frames per latent frame, trained by the VAE recipe on 17-frame clips (named by steps).
    The 4x VAE of seed 0 is the one vidlab ships (``"tiny-latent"``'s VAE)."""
    return ctx.config(seed=seed, family="vae", num_frames=17, context_frames=5, vae_time_group=group,
                      steps=STEPS[ctx.mode.name], clip_pool=POOL[ctx.mode.name], snapshot_minutes=())


def models(ctx) -> list:
    return [(config(ctx, group, seed), None) for group in TIME_GROUPS for seed in ctx.mode.seeds]


@torch.no_grad()
def reconstruct(vae, clips, batch: int = 16) -> list:
    """Each clip's video encoded and decoded by ``vae`` (the latents' mean): uint8 videos [T, H, W, 3]."""
    device, out = next(vae.parameters()).device, []
    for i in range(0, len(clips), batch):
        video = pixels.to_model_space(np.stack([c.video for c in clips[i:i + batch]])).to(device)
        frames = decode_latents(vae, encode_frames(vae, video))
        out.extend(pixels.from_model_space(v) for v in frames.float())
    return out


def bounce_measures(videos, clips) -> list:
    """Per clip: whether the truth bounces, whether the reconstruction does, and the restitution's error where
    both do (the median of each's bounces)."""
    rows = []
    for video, clip in zip(videos, clips, strict=True):
        found = [[b.restitution for b in probes.physics_report(v, clip.fps).bounces] for v in (clip.video, video)]
        error = abs(np.median(found[1]) - np.median(found[0])) if all(found) else float("nan")
        rows.append({"truth_bounces": bool(found[0]), "bounce_kept": bool(found[1]) if found[0] else None,
                     "restitution_error": round(float(error), 4)})
    return rows


@experiment("vae_physics", models=models)
def vae_physics(ctx) -> dict:
    """The tiny causal VAE's reconstructions against the truth, 4 and 2 frames per latent frame (issue 24)."""
    # 1. every VAE on every condition's held-out clips: the probes' figures, failures and bounces per clip
    for group in TIME_GROUPS:
        for seed in ctx.mode.seeds:
            vae = None
            for condition, params in CONDITIONS.items():
                if ctx.results.done(seed=seed, time_group=group, condition=condition):
                    continue
                vae = vae or zoo.by_steps(ctx, config(ctx, group, seed))
                clips = evaluate.held_out(config(ctx, group, seed), ctx.mode.clips, **params)
                videos = reconstruct(vae, clips)
                classified = failures.classify(videos, clips, FIRST)
                ctx.results.add({"seed": seed, "time_group": group, "condition": condition,
                                 **evaluate.metrics_with_clips(videos, clips, FIRST),
                                 "failures": failures.compact(classified),
                                 "image": [{k: round(c[k], 4) for k in ("psnr", "ssim")} for c in classified],
                                 "bounces": bounce_measures(videos, clips)})
    # 2. per VAE and condition: the figures over seeds then clips; 2x against 4x on the same clips
    return summarize(ctx.results.rows())


def summarize(rows: list) -> dict:
    """{"<group>x in time, <condition>": figures}, and {"2x minus 4x, <condition>": paired differences}."""
    by = {(r["time_group"], r["seed"], r["condition"]): r for r in rows}
    summary = {}
    for condition in CONDITIONS:
        for group in TIME_GROUPS:
            mine = [r for (g, _, c), r in sorted(by.items(), key=lambda kv: str(kv[0])) if (g, c) == (group,
                                                                                                 condition)]
            if mine:
                summary[f"{group}x in time, {condition}"] = _figures(mine)
        seeds = sorted({s for g, s, c in by if c == condition and all((t, s, c) in by for t in TIME_GROUPS)})
        if seeds:
            four, two = ([by[g, s, condition]["per_clip"] for s in seeds] for g in TIME_GROUPS)
            summary[f"2x minus 4x, {condition}"] = {
                m: stats.difference([c[m] for c in four], [c[m] for c in two], paired=True, statistic="median")
                for m in ERRORS}
    return summary


def _figures(rows: list) -> dict:
    """One VAE kind on one condition, over its seeds' clips (two-level intervals; per seed beside)."""
    bounces = [[b for b in r["bounces"] if b["truth_bounces"]] for r in rows]
    return {
        "seeds": [r["seed"] for r in rows],
        **{m: stats.cluster_median([r["per_clip"][m] for r in rows]) for m in ERRORS},
        "correct_count": stats.over_seeds([r["correct_count"] for r in rows]),
        "gravity_rel_error": stats.over_seeds([r["gravity_rel_error"] for r in rows]),
        "psnr": stats.cluster_median([[c["psnr"] for c in r["image"]] for r in rows]),
        "failures": {k: stats.cluster_rate([[k in c["failures"] for c in r["failures"]] for r in rows])
                     for k in failures.KINDS if any(k in c["failures"] for r in rows for c in r["failures"])},
        "bounce_lost": stats.cluster_rate([[not b["bounce_kept"] for b in seed] for seed in bounces]),
        "restitution_error": stats.cluster_median([[b["restitution_error"] for b in seed if b["bounce_kept"]]
                                                   for seed in bounces]),
    }
