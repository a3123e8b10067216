"""The gravity check's own noise floor: how often a ball that falls exactly right is judged "wrong gravity".

The failure table flags a clip when the gravity the probes fit to its generated frames is off by more than
10% (``failures.GRAVITY_WRONG``). That fit is a least-squares parabola through ball centres, so it is only as
good as the centres: a generated ball drawn a fraction of a pixel off in each frame gives a noisy fit even
when its motion obeys gravity perfectly. The probes' false-alarm rate on the true clips (noiseless tracks)
misses this, because a model's centres are never noiseless.

The floor for a model is therefore measured on the truth with that model's own jitter added:

1. the probes read the true clip (its exact tracks);
2. each generated frame's centre is moved by independent Gaussian jitter, per axis with the standard
   deviation that gives the model's median centre error on that very clip (a 2-D Gaussian error's length
   has median sigma * sqrt(2 ln 2), a Rayleigh distribution); the given frames stay exact, as they do in a
   generated clip;
3. gravity is fitted by the probes' own fit (``probes.physics.fit_free_flight``) and judged by the same rule;
4. steps 2-3 are repeated ``draws`` times: the share flagged is that clip's false-alarm probability.

This is an upper bound on what fit noise alone explains: a model's error that is smooth over frames (a ball
a little behind all along) moves the fit less than independent jitter of the same size does.
"""

from __future__ import annotations

import copy
import math

import numpy as np
from scipy import stats

from vidlab import probes
from vidlab.probes.physics import fit_free_flight

RAYLEIGH_MEDIAN = math.sqrt(2 * math.log(2))  # median length of a 2-D Gaussian error, in per-axis sigmas


def jitter_sigma(center_error_px: float) -> float:
    """The per-axis standard deviation of Gaussian jitter whose median error length is ``center_error_px``."""
    if not (np.isfinite(center_error_px) and center_error_px >= 0):
        raise ValueError(f"center_error_px={center_error_px!r}: expected a distance >= 0 (a finite median error)")
    return float(center_error_px) / RAYLEIGH_MEDIAN


def false_alarm_probability(truth_report, clip, sigma: float, context_frames: int, threshold: float,
                            draws: int = 20, rng=None) -> float:
    """The share of ``draws`` in which the true tracks of ``clip``, jittered by ``sigma`` px per axis in the
    generated frames, give a gravity fit off by more than ``threshold`` (or none at all)."""
    if not clip.gravity_px_s2:
        raise ValueError(f"clip seed {clip.seed} has no gravity (scenario {clip.scenario!r}): nothing to fit")
    rng = rng if rng is not None else np.random.default_rng(0)
    flagged = 0
    for _ in range(draws):
        tracks = copy.deepcopy(truth_report.tracks)
        for track in tracks:
            seen = track.present.copy()
            seen[:context_frames] = False  # the given frames are the truth's, exact
            track.centers[seen] += rng.normal(0.0, sigma, size=(int(seen.sum()), 2))
            track.velocities[:] = np.nan
        g = fit_free_flight(tracks, clip.fps).gravity
        flagged += g is None or abs(g / clip.gravity_px_s2 - 1) > threshold
    return flagged / draws


def floor_by_clip(clips, center_errors, context_frames: int, threshold: float, draws: int = 20,
                  truth_reports=None, seed: int = 0) -> list:
    """For each clip, the false-alarm probability of the gravity check at the model's jitter on that clip
    (``center_errors``: the model's median centre error per clip, px). NaN where the model lost the ball
    (an infinite error: no jitter to speak of) or the clip has no gravity."""
    if len(center_errors) != len(clips):
        raise ValueError(f"{len(center_errors)} centre errors for {len(clips)} clips: expected one per clip")
    truth_reports = truth_reports or [probes.physics_report(c.video, c.fps) for c in clips]
    rng = np.random.default_rng(seed)
    out = []
    for clip, report, error in zip(clips, truth_reports, center_errors, strict=True):
        if not (clip.gravity_px_s2 and np.isfinite(error)):
            out.append(float("nan"))
            continue
        out.append(false_alarm_probability(report, clip, jitter_sigma(error), context_frames, threshold,
                                           draws, rng))
    return out


# ------------------------------------------------------------------ a gravity check calibrated by its own fit
def gravity_on_true_segments(centers, clip, obj: int = 0) -> tuple:
    """Gravity fitted to one ball's centres (``centers`` [T, 2] px, NaN where unseen) with its standard error.

    The probes find free flight themselves, by cutting a track where its second difference jumps, and with
    noisy centres they can miss a bounce and fit one parabola through it. Here the free-flight segments come
    from the truth (``clip.contacts``: the exact times of every bounce and collision of ``obj``), so the fit
    is one shared vertical acceleration and one (c, b) per segment, by ordinary least squares, and its
    standard error is the textbook one: sigma^2 (A^T A)^-1. Returns ``(g px/s^2, se, degrees of freedom)``,
    or ``(None, None, 0)`` with fewer than 4 seen frames in segments of 3 or more.
    """
    times = np.arange(len(centers)) / clip.fps
    cuts = sorted(c.time_s for c in clip.contacts if c.obj == obj or c.other == obj)
    segment = np.searchsorted(cuts, times)  # frames between the same two contacts share a segment
    seen = ~np.isnan(centers[:, 1])
    used = [s for s in np.unique(segment[seen]) if (seen & (segment == s)).sum() >= 3]
    rows = np.flatnonzero(seen & np.isin(segment, used))
    if len(rows) < 4:
        return None, None, 0
    a_mat = np.zeros((len(rows), 1 + 2 * len(used)))
    a_mat[:, 0] = times[rows] ** 2
    for k, s in enumerate(used):
        mine = segment[rows] == s
        a_mat[mine, 1 + 2 * k], a_mat[mine, 2 + 2 * k] = 1.0, times[rows][mine]
    y = centers[rows, 1]
    coef, *_ = np.linalg.lstsq(a_mat, y, rcond=None)
    dof = len(y) - a_mat.shape[1]
    if dof < 1:
        return float(2 * coef[0]), float("inf"), 0
    sigma2 = float(np.sum((y - a_mat @ coef) ** 2)) / dof
    var = sigma2 * np.linalg.pinv(a_mat.T @ a_mat)[0, 0]
    return float(2 * coef[0]), 2 * math.sqrt(max(var, 0.0)), dof


def gravity_significantly_off(g, se, dof: int, true_gravity: float, threshold: float,
                              confidence: float = 0.95) -> bool:
    """The calibrated check: gravity is off by more than ``threshold`` (relative) AND the fit's own error
    cannot explain the difference (a two-sided t test at ``confidence``). No fit at all counts as off."""
    if g is None:
        return True
    off = abs(g - true_gravity)
    if off <= threshold * abs(true_gravity):
        return False
    if dof < 1 or not np.isfinite(se):
        return False  # too few free-flight frames to tell a wrong fall from a noisy one
    return bool(off > stats.t.ppf(0.5 + confidence / 2, dof) * se)
