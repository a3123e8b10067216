"""Step 4: tracks, detections linked frame to frame (Hungarian algorithm on a predicted position)."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from vidlab.probes.common import vec_len
from vidlab.probes.detection import Detections


def link_tracks(dets: Detections, t_len: int, size: float):
    """Frame-to-frame assignment; returns a list of dicts frame -> detection index."""
    tracks: list[dict] = []
    by_frame = [np.flatnonzero(dets.frame == t) for t in range(t_len)]
    for t in range(t_len):
        cur = by_frame[t]
        live = [k for k, tr in enumerate(tracks) if max(tr) < t]
        if len(cur) and live:
            cost = np.full((len(live), len(cur)), 1e6)
            for a, k in enumerate(live):
                tr = tracks[k]
                last = max(tr)
                gap = t - last
                # Predict from the last two frames where the object was seen whole: a sliver's centroid
                # (half behind an occluder) lags or leads its centre.
                whole = [f for f in sorted(tr) if not dets.truncated[tr[f]]]
                ref = whole if len(whole) >= 2 else sorted(tr)
                base = ref[-1]
                vel = (dets.xy[tr[base]] - dets.xy[tr[ref[-2]]]) / (base - ref[-2]) if len(ref) >= 2 else np.zeros(2)
                pred = dets.xy[tr[base]] + vel * (t - base)
                r_last = dets.radius[tr[last]]
                r_ref = max(dets.radius[tr[f]] for f in ref)
                for b, j in enumerate(cur):
                    dist = vec_len(dets.xy[j] - pred)
                    same = dets.color[j] == dets.color[tr[last]]
                    size_pen = abs(math.log(dets.radius[j] / r_last))
                    if gap == 1 and same:  # may jump anywhere (a teleport is then reported)
                        cost[a, b] = dist / size + size_pen
                    elif dist <= 2 * r_ref + max(0.1 * size, vec_len(vel)) * (1 + 0.5 * (gap - 1)):
                        cost[a, b] = dist / size + size_pen + (0.0 if same else 2.0)
            rows, cols = optimize.linear_sum_assignment(cost)
            used = set()
            for a, b in zip(rows, cols, strict=True):
                if cost[a, b] < 1e6:
                    tracks[live[a]][t] = cur[b]
                    used.add(b)
            cur = [j for b, j in enumerate(cur) if b not in used]
        for j in cur:
            tracks.append({t: j})
    return tracks
