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

from vidlab import check, evaluate, probes, world
from vidlab.experiments import fit_noise, stats
from vidlab.experiments.core import each_seed, experiment
from vidlab.experiments.ood import CONDITIONS

GRAVITY_WRONG = 0.10  # relative error of the fitted gravity: the quality bar's limit
ENERGY_GAIN_RESTITUTION = 1.1  # a bounce that sends the ball back faster than it came (the truth: 0.8)
MOMENTUM_CHANGE = 0.25  # |p_after - p_before| / sum |m v| across a collision (the truth: 0)
FLICKER_EXCESS = 0.01  # mean background change per frame (fraction of full scale) beyond the truth's
# "wrong_gravity" is the old check (off by more than 10%, whatever the fit's noise); rows written before the
# calibrated check existed do not hold "gravity_significantly_off", so summaries read the kinds each row checked.
EARLIER_KINDS = (*probes.EVENT_KINDS, "wrong_gravity", "energy_gained", "momentum_not_conserved", "flicker")
KINDS = (*EARLIER_KINDS, "gravity_significantly_off")


def failures_of(report: probes.PhysicsReport, clip: world.Clip, truth_flicker: float) -> list:
    """The kinds of failure in one clip's report (each kind once), judged against the clip's truth."""
    found = {e.kind for e in report.events}
    if clip.gravity_px_s2:
        g = report.gravity_px_s2
        if g is None or abs(g / clip.gravity_px_s2 - 1) > GRAVITY_WRONG:
            found.add("wrong_gravity")
        # the calibrated check: on the truth's free-flight segments, off by > 10% and beyond the fit's own error
        for j, track in enumerate(check.match_tracks(clip, report)):
            centers = track.centers if track is not None else np.full((len(clip.video), 2), np.nan)
            if fit_noise.gravity_significantly_off(*fit_noise.gravity_on_true_segments(centers, clip, j),
                                                   clip.gravity_px_s2, GRAVITY_WRONG):
                found.add("gravity_significantly_off")
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
            if ctx.results.done(seed=seed, condition=condition, floor=None):
                continue
            pipe = pipe or ctx.model(ctx.config(seed=seed))
            clips = evaluate.held_out(pipe.training_config, ctx.mode.clips, **params)
            videos = evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps)
            ctx.results.add({"seed": seed, "condition": condition, "kinds": list(KINDS),
                             "per_clip": classify(videos, clips, pipe.training_config["context_frames"])})
    # 2. the gallery: for each kind, a generated clip in which the probes found it, beside its truth
    if not (ctx.results.folder / GALLERY).exists():
        save_gallery(ctx)
    # 3. the gravity check's floor at each model's own centre jitter (its false alarms from fit noise)
    add_fit_noise_floor(ctx)
    return summarize(ctx.results.rows())


GALLERY = "gallery.npz"


def save_gallery(ctx, seed: int = 0, batch: int = 16) -> None:
    """For each failure kind, the first clip (by condition, then clip seed) of training seed ``seed`` in which
    the probes found it: generated again exactly (same model, batch and noise) and saved with its truth."""
    rows = [r for r in ctx.results.rows() if r["seed"] == seed and "floor" not in r]
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
    """Per condition and failure kind: the share of clips with it over every training seed's clips (a two-level
    bootstrap interval: seeds, then clips; each seed's rate beside it), and the probes' false alarms on the true
    clips (the same held-out clips for every seed, so counted once). For gravity, also the floor at each
    model's own centre jitter (``fit_noise``) and the model's excess over it, paired on the clips. Last, the
    Spearman correlation of each image score with centre error."""
    models = [r for r in rows if "floor" not in r]
    floors = {(r["seed"], r["condition"]): r["per_clip"] for r in rows if r.get("floor") == FLOOR}
    summary = {}
    for condition in dict.fromkeys(r["condition"] for r in models):
        mine = sorted((r for r in models if r["condition"] == condition), key=lambda r: str(r.get("seed")))
        by_seed = [r["per_clip"] for r in mine]
        truth = by_seed[0]  # the truth's clips are the same for every seed
        kinds = checked(mine)
        entry = {"clips": sum(map(len, by_seed)), "seeds": [r.get("seed") for r in mine],
                 "model": {kind: stats.cluster_rate([[kind in c["failures"] for c in clips] for clips in by_seed])
                           for kind in kinds},
                 "truth": {kind: stats.rate(sum(kind in c["truth_failures"] for c in truth), len(truth))
                           for kind in kinds}}
        if all((r.get("seed"), condition) in floors for r in mine):
            entry["gravity_fit_floor"] = _floor_summary([floors[r["seed"], condition] for r in mine], by_seed)
        found = [c for clips in by_seed for c in clips if np.isfinite(c["center_error_px"])]  # a matched ball
        error = [c["center_error_px"] for c in found]
        entry["looks_vs_is"] = {score: _rank_correlation([c[score] for c in found], error)
                                for score in ("psnr", "ssim", "sharpness_ratio", "flicker")}
        summary[condition] = entry
    return summary


