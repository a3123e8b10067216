"""The failure gallery's numbers: how often each kind of physics error happens, and where.

Each generated clip is read by the probes and classed by the failures found in it: the probes' events
(vanish, appear, teleport, morph, colour change, interpenetration) and four physics checks against the
truth, with thresholds named below. The same is done on the true clips, so that the probes' own false
alarms are measured beside the model's failures. Each clip also gets image-level scores (PSNR and SSIM
against the truth, sharpness, flicker), for "looks right" against "is right".
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vidlab import evaluate, probes, world
from vidlab.experiments import stats
from vidlab.experiments.core import each_seed, experiment
from vidlab.experiments.ood import CONDITIONS

GRAVITY_WRONG = 0.10  # relative error of the fitted gravity: the quality bar's limit
ENERGY_GAIN_RESTITUTION = 1.1  # a bounce that sends the ball back faster than it came (the truth: 0.8)
MOMENTUM_CHANGE = 0.25  # |p_after - p_before| / sum |m v| across a collision (the truth: 0)
FLICKER_EXCESS = 0.01  # mean background change per frame (fraction of full scale) beyond the truth's
KINDS = (*probes.EVENT_KINDS, "wrong_gravity", "energy_gained", "momentum_not_conserved", "flicker")


def failures_of(report: probes.PhysicsReport, clip: world.Clip, truth_flicker: float) -> list:
    """The kinds of failure in one clip's report (each kind once), judged against the clip's truth."""
    found = {e.kind for e in report.events}
    if clip.gravity_px_s2:
        g = report.gravity_px_s2
        if g is None or abs(g / clip.gravity_px_s2 - 1) > GRAVITY_WRONG:
            found.add("wrong_gravity")
    if any(b.restitution > ENERGY_GAIN_RESTITUTION for b in report.bounces):
        found.add("energy_gained")
    if any(c.momentum_change > MOMENTUM_CHANGE for c in report.collisions):
        found.add("momentum_not_conserved")
    if truth_flicker - report.flicker > FLICKER_EXCESS:
        found.add("flicker")
    return sorted(found)


def image_scores(video, clip: world.Clip, k: int) -> dict:
    """PSNR and SSIM of the generated frames against the truth; sharpness (Laplacian variance) as a ratio to
    the truth's; and the background's flicker (1 = steady)."""
    gen, truth = np.asarray(video)[k:], clip.video[k:]
    sharp = [ndimage.laplace(v.mean(-1).astype(float)).var() for v in (gen, truth)]
    with np.errstate(divide="ignore"):  # identical frames: PSNR is inf
        psnr = float(peak_signal_noise_ratio(truth, gen, data_range=255))
    return {"psnr": psnr,
            "ssim": float(np.mean([structural_similarity(t, g, channel_axis=-1, data_range=255)
                                   for t, g in zip(truth, gen, strict=True)])),
            "sharpness_ratio": float(sharp[0] / max(sharp[1], 1e-9))}


def classify(videos, clips, k: int, truth_reports=None) -> list:
    """Per clip: its failures, image scores and centre error; the truth's failures (the probes' false alarms).

    ``truth_reports``: the probes' reports on the true clips, when already made (they depend on the clips only).
    """
    truth_reports = truth_reports or [probes.physics_report(c.video, c.fps) for c in clips]
    rows = []
    for video, clip, truth_report in zip(videos, clips, truth_reports, strict=True):
        report = probes.physics_report(video, clip.fps)
        errors = evaluate.clip_measures(video, clip, k, report)["center_errors"]
        rows.append({"seed": clip.seed, "failures": failures_of(report, clip, truth_report.flicker),
                     "truth_failures": failures_of(truth_report, clip, truth_report.flicker),
                     "center_error_px": evaluate.median(errors),
                     "flicker": report.flicker, **image_scores(video, clip, k)})
    return rows


# Where to look for failures: in distribution, outside it, and past the trained length (4 times).
WHERE = {**CONDITIONS, "4x the trained length": {"num_frames": 64}}


@experiment("failure_rates", models=each_seed())
def failure_rates(ctx) -> dict:
    """How often each failure kind happens in and out of distribution and past the trained length."""
    for seed in ctx.mode.seeds:
        pipe = None
        for condition, params in WHERE.items():
            if ctx.results.done(seed=seed, condition=condition):
                continue
            pipe = pipe or ctx.model(ctx.config(seed=seed))
            clips = evaluate.held_out(pipe.training_config, ctx.mode.clips, **params)
            videos = evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps)
            ctx.results.add({"seed": seed, "condition": condition,
                             "per_clip": classify(videos, clips, pipe.training_config["context_frames"])})
    # 2. the gallery: for each kind, a generated clip in which the probes found it, beside its truth
    if not (ctx.results.folder / GALLERY).exists():
        save_gallery(ctx)
    return summarize(ctx.results.rows())


GALLERY = "gallery.npz"


def save_gallery(ctx, seed: int = 0, batch: int = 16) -> None:
    """For each failure kind, the first clip (by condition, then clip seed) of training seed ``seed`` in which
    the probes found it: generated again exactly (same model, batch and noise) and saved with its truth."""
    rows = [r for r in ctx.results.rows() if r["seed"] == seed]
    pipe, found = ctx.model(ctx.config(seed=seed)), {}
    for kind in KINDS:
        hit = next(((r["condition"], i) for r in rows for i, c in enumerate(r["per_clip"]) if kind in c["failures"]),
                   None)
        if hit is None:
            continue
        condition, i = hit
        clips = evaluate.held_out(pipe.training_config, ctx.mode.clips, **WHERE[condition])
        first = i - i % batch  # the clip's batch, seeded as in the run: the same noise, the same video
        videos = evaluate.continue_clips(pipe, clips[first:first + batch], ctx.mode.sampling_steps, seed=first)
        found[kind] = (videos[i - first], clips[i].video, condition, clips[i].seed)
    np.savez_compressed(ctx.results.folder / GALLERY, kinds=np.array(list(found)),
                        conditions=np.array([v[2] for v in found.values()]),
                        clip_seeds=np.array([v[3] for v in found.values()]),
                        **{f"generated_{k}": v[0] for k, v in found.items()},
                        **{f"truth_{k}": v[1] for k, v in found.items()})


def summarize(rows: list) -> dict:
    """Per condition and failure kind: the share of clips with it (Wilson interval over all seeds' clips), for
    the model and for the true clips; and the Spearman correlation of each image score with centre error."""
    summary = {}
    for condition in dict.fromkeys(r["condition"] for r in rows):
        clips = [c for r in rows if r["condition"] == condition for c in r["per_clip"]]
        n = len(clips)
        entry = {"clips": n,
                 "model": {kind: stats.rate(sum(kind in c["failures"] for c in clips), n) for kind in KINDS},
                 "truth": {kind: stats.rate(sum(kind in c["truth_failures"] for c in clips), n) for kind in KINDS}}
        found = [c for c in clips if np.isfinite(c["center_error_px"])]  # a ball the probes matched
        error = [c["center_error_px"] for c in found]
        entry["looks_vs_is"] = {score: _rank_correlation([c[score] for c in found], error)
                                for score in ("psnr", "ssim", "sharpness_ratio", "flicker")}
        summary[condition] = entry
    return summary


def compact(per_clip: list) -> list:
    """What :func:`rates_by` needs of :func:`classify`'s rows: the failures and the centre error of each clip."""
    return [{"failures": c["failures"], "center_error_px": round(c["center_error_px"], 4)} for c in per_clip]


def rates_by(rows: list, keys: tuple) -> dict:
    """Per setting (the values of ``keys``, joined by " | "): the share of clips with any failure and with each
    kind (Wilson intervals, all seeds' clips together) and the median centre error with a bootstrap interval."""
    summary = {}
    for setting in dict.fromkeys(tuple(r[k] for k in keys) for r in rows):
        clips = [c for r in rows if tuple(r[k] for k in keys) == setting for c in r["per_clip"]]
        summary[" | ".join(map(str, setting))] = {
            "any_failure": stats.rate(sum(bool(c["failures"]) for c in clips), len(clips)),
            "kinds": {kind: stats.rate(sum(kind in c["failures"] for c in clips), len(clips)) for kind in KINDS},
            "center_error_px": stats.median_ci([c["center_error_px"] for c in clips])}
    return summary


def _rank_correlation(a, b) -> float:
    """Spearman's rank correlation (scipy), NaN when either side is constant or there are fewer than 3 pairs."""
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)
