"""Measures of a ball's motion that need no scale: what a model given one frame could get right.

A frame does not say how big the scene is. A ball 100 px across falling at 576 px/s^2 is a 22 cm ball at an
eighth of Earth's gravity, or a 1.7 m ball at Earth's; the frame rate a model has in mind is unknown too. A
model that learned real falls would miss such a truth's px/s^2 while getting the physics right. So the
trials score what holds at any scale, each over the frames from the last given one on:

- ``path residual diameters``: RMS distance of the centre from one parabola per free-flight segment (cut at
  bounces), all with one shared acceleration: 0 for constant acceleration;
- ``horizontal drift diameters``: RMS distance of x from a straight line in time: 0 for a constant
  horizontal speed (no side walls; the floor has no friction);
- ``acceleration angle deg``: between the fitted acceleration and straight down;
- ``restitution``: normal speed after / before the first bounce on the floor;
- ``found share`` and ``permanence events``: the share of frames the ball is found in, and its vanish,
  appear and teleport events;
- ``radius cv``: the measured radius's standard deviation over its mean (shape constancy);
- ``gravity diameters/s^2``: the fitted downward acceleration in ball diameters per s^2, and the ball size
  it implies at Earth's gravity (``Earth-gravity ball cm``: a 22 cm football falls at 45 diameters/s^2).
  Neither is scored against the truth's: the truth's scale is one choice among many.

:func:`refusals` counts how often the probes refused a clip and why, to report beside the figures.
"""

from __future__ import annotations

import collections
import math

import numpy as np

MEASURES = ("found share", "path residual diameters", "horizontal drift diameters", "acceleration angle deg",
            "restitution", "radius cv", "permanence events", "gravity diameters/s^2", "Earth-gravity ball cm")
EARTH_CM_S2 = 981.0
PERMANENCE = ("vanish", "appear", "teleport")
# Why the probes refuse a clip: a phrase of each reason (vidlab.probes.scope) and the short name it gets.
REFUSALS = {"the camera moves": "the camera moves", "(a cut)": "a cut",
            "differs from its median": "changing light or scene", "no object of the target colour": "no ball"}


def path_measures(report, track: int | None, context: int = 1) -> dict:
    """The scale-free measures (``MEASURES``) of ``report.tracks[track]`` from frame ``context - 1`` on.

    Every value is None where it cannot be measured: a refused clip, no ball found, too few free frames
    (fewer than 4 in segments of 3 or more), no bounce, no acceleration to give a direction to.
    """
    out = dict.fromkeys(MEASURES)
    if not report.measurable:
        return out
    t_len, first = len(report.objects_per_frame), max(context - 1, 0)
    if track is None:
        return {**out, "found share": 0.0, "permanence events": 0}
    tr, fps = report.tracks[track], report.fps
    later = np.arange(t_len) >= first
    whole = later & tr.present & ~tr.truncated
    out["found share"] = float(tr.present[context:].mean()) if context < t_len else None
    out["permanence events"] = sum(e.kind in PERMANENCE and track in (e.track, e.other) and e.frame >= context
                                   for e in report.events)
    if whole.sum() < 3:
        return out
    diameter = 2 * float(np.median(tr.radii[whole]))
    out["radius cv"] = float(np.std(tr.radii[whole]) / np.mean(tr.radii[whole]))
    f = np.flatnonzero(whole)
    out["horizontal drift diameters"] = _line_residual(f / fps, tr.centers[f, 0]) / diameter
    free = np.flatnonzero(later & tr.present & ~tr.contact)
    cuts = [b.time_s * fps for b in report.bounces if b.track == track] + _kicks(free, tr.centers, diameter)
    acc, residual = _shared_parabola(_segments(free, cuts), tr, fps)
    if acc is not None:
        out["path residual diameters"] = residual / diameter
        out["gravity diameters/s^2"] = float(acc[1] / diameter)
        if out["gravity diameters/s^2"] > 0:
            out["Earth-gravity ball cm"] = EARTH_CM_S2 / out["gravity diameters/s^2"]
        if math.hypot(*acc) > 0.1 * diameter:  # below 0.1 diameters/s^2 there is no direction to speak of
            out["acceleration angle deg"] = math.degrees(math.atan2(abs(acc[0]), acc[1]))
    floor = [b for b in report.bounces if b.track == track and b.normal[1] < -0.7 and b.time_s * fps >= first]
    out["restitution"] = floor[0].restitution if floor else None
    return out