FLOOR = "gravity fit noise"


def checked(rows: list) -> tuple:
    """The failure kinds every one of ``rows`` checked (rows from before a kind existed lack it)."""
    return tuple(k for k in KINDS if all(k in r.get("kinds", EARLIER_KINDS) for r in rows))


def add_fit_noise_floor(ctx, draws: int = 20) -> None:
    """One row per (seed, condition) with each clip's probability that the gravity check fires on the TRUE
    clip with this model's own centre jitter on that clip added (``fit_noise.floor_by_clip``)."""
    settings = ctx.clip_settings()
    for condition, params in WHERE.items():
        todo = [r for r in ctx.results.rows() if r.get("condition") == condition and "floor" not in r
                and not ctx.results.done(seed=r["seed"], condition=condition, floor=FLOOR)]
        if not todo:
            continue
        clips = evaluate.held_out(settings, len(todo[0]["per_clip"]), **params)
        reports = [probes.physics_report(c.video, c.fps) for c in clips]
        for row in todo:
            errors = [c["center_error_px"] for c in row["per_clip"]]
            floor = fit_noise.floor_by_clip(clips, errors, settings["context_frames"], GRAVITY_WRONG, draws,
                                            reports, seed=row["seed"])
            ctx.results.add({"seed": row["seed"], "condition": condition, "floor": FLOOR, "draws": draws,
                             "per_clip": [round(p, 4) for p in floor]})


def _floor_summary(floor_by_seed: list, clips_by_seed: list) -> dict:
    """The gravity check's false-alarm floor at each model's jitter, and the model's rate minus it (paired on
    the clips where the model kept the ball, the only ones where its jitter is defined)."""
    pairs = [[(p, "wrong_gravity" in c["failures"]) for p, c in zip(floor, clips, strict=True) if np.isfinite(p)]
             for floor, clips in zip(floor_by_seed, clips_by_seed, strict=True)]
    floor = [[p for p, _ in seed] for seed in pairs]
    flagged = [[float(f) for _, f in seed] for seed in pairs]
    means = [float(np.mean(f)) if f else float("nan") for f in floor]
    pooled = [p for f in floor for p in f]
    return {"floor": stats.cluster_median(floor) | {"mean": float(np.mean(pooled)) if pooled else float("nan"),
                                                    "per_seed_mean": means},
            "model_on_same_clips": stats.cluster_rate(flagged),
            "model_minus_floor": stats.difference(floor, flagged, paired=True)}


def compact(per_clip: list) -> list:
    """What :func:`rates_by` needs of :func:`classify`'s rows: the failures and the centre error of each clip."""
    return [{"failures": c["failures"], "center_error_px": round(c["center_error_px"], 4)} for c in per_clip]


def rates_by(rows: list, keys: tuple, reference: dict | None = None) -> dict:
    """Per setting (the values of ``keys``, joined by " | "): the share of clips with any failure and with each
    kind, and the median centre error, each over every seed's clips with a two-level bootstrap interval (seeds,
    then clips) and per seed. With ``reference`` (e.g. ``{"guidance": 1.0}``), each setting is also compared
    with the setting that differs from it only there, on the same clips of the same models
    (``stats.difference``, paired): ``"vs_reference"``."""
    groups = {}
    for r in sorted(rows, key=lambda r: str(r["seed"])):
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    summary = {}
    for setting, mine in groups.items():
        by_seed = [r["per_clip"] for r in mine]
        entry = {"seeds": [r["seed"] for r in mine],
                 "any_failure": stats.cluster_rate([[bool(c["failures"]) for c in clips] for clips in by_seed]),
                 "kinds": {kind: stats.cluster_rate([[kind in c["failures"] for c in clips] for clips in by_seed])
                           for kind in checked(mine)},
                 "center_error_px": stats.cluster_median([[c["center_error_px"] for c in clips]
                                                          for clips in by_seed])}
        base = tuple(reference.get(k, v) for k, v in zip(keys, setting, strict=True)) if reference else None
        if base is not None and base != setting and base in groups and "truth" not in setting:
            ref = {r["seed"]: r["per_clip"] for r in groups[base]}
            pairs = [(ref[r["seed"]], r["per_clip"]) for r in mine if r["seed"] in ref]
            entry["vs_reference"] = {
                "reference": " | ".join(map(str, base)),
                "any_failure": stats.difference([[bool(c["failures"]) for c in a] for a, _ in pairs],
                                                [[bool(c["failures"]) for c in b] for _, b in pairs]),
                "center_error_px": stats.difference([[c["center_error_px"] for c in a] for a, _ in pairs],
                                                    [[c["center_error_px"] for c in b] for _, b in pairs],
                                                    statistic="median")}
        summary[" | ".join(map(str, setting))] = entry
    return summary


def _rank_correlation(a, b) -> float:
    """Spearman's rank correlation (scipy), NaN when either side is constant or there are fewer than 3 pairs."""
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)
