"""Checking the probes against the world's ground truth: matched tracks, centre errors, event recall.

These are the measurements behind the probes' tolerances (tests/test_probes.py) and notebook 02.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from vidlab import probes, world


def match_tracks(clip: world.Clip, report: probes.PhysicsReport) -> list:
    """For each true object, the track that follows it (median distance over the frames both are seen), or None.

    One to one: the pairing with the least total distance (scipy's ``linear_sum_assignment``, as the tracker
    itself pairs detections), so one merged blob stands for one ball at most and the other ball is unmatched,
    instead of both balls claiming it and their centre errors reading small.
    """
    seen = [tr for tr in report.tracks if tr.present.any()]
    out = [None] * clip.num_objects
    if not seen:
        return out
    dist = np.full((clip.num_objects, len(seen)), np.inf)
    for j in range(clip.num_objects):
        for k, tr in enumerate(seen):
            gaps = np.linalg.norm(tr.centers - clip.centers[:, j], axis=1)
            if np.isfinite(gaps).any():  # never both in view: no distance, never paired
                dist[j, k] = np.nanmedian(gaps)
    rows, cols = optimize.linear_sum_assignment(np.where(np.isfinite(dist), dist, 1e12))
    for j, k in zip(rows, cols, strict=True):
        if np.isfinite(dist[j, k]):
            out[j] = seen[k]
    return out


def center_errors(clip: world.Clip, report: probes.PhysicsReport) -> np.ndarray:
    """Centre error (px) on every frame where an object is wholly in view; NaN where it was not found."""
    errs = []
    for j, tr in enumerate(match_tracks(clip, report)):
        whole = clip.visible_fraction[:, j] > 0.999
        if tr is None:
            errs.append(np.full(whole.sum(), np.nan))
        else:
            errs.append(np.linalg.norm(tr.centers[whole] - clip.centers[whole, j], axis=1))
    return np.concatenate(errs) if errs else np.zeros(0)


def injection_recall(kind: str, seeds, scenarios=world.SCENARIOS, **params) -> dict:
    """Inject ``kind`` into one clip per seed and count how often the probes report it within one frame.

    The failure goes in at a frame where the object is wholly in view in the frames around it (so the
    failure is visible at all). Returns recall, the number of clips tried, and the misses as (scenario,
    seed, frame, events found).
    """
    hits, misses, total = 0, [], 0
    for i, seed in enumerate(seeds):
        scenario = "collision" if kind == "interpenetration" else scenarios[i % len(scenarios)]
        clip = world.simulate(scenario, int(seed), **params)
        whole = clip.visible_fraction[:, 0] > 0.999
        frames = [k for k in range(2, len(whole) - 2) if whole[k - 1:k + 2].all()]
        if kind != "interpenetration" and not frames:
            continue
        frame = None if kind == "interpenetration" else frames[int(seed) % len(frames)]
        broken = world.inject(clip, kind, frame=frame, seed=int(seed))
        truth = broken.injected[-1]
        events = probes.physics_report(broken.video, broken.fps).events
        total += 1
        if any(e.kind == kind and abs(e.frame - truth.frame) <= 1 for e in events):
            hits += 1
        else:
            misses.append((scenario, int(seed), truth.frame, [(e.kind, e.frame) for e in events]))
    return {"kind": kind, "recall": hits / max(total, 1), "clips": total, "misses": misses}


def false_alarms(clips) -> dict:
    """Failure events the probes report on clips that have none: counts per kind and clips affected."""
    counts, affected = {}, 0
    for clip in clips:
        events = probes.physics_report(clip.video, clip.fps).events
        affected += bool(events)
        for e in events:
            counts[e.kind] = counts.get(e.kind, 0) + 1
    return {"clips": len(clips), "clips_with_events": affected, "events": counts}
