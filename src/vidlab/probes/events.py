"""Step 6: failure events: vanish, appear, teleport, morph, color_change, interpenetration.

One function per kind. Each reads the same :class:`Scene` and returns its events; the only state passed
between them is explicit: ``appear_and_vanish`` returns, beside its events, the frames where a track was
hidden under another object, which ``interpenetration`` reads. A new kind is one more function here and
one more line in :func:`find_events`. The thresholds are named constants, so tests and notebooks can cite
them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

from vidlab.probes.common import vec_len
from vidlab.probes.records import Event

# Absence explained: a ball seen whole must have its centre this many radii past the edge to be out of view.
EDGE_MARGIN_RADII = 0.5
HIDDEN_OVERLAP_RADII = 0.5  # hidden under another object whose disc reaches within this many radii of it
SLIVER_RADII = 0.5  # a detection smaller than this many radii cannot hide a ball
# teleport: a jump larger than this many radii, this fraction of the frame, and this many px
TELEPORT_RADII, TELEPORT_FRAME_FRACTION, TELEPORT_MIN_PX = 1.5, 0.06, 2.0
TELEPORT_STEP_RATIO = 3.0  # with three clean frames only: the jump must be this many times the other step
TELEPORT_OPPOSITE_COS = -0.5  # the two second differences point this much against each other
# morph: radius changed by more than this fraction (or grew this much while touching another object),
# or a round object (elongation below ROUND) became elongated beyond ELONGATED
MORPH_RADIUS_CHANGE, MORPH_GROWTH_TOUCHING = 0.25, 1.25
MORPH_ROUND, MORPH_ELONGATED = 1.2, 1.4
MORPH_REFERENCE_WEIGHT = 0.3  # how fast the reference radius follows the frames seen alone
# interpenetration: centres closer than the sum of radii minus this fraction of the smaller one (at least 1 px)
OVERLAP_TOLERANCE, OVERLAP_MIN_PX = 0.25, 1.0


@dataclasses.dataclass
class Scene:
    """What every detector reads: the tracks, their detections and the scenery, with the frame's size."""

    tracks: list
    links: list  # per track, {frame: detection index}
    dets: object  # the detections (vidlab.probes.detection.Detections)
    to_scenery: np.ndarray  # [H, W] distance to the nearest scenery pixel
    gravity_step: np.ndarray  # per-frame acceleration in px, (0, 0) without gravity
    fps: float
    shape: tuple  # (H, W)


def find_events(tracks, links, dets, scenery, acc, fps, shape) -> list:
    """Every failure event of the tracks, sorted by frame, track and kind."""
    scene = Scene(tracks, links, dets,
                  ndimage.distance_transform_edt(~scenery) if scenery.any() else np.full(scenery.shape, np.inf),
                  (acc * 2 / fps**2) if acc is not None else np.zeros(2), fps, shape)
    events, hidden_under = appear_and_vanish(scene)
    events += teleport(scene) + morph(scene) + color_change(scene) + interpenetration(scene, hidden_under)
    return sorted(events, key=lambda e: (e.frame, e.track, e.kind))


def _seen_whole(track) -> bool:
    """False for a track only ever seen cut (a sliver beside an occluder or at the frame edge): no evidence."""
    return not track.truncated[track.present].all()


def _explained(scene: Scene, k: int, t: int, pred: np.ndarray, r: float, cut: bool, hidden_under: set) -> bool:
    """Can track k's absence at frame t be explained? ``cut``: it was last seen partly out of the frame.

    Out of the frame, behind scenery, or hidden by (or merged with) another object; the last is recorded in
    ``hidden_under`` as (frame, hidden track, covering track).
    """
    h, w = scene.shape
    x, y = pred
    # A ball seen whole needs its centre half a radius past the edge to be mostly out of view; one
    # already cut by the edge may be gone while its centre is still a radius inside.
    margin = -r if cut else EDGE_MARGIN_RADII * r
    if x < -margin or y < -margin or x > w - 1 + margin or y > h - 1 + margin:
        return True
    xi, yi = int(round(min(max(x, 0), w - 1))), int(round(min(max(y, 0), h - 1)))
    if scene.to_scenery[yi, xi] <= r:
        return True  # behind scenery: predicted within a radius of it
    for j, other in enumerate(scene.tracks):
        if j == k or not other.present[t] or other.truncated[t] or other.radii[t] < SLIVER_RADII * r:
            continue
        if vec_len(other.centers[t] - pred) < other.radii[t] + HIDDEN_OVERLAP_RADII * r:
            hidden_under.add((t, k, j))
            return True
    return False


def appear_and_vanish(scene: Scene) -> tuple:
    """appear: a start inside the frame, in the open. vanish: absent while its prediction is in plain view
    (after its last sighting or in a gap), and the reappearance after it. Returns (events, hidden_under)."""
    events, hidden_under = [], set()
    for k, tr in enumerate(scene.tracks):
        if not _seen_whole(tr):
            continue
        f = np.flatnonzero(tr.present)
        first, r_ref = f[0], float(np.nanmedian(tr.radii))
        if first > 0 and not tr.truncated[first]:
            back = tr.centers[first] - (tr.velocities[first] / scene.fps if np.isfinite(tr.velocities[first, 0])
                                        else 0)
            if not _explained(scene, k, first, back, r_ref, True, hidden_under):
                events.append(Event("appear", int(first), k))
        for i, t0 in enumerate(f):
            t1 = f[i + 1] if i + 1 < len(f) else len(tr.present)
            if t1 - t0 <= 1:
                continue
            prev = f[i - 1] if i > 0 else None
            vel = (tr.centers[t0] - tr.centers[prev]) / (t0 - prev) if prev is not None else np.zeros(2)
            cut = bool(scene.dets.on_edge[scene.links[k][t0]])
            for t in range(t0 + 1, t1):
                dt = t - t0
                pred = tr.centers[t0] + vel * dt + 0.5 * scene.gravity_step * dt * (dt + 1)
                if _explained(scene, k, t, pred, r_ref, cut, hidden_under):
                    break  # out of frame or out of sight: later absence is not a failure
                events.append(Event("vanish", int(t), k))
                if t1 < len(tr.present):
                    events.append(Event("appear", int(t1), k, detail="reappeared"))
                break
    return events, hidden_under


