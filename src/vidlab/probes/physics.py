"""Step 5: free-flight segments, a shared acceleration (gravity), bounces and collisions."""

from __future__ import annotations

import dataclasses

import numpy as np

from vidlab.probes.common import vec_len
from vidlab.probes.records import Bounce, Collision, Track


def free_flight_segments(frames: np.ndarray, xy: np.ndarray, thr: float, ref: np.ndarray):
    """Split consecutive frames into free-flight segments: cut where the second difference jumps."""
    segs, cur = [], [0]
    for i in range(1, len(frames)):
        consecutive = frames[i] == frames[i - 1] + 1
        smooth = True
        if consecutive and len(cur) >= 2:
            a = xy[i] - 2 * xy[i - 1] + xy[i - 2]
            smooth = vec_len(a - ref) <= thr
        if consecutive and smooth:
            cur.append(i)
        else:
            segs.append(cur)
            cur = [i]
    segs.append(cur)
    return segs


def fit_shared_acceleration(all_segs, fps: float, tol: float = 0.3):
    """Least squares: one (c, b) per segment and a shared acceleration a; x(t) = c + b t + a t^2.

    Segments that do not fit the shared acceleration (a ball rolling on a table is not in free flight)
    are dropped one at a time, worst first. Returns (a, [(c, b) or None per segment]).
    """
    active = [len(f) >= 2 for f, _ in all_segs]
    while True:
        idx = [s for s, ok in enumerate(active) if ok]
        if not idx:
            return None, [None] * len(all_segs)
        t = np.concatenate([all_segs[s][0] / fps for s in idx])
        owner = np.concatenate([np.full(len(all_segs[s][0]), k) for k, s in enumerate(idx)])
        a_mat = np.zeros((len(t), 1 + 2 * len(idx)))
        a_mat[:, 0] = t**2
        a_mat[np.arange(len(t)), 1 + 2 * owner] = 1.0
        a_mat[np.arange(len(t)), 2 + 2 * owner] = t
        y = np.concatenate([all_segs[s][1] for s in idx])
        coef, *_ = np.linalg.lstsq(a_mat, y, rcond=None)
        resid = np.linalg.norm(y - a_mat @ coef, axis=1)
        rms = np.array([np.sqrt(np.mean(resid[owner == k] ** 2)) for k in range(len(idx))])
        worst = int(np.argmax(rms))
        if rms[worst] <= tol or len(idx) == 1:
            out = [None] * len(all_segs)
            for k, s in enumerate(idx):
                out[s] = (coef[1 + 2 * k], coef[2 + 2 * k])
            return coef[0], out
        active[idx[worst]] = False


def find_contacts(tracks, fits, acc, fps, size):
    """Bounces (one track changes velocity alone) and collisions (two tracks at once, close together)."""
    if acc is None:
        return [], []
    changes = []  # (track, contact time, v_before, v_after)
    for k in range(len(tracks)):
        mine = sorted((f0, val) for (kk, f0), val in fits.items() if kk == k)
        for (_, (f1, c1, b1)), (_, (f2, c2, b2)) in zip(mine, mine[1:], strict=False):
            if f2[0] - f1[-1] > 6:  # objects may stay in contact for a few frames (inelastic collisions)
                continue
            t_mid = (f1[-1] + f2[0]) / 2 / fps
            dv = (b2 - b1)
            if vec_len(dv) < 1e-6:
                continue
            n = dv / vec_len(dv)
            denom = n @ (b1 - b2)
            t_c = -(n @ (c1 - c2)) / denom if abs(denom) > 1e-9 else t_mid
            t_c = float(np.clip(t_c, f1[-1] / fps, f2[0] / fps))
            changes.append((k, t_c, b1 + 2 * acc * t_c, b2 + 2 * acc * t_c, n))
    bounces, collisions, used = [], [], set()
    for i, (k1, t1, vb1, va1, _) in enumerate(changes):
        for j, (k2, t2, vb2, va2, _) in enumerate(changes):
            if j <= i or k1 == k2 or abs(t1 - t2) * fps > 1.5:
                continue
            tc = (t1 + t2) / 2
            p1 = _position_at(tracks[k1], tc, fps)
            p2 = _position_at(tracks[k2], tc, fps)
            r1, r2 = np.nanmedian(tracks[k1].radii), np.nanmedian(tracks[k2].radii)
            if vec_len(p1 - p2) > r1 + r2 + max(2.0, 0.05 * size):
                continue
            m1, m2 = r1**2 * np.pi, r2**2 * np.pi
            collisions.append(Collision(
                time_s=tc, tracks=(k1, k2),
                momentum_before=tuple((m1 * vb1 + m2 * vb2).tolist()),
                momentum_after=tuple((m1 * va1 + m2 * va2).tolist()),
                energy_before=float(0.5 * (m1 * vb1 @ vb1 + m2 * vb2 @ vb2)),
                energy_after=float(0.5 * (m1 * va1 @ va1 + m2 * va2 @ va2)),
                momentum_scale=float(m1 * vec_len(vb1) + m2 * vec_len(vb2))))
            used |= {i, j}
    for i, (k, t_c, vb, va, n) in enumerate(changes):
        before, after = -(vb @ n), va @ n
        if i in used or before <= 0:
            continue
        bounces.append(Bounce(track=k, time_s=t_c, restitution=float(after / before),
                              normal=(float(n[0]), float(n[1])), speed_before=float(before)))
    return bounces, collisions


