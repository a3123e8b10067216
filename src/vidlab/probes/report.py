"""The probes' entry point: :func:`physics_report` runs the six steps on one video."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from vidlab.pixels import as_float_video
from vidlab.probes.background import estimate_background, temporal_median
from vidlab.probes.detection import detect
from vidlab.probes.events import find_events
from vidlab.probes.physics import find_contacts, fit_shared_acceleration, free_flight_segments
from vidlab.probes.records import PhysicsReport, Track
from vidlab.probes.tracking import link_tracks


def physics_report(video, fps: float) -> PhysicsReport:
    """Measure the physics of a video.

    Args:
        video: ``[T, H, W, 3]`` or ``[T, H, W]``, uint8 or float in [0, 1], at least 2 frames.
        fps: frames per second, used for velocities (px/s) and gravity (px/s^2).

    Returns:
        A :class:`PhysicsReport`. Raises ``ValueError`` naming what was expected on bad input.
    """
    if not (isinstance(fps, int | float | np.number) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps={fps!r}: expected a positive number of frames per second")
    v = as_float_video(video)
    t_len, h, w, _ = v.shape
    size = float(max(h, w))
    bg, scenery, kind, noise = estimate_background(v, temporal_median(video, v))
    dets, palette = detect(v, bg, scenery, noise)
    links = link_tracks(dets, t_len, size)

    tracks = []
    for tr in links:
        centers = np.full((t_len, 2), np.nan)
        radii, elong = np.full(t_len, np.nan), np.full(t_len, np.nan)
        frames, idx = np.array(list(tr.keys())), np.array(list(tr.values()))
        centers[frames], radii[frames], elong[frames] = dets.xy[idx], dets.radius[idx], dets.elong[idx]
        trunc, contact = np.zeros(t_len, bool), np.zeros(t_len, bool)
        trunc[frames], contact[frames] = dets.truncated[idx], dets.contact[idx]
        cidx = np.bincount(dets.color[idx]).argmax()
        color = tuple(int(round(float(c) * 255)) for c in np.broadcast_to(palette[cidx], (3,)))
        tracks.append(Track(centers, radii, color, np.full((t_len, 2), np.nan), elong, trunc, contact))
    objects_per_frame = np.bincount(dets.frame, minlength=t_len).astype(int)

    # Free flight: a robust reference second difference, then segments and a shared-acceleration fit.
    seconds = []
    for tr in tracks:
        f = np.flatnonzero(tr.present & ~tr.contact)
        for i in range(2, len(f)):
            if f[i] == f[i - 2] + 2:
                seconds.append(tr.centers[f[i]] - 2 * tr.centers[f[i - 1]] + tr.centers[f[i - 2]])
    seconds = np.array(seconds).reshape(-1, 2)
    ref = np.median(seconds, axis=0) if len(seconds) else np.zeros(2)
    mad = 1.4826 * np.median(np.linalg.norm(seconds - ref, axis=1)) if len(seconds) else 0.0
    thr = max(0.35, 4 * mad)
    segs = []  # (track, frames, xy)
    for k, tr in enumerate(tracks):
        f = np.flatnonzero(tr.present & ~tr.contact)
        for s in free_flight_segments(f, tr.centers[f], thr, ref) if len(f) else []:
            segs.append((k, f[s], tr.centers[f[s]]))
    acc, coefs = fit_shared_acceleration([(f, xy) for _, f, xy in segs], fps, tol=max(0.3, 3 * mad))
    free_frames = sum(len(f) for (_, f, _), cb in zip(segs, coefs, strict=True) if cb is not None and len(f) >= 3)
    gravity = float(2 * acc[1]) if acc is not None and free_frames >= 4 else None
    acceleration = (float(2 * acc[0]), float(2 * acc[1])) if gravity is not None else None
    fits = {}  # (track, first frame) -> (frames, c, b)
    for (k, f, _), cb in zip(segs, coefs, strict=True):
        if cb is not None:
            fits[(k, f[0])] = (f, *cb)
            tracks[k].velocities[f] = cb[1] + 2 * acc * (f / fps)[:, None]
    for tr in tracks:  # frames outside fitted segments: finite differences
        missing = np.flatnonzero(tr.present & np.isnan(tr.velocities[:, 0]))
        for f in missing:
            nb = [g for g in (f - 1, f + 1) if 0 <= g < t_len and tr.present[g]]
            if nb:
                g = nb[-1]
                tr.velocities[f] = (tr.centers[g] - tr.centers[f]) * fps * (1 if g > f else -1)

    bounces, collisions = find_contacts(tracks, fits, acc, fps, size)
    events = find_events(tracks, links, dets, scenery, acc if gravity is not None else None, fps, (h, w))
    background_px = ~ndimage.binary_dilation(dets.masks.any(0), iterations=2)
    steps = np.abs(np.diff(v, axis=0))[:, background_px]
    flicker = float(1 - steps.mean()) if steps.size else 1.0
    return PhysicsReport(fps=float(fps), objects_per_frame=objects_per_frame, tracks=tracks,
                         gravity_px_s2=gravity, acceleration_px_s2=acceleration, free_flight_frames=free_frames,
                         events=events, bounces=bounces, collisions=collisions, flicker=flicker,
                         background=kind, noise_level=noise)