def teleport(scene: Scene) -> list:
    """A jump far larger than the steps around it. With four clean frames the signature is two large second
    differences of opposite sign (a bounce gives one sign); with three, the jump must be several times the
    neighbouring step."""
    events = []
    h, w = scene.shape
    for k, tr in enumerate(scene.tracks):
        if not _seen_whole(tr):
            continue
        xy, r_ref = tr.centers, float(np.nanmedian(tr.radii))
        thr = max(TELEPORT_RADII * r_ref, TELEPORT_FRAME_FRACTION * max(h, w), TELEPORT_MIN_PX)
        clean = tr.present & ~tr.truncated  # a part-hidden object's centroid is not its centre
        for t in range(1, len(xy)):
            if not (clean[t] and clean[t - 1]):
                continue
            step = vec_len(xy[t] - xy[t - 1])
            before = t >= 2 and clean[t - 2]
            after = t + 1 < len(xy) and clean[t + 1]
            if before and after:
                a1, a2 = xy[t] - 2 * xy[t - 1] + xy[t - 2], xy[t + 1] - 2 * xy[t] + xy[t - 1]
                jump = (min(vec_len(a1), vec_len(a2)) > thr
                        and a1 @ a2 < TELEPORT_OPPOSITE_COS * vec_len(a1) * vec_len(a2))
            elif before or after:
                other = vec_len(xy[t - 1] - xy[t - 2]) if before else vec_len(xy[t + 1] - xy[t])
                jump = step > max(thr, TELEPORT_STEP_RATIO * other)
            else:
                jump = False
            if jump:
                events.append(Event("teleport", int(t), k, detail=f"jump {step:.1f} px"))
    return events


def morph(scene: Scene) -> list:
    """A size or shape change, judged on detections neither cut by an edge nor overlapping another object."""
    events = []
    for k, tr in enumerate(scene.tracks):
        if not _seen_whole(tr):
            continue
        touching = np.zeros(len(tr.present), bool)
        touching[list(scene.links[k])] = scene.dets.touching[list(scene.links[k].values())]
        ref_r, ref_e = None, None
        for t in np.flatnonzero(tr.present & ~tr.truncated):
            if ref_r is not None:
                ratio = tr.radii[t] / ref_r
                if touching[t]:  # another object may cover part of it: it can only look smaller, or odd
                    changed = ratio > MORPH_GROWTH_TOUCHING
                else:
                    changed = (abs(ratio - 1) > MORPH_RADIUS_CHANGE
                               or (tr.elongation[t] > MORPH_ELONGATED and ref_e < MORPH_ROUND))
                if changed:
                    events.append(Event("morph", int(t), k, detail=f"radius x{ratio:.2f}"))
                    ref_r, ref_e = tr.radii[t], tr.elongation[t]
                    continue
            if touching[t] and ref_r is not None:
                continue  # keep the reference from frames seen alone
            w = MORPH_REFERENCE_WEIGHT
            ref_r = tr.radii[t] if ref_r is None else (1 - w) * ref_r + w * tr.radii[t]
            ref_e = tr.elongation[t] if ref_e is None else ref_e
    return events


def color_change(scene: Scene) -> list:
    """A track linked across palette colours (a sliver's colour is a blend: not evidence)."""
    events = []
    for k, tr in enumerate(scene.tracks):
        f = np.flatnonzero(tr.present & ~tr.truncated)
        seq = [int(scene.dets.color[scene.links[k][t]]) for t in f]
        events += [Event("color_change", int(f[i]), k) for i in range(1, len(f)) if seq[i] != seq[i - 1]]
    return events


def interpenetration(scene: Scene, hidden_under: set) -> list:
    """Two objects overlapping (at their usual sizes, since the overlap hides part of one), or one hidden
    under another (``hidden_under`` from :func:`appear_and_vanish`). The first such frame per pair."""
    events, tracks = [], scene.tracks
    for i in range(len(tracks)):
        for j in range(i + 1, len(tracks)):
            a, b = tracks[i], tracks[j]
            ra, rb = np.nanmedian(a.radii), np.nanmedian(b.radii)
            tol = max(OVERLAP_MIN_PX, OVERLAP_TOLERANCE * min(ra, rb))
            for t in range(len(a.present)):
                if a.present[t] and b.present[t]:
                    seen_whole = not (a.truncated[t] or b.truncated[t])
                    overlap = seen_whole and vec_len(a.centers[t] - b.centers[t]) < ra + rb - tol
                else:
                    overlap = (t, i, j) in hidden_under or (t, j, i) in hidden_under
                if overlap:
                    events.append(Event("interpenetration", t, i, other=j))
                    break
    return events