def _position_at(track: Track, t_s: float, fps: float) -> np.ndarray:
    f = np.flatnonzero(track.present)
    return np.array([np.interp(t_s * fps, f, track.centers[f, d]) for d in range(2)])


@dataclasses.dataclass
class FreeFlight:
    """The shared-acceleration fit of every free-flight segment (internal units: px per frame-time squared)."""

    acc: np.ndarray | None  # half the acceleration in px/s^2, as fitted (position = c + b t + acc t^2)
    fits: dict  # (track, first frame) -> (frames, c, b)
    frames: int  # frames in fitted segments of at least 3 frames
    gravity: float | None  # px/s^2, downward; None with fewer than 4 free-flight frames
    acceleration: tuple | None  # (ax, ay) px/s^2


def fit_free_flight(tracks: list, fps: float) -> FreeFlight:
    """Cut every track into free-flight segments, fit them with one shared acceleration, and fill in velocities.

    1. a robust reference second difference over all tracks (median and MAD);
    2. segments cut where the second difference jumps (bounces, contacts);
    3. one quadratic per segment with a shared acceleration (``fit_shared_acceleration``);
    4. velocities: from the fits inside segments, finite differences elsewhere (written into the tracks).
    """
    ref, mad = _reference_second_difference(tracks)
    segs = []  # (track, frames, xy)
    for k, tr in enumerate(tracks):
        f = np.flatnonzero(tr.present & ~tr.contact)
        for s in free_flight_segments(f, tr.centers[f], max(0.35, 4 * mad), ref) if len(f) else []:
            segs.append((k, f[s], tr.centers[f[s]]))
    acc, coefs = fit_shared_acceleration([(f, xy) for _, f, xy in segs], fps, tol=max(0.3, 3 * mad))
    free_frames = sum(len(f) for (_, f, _), cb in zip(segs, coefs, strict=True) if cb is not None and len(f) >= 3)
    gravity = float(2 * acc[1]) if acc is not None and free_frames >= 4 else None
    acceleration = (float(2 * acc[0]), float(2 * acc[1])) if gravity is not None else None
    fits = {}
    for (k, f, _), cb in zip(segs, coefs, strict=True):
        if cb is not None:
            fits[(k, f[0])] = (f, *cb)
            tracks[k].velocities[f] = cb[1] + 2 * acc * (f / fps)[:, None]
    _fill_velocities(tracks, fps)
    return FreeFlight(acc, fits, free_frames, gravity, acceleration)


def _reference_second_difference(tracks: list) -> tuple:
    """Median second difference of positions over all tracks' consecutive free frames, and its spread (MAD)."""
    seconds = []
    for tr in tracks:
        f = np.flatnonzero(tr.present & ~tr.contact)
        for i in range(2, len(f)):
            if f[i] == f[i - 2] + 2:
                seconds.append(tr.centers[f[i]] - 2 * tr.centers[f[i - 1]] + tr.centers[f[i - 2]])
    seconds = np.array(seconds).reshape(-1, 2)
    ref = np.median(seconds, axis=0) if len(seconds) else np.zeros(2)
    mad = 1.4826 * np.median(np.linalg.norm(seconds - ref, axis=1)) if len(seconds) else 0.0
    return ref, mad


def _fill_velocities(tracks: list, fps: float) -> None:
    """Frames outside fitted segments: velocity from the finite difference with a neighbouring frame."""
    for tr in tracks:
        t_len = len(tr.present)
        missing = np.flatnonzero(tr.present & np.isnan(tr.velocities[:, 0]))
        for f in missing:
            nb = [g for g in (f - 1, f + 1) if 0 <= g < t_len and tr.present[g]]
            if nb:
                g = nb[-1]
                tr.velocities[f] = (tr.centers[g] - tr.centers[f]) * fps * (1 if g > f else -1)