def _kicks(frames: np.ndarray, centers: np.ndarray, diameter: float) -> list:
    """Frames where the ball is kicked upward: its second difference in y falls below the track's median by
    more than a tenth of a diameter (at least 1 px). A bounce does that, also one the probes cannot see for
    lack of frames after it (at the end of a clip); free flight, whatever its acceleration, does not."""
    inner = [f for f in frames if f - 1 in frames and f + 1 in frames]
    if not inner:
        return []
    second = np.array([centers[f + 1, 1] - 2 * centers[f, 1] + centers[f - 1, 1] for f in inner])
    return [float(f) for f, d in zip(inner, second, strict=True)
            if d < np.median(second) - max(1.0, 0.1 * diameter)]


def _segments(frames: np.ndarray, cuts: list) -> list:
    """Runs of 3 or more consecutive frames, cut at the bounce times ``cuts`` (in frames). A frame within a
    quarter frame of a bounce shows the ball in contact, on neither parabola, and is left out."""
    segs, cur = [], []
    for f in frames:
        if any(abs(f - c) <= 0.25 for c in cuts):
            continue
        if cur and (f != cur[-1] + 1 or any(cur[-1] < c < f for c in cuts)):
            segs.append(cur)
            cur = []
        cur.append(f)
    return [np.array(s) for s in segs + [cur] if len(s) >= 3]


def _shared_parabola(segs: list, tr, fps: float):
    """Least squares x(t) = c_k + b_k t + a t^2 / 2 over the segments (one (c_k, b_k) each, one shared a).

    Returns (a px/s^2 as (ax, ay), RMS distance px of the centres from the fit), or (None, None) with fewer
    than 4 frames.
    """
    if sum(len(s) for s in segs) < 4:
        return None, None
    t = np.concatenate(segs) / fps
    owner = np.concatenate([np.full(len(s), k) for k, s in enumerate(segs)])
    design = np.zeros((len(t), 1 + 2 * len(segs)))
    design[:, 0] = t**2 / 2
    design[np.arange(len(t)), 1 + 2 * owner] = 1.0
    design[np.arange(len(t)), 2 + 2 * owner] = t
    xy = tr.centers[np.concatenate(segs)]
    coef, *_ = np.linalg.lstsq(design, xy, rcond=None)
    miss = np.linalg.norm(xy - design @ coef, axis=1)
    return coef[0], float(np.sqrt(np.mean(miss**2)))


def _line_residual(t: np.ndarray, x: np.ndarray) -> float:
    """RMS distance (px) of ``x`` from the straight line fitted to it in time."""
    design = np.stack([np.ones_like(t), t], axis=1)
    coef, *_ = np.linalg.lstsq(design, x, rcond=None)
    return float(np.sqrt(np.mean((x - design @ coef) ** 2)))


def refusal_kind(report) -> str:
    """A short name for why the probes refused ``report``'s clip ("" when they measured it)."""
    if report.measurable:
        return ""
    return next((name for phrase, name in REFUSALS.items() if phrase in report.unmeasurable), "other")


def refusals(comparisons: list) -> dict:
    """How often the probes refused a clip, and why: ``{"trials", "refused", "share", "why": {reason: n},
    "no fall": n}`` over :meth:`Trial.comparison` dicts. ``"no fall"`` counts measured clips in which no
    free fall could be fitted (no ball, or too few free frames): they give no figure either."""
    refused = [c["refusal"] for c in comparisons if not c["measurable"]]
    no_fall = sum(c["measurable"] and c["gravity diameters/s^2"] is None for c in comparisons)
    n = len(comparisons)
    return {"trials": n, "refused": len(refused), "share": len(refused) / n if n else float("nan"),
            "why": dict(collections.Counter(refused)), "no fall": no_fall}


def summary_table(comparisons: list) -> str:
    """A markdown table: each measure's median over the trials for the model and for the truth (with the
    number of trials that gave it), and a line on the refusals under it."""
    rows = ["| measure | model: median (trials) | truth: median (trials) |", "|---|---|---|"]
    for name in (*MEASURES, "gravity / given frames", "position error px"):
        cells = []
        for key in (name, "true " + name):
            values = [c.get(key) for c in comparisons]
            values = [v for v in values if v is not None and np.isfinite(v)]
            cells.append(f"{np.median(values):.3g} ({len(values)})" if values else "n/a (0)")
        rows.append(f"| {name} | {cells[0]} | {cells[1] if name in MEASURES else '-'} |")
    r = refusals(comparisons)
    why = ", ".join(f"{k} {v}" for k, v in sorted(r["why"].items())) or "none"
    rows.append(f"\nRefused by the probes: {r['refused']} of {r['trials']} ({r['share']:.0%}; {why}); "
                f"measured but no fall fitted: {r['no fall']}.")
    return "\n".join(rows)
