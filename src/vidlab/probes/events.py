"""Step 6: failure events: vanish, appear, teleport, morph, color_change, interpenetration."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from vidlab.probes.common import vec_len
from vidlab.probes.records import Event


def find_events(tracks, links, dets, scenery, acc, fps, shape):
    h, w = shape
    events = []
    to_scenery = ndimage.distance_transform_edt(~scenery) if scenery.any() else np.full(scenery.shape, np.inf)
    gravity_step = (acc * 2 / fps**2) if acc is not None else np.zeros(2)  # per-frame acceleration, px
    hidden_under = set()  # (frame, hidden track, covering track)

    def explained(k: int, t: int, pred: np.ndarray, r: float, cut: bool = False) -> bool:
        """Can absence at frame t be explained? ``cut``: last seen partly out of the frame."""
        x, y = pred
        # A ball seen whole needs its centre half a radius past the edge to be mostly out of view; one
        # already cut by the edge may be gone while its centre is still a radius inside.
        margin = -r if cut else 0.5 * r
        if x < -margin or y < -margin or x > w - 1 + margin or y > h - 1 + margin:
            return True  # left the frame
        xi, yi = int(round(min(max(x, 0), w - 1))), int(round(min(max(y, 0), h - 1)))
        if to_scenery[yi, xi] <= r:
            return True  # behind scenery: predicted within a radius of it
        for j, other in enumerate(tracks):  # hidden by or merged with another object (not by a sliver)
            if j == k or not other.present[t] or other.truncated[t] or other.radii[t] < 0.5 * r:
                continue
            if vec_len(other.centers[t] - pred) < other.radii[t] + 0.5 * r:
                hidden_under.add((t, k, j))
                return True
        return False

    for k, tr in enumerate(tracks):
        f = np.flatnonzero(tr.present)
        first = f[0]
        r_ref = float(np.nanmedian(tr.radii))
        if tr.truncated[f].all():
            continue  # never seen whole (a sliver beside an occluder or at the frame edge): no evidence
        # appear: a start inside the frame, in the open
        if first > 0 and not tr.truncated[first]:
            back = tr.centers[first] - (tr.velocities[first] / fps if np.isfinite(tr.velocities[first, 0]) else 0)
            if not explained(k, first, back, r_ref, cut=True):
                events.append(Event("appear", int(first), k))
        # vanish: absent while its prediction is in plain view (after its last sighting or in a gap)
        for i, t0 in enumerate(f):
            t1 = f[i + 1] if i + 1 < len(f) else len(tr.present)
            if t1 - t0 <= 1:
                continue
            prev = f[i - 1] if i > 0 else None
            vel = (tr.centers[t0] - tr.centers[prev]) / (t0 - prev) if prev is not None else np.zeros(2)
            cut = bool(dets.on_edge[links[k][t0]])
            for t in range(t0 + 1, t1):
                dt = t - t0
                pred = tr.centers[t0] + vel * dt + 0.5 * gravity_step * dt * (dt + 1)
                if explained(k, t, pred, r_ref, cut):
                    break  # out of frame or out of sight: later absence is not a failure
                events.append(Event("vanish", int(t), k))
                if t1 < len(tr.present):
                    events.append(Event("appear", int(t1), k, detail="reappeared"))
                break
        # teleport: a jump far larger than the steps around it. With four clean frames the signature is two
        # large second differences of opposite sign (a bounce gives one sign); with three, the jump must be
        # several times the neighbouring step.
        xy = tr.centers
        thr = max(1.5 * r_ref, 0.06 * max(h, w), 2.0)
        clean = tr.present & ~tr.truncated  # a part-hidden object's centroid is not its centre
        for t in range(1, len(xy)):
            if not (clean[t] and clean[t - 1]):
                continue
            step = vec_len(xy[t] - xy[t - 1])
            before = t >= 2 and clean[t - 2]
            after = t + 1 < len(xy) and clean[t + 1]
            if before and after:
                a1, a2 = xy[t] - 2 * xy[t - 1] + xy[t - 2], xy[t + 1] - 2 * xy[t] + xy[t - 1]
                jump = min(vec_len(a1), vec_len(a2)) > thr and a1 @ a2 < -0.5 * vec_len(a1) * vec_len(a2)
            elif before or after:
                other = vec_len(xy[t - 1] - xy[t - 2]) if before else vec_len(xy[t + 1] - xy[t])
                jump = step > max(thr, 3 * other)
            else:
                jump = False
            if jump:
                events.append(Event("teleport", int(t), k, detail=f"jump {step:.1f} px"))
        # morph: a size or shape change, on detections neither cut nor overlapping another object
        touching = np.zeros(len(tr.present), bool)
        touching[list(links[k])] = dets.touching[list(links[k].values())]
        ok = np.flatnonzero(tr.present & ~tr.truncated)
        ref_r, ref_e = None, None
        for t in ok:
            if ref_r is not None:
                ratio = tr.radii[t] / ref_r
                if touching[t]:  # another object may cover part of it: it can only look smaller, or odd
                    changed = ratio > 1.25
                else:
                    changed = abs(ratio - 1) > 0.25 or (tr.elongation[t] > 1.4 and ref_e < 1.2)
                if changed:
                    events.append(Event("morph", int(t), k, detail=f"radius x{ratio:.2f}"))
                    ref_r, ref_e = tr.radii[t], tr.elongation[t]
                    continue
            if touching[t] and ref_r is not None:
                continue  # keep the reference from frames seen alone
            ref_r = tr.radii[t] if ref_r is None else 0.7 * ref_r + 0.3 * tr.radii[t]
            ref_e = tr.elongation[t] if ref_e is None else ref_e
    # color_change: a track linked across palette colours
    for k, tr in enumerate(tracks):
        f = np.flatnonzero(tr.present & ~tr.truncated)  # a sliver's colour is a blend: not evidence
        seq = [int(dets.color[links[k][t]]) for t in f]
        for i in range(1, len(f)):
            if seq[i] != seq[i - 1]:
                events.append(Event("color_change", int(f[i]), k))
    # interpenetration: two objects overlapping (their usual sizes, since the overlap hides part of one),
    # or one hidden under another
    for i in range(len(tracks)):
        for j in range(i + 1, len(tracks)):
            a, b = tracks[i], tracks[j]
            ra, rb = np.nanmedian(a.radii), np.nanmedian(b.radii)
            tol = max(1.0, 0.25 * min(ra, rb))
            for t in range(len(a.present)):
                if a.present[t] and b.present[t]:
                    seen_whole = not (a.truncated[t] or b.truncated[t])
                    overlap = seen_whole and vec_len(a.centers[t] - b.centers[t]) < ra + rb - tol
                else:
                    overlap = (t, i, j) in hidden_under or (t, j, i) in hidden_under
                if overlap:
                    events.append(Event("interpenetration", t, i, other=j))
                    break
    return sorted(events, key=lambda e: (e.frame, e.track, e.kind))
