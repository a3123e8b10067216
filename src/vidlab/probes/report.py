"""The probes' entry point: :func:`physics_report` runs the six steps on one video."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from vidlab.pixels import as_float_video
from vidlab.probes.background import estimate_background, temporal_median
from vidlab.probes.detection import detect
from vidlab.probes.events import find_events
from vidlab.probes.physics import find_contacts, fit_free_flight
from vidlab.probes.records import PhysicsReport, Track
from vidlab.probes.scope import moving_background, only_target, target_rgb
from vidlab.probes.tracking import link_tracks


def physics_report(video, fps: float, target=None, target_tolerance: float = 0.35) -> PhysicsReport:
    """Measure the physics of a video.

    Args:
        video: ``[T, H, W, 3]`` or ``[T, H, W]``, uint8 or float in [0, 1], at least 2 frames.
        fps: frames per second, used for velocities (px/s) and gravity (px/s^2).
        target: follow only objects of this colour: a name matplotlib knows ("red", "tab:blue") or an
            (r, g, b) tuple of 0-255. Shadows, reflections and props of other colours are then ignored.
        target_tolerance: how far (RGB distance, 0-1 scale) an object's colour may be from ``target``.

    Returns:
        A :class:`PhysicsReport`. When the video is outside what the probes can measure (a moving camera,
        changing light, no object of the target colour) it has ``measurable=False``, the reason in
        ``unmeasurable``, and no tracks, rather than a wrong number. Raises ``ValueError`` naming what was
        expected on bad input.
    """
    # 1. check the input
    if not (isinstance(fps, int | float | np.number) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps={fps!r}: expected a positive number of frames per second")
    v = as_float_video(video)
    t_len, h, w, _ = v.shape
    size = float(max(h, w))
    wanted = target_rgb(target, v.shape[-1])
    # 2. background and scenery, and whether the camera held still
    med = temporal_median(video, v)
    bg, scenery, kind, noise = estimate_background(v, med)
    why = moving_background(v, med)
    # 3. palette and detections (of the target colour only, if one is named); 4. tracks
    dets, palette = detect(v, bg, scenery, noise) if not why else (None, None)
    if not why and wanted is not None:
        dets, why = only_target(dets, palette, wanted, target_tolerance)
    if why:
        return _unmeasurable(fps, t_len, kind, noise, why)
    links = link_tracks(dets, t_len, size)
    tracks = [_track(links_k, dets, palette, t_len) for links_k in links]
    # 5. physics: free flight with a shared acceleration, then bounces and collisions
    flight = fit_free_flight(tracks, fps)
    bounces, collisions = find_contacts(tracks, flight.fits, flight.acc, fps, size)
    # 6. failure events, and the background's flicker
    events = find_events(tracks, links, dets, scenery, flight.acc if flight.gravity is not None else None, fps,
                         (h, w))
    return PhysicsReport(fps=float(fps), objects_per_frame=np.bincount(dets.frame, minlength=t_len).astype(int),
                         tracks=tracks, gravity_px_s2=flight.gravity, acceleration_px_s2=flight.acceleration,
                         free_flight_frames=flight.frames, events=events, bounces=bounces, collisions=collisions,
                         flicker=_flicker(v, dets), background=kind, noise_level=noise)


def _unmeasurable(fps, t_len, kind, noise, why) -> PhysicsReport:
    return PhysicsReport(fps=float(fps), objects_per_frame=np.zeros(t_len, int), tracks=[], gravity_px_s2=None,
                         acceleration_px_s2=None, free_flight_frames=0, events=[], bounces=[], collisions=[],
                         flicker=float("nan"), background=kind, noise_level=noise, measurable=False,
                         unmeasurable=why)


def _track(links_k: dict, dets, palette, t_len: int) -> Track:
    """One track's per-frame arrays from its linked detections ({frame: detection index})."""
    centers = np.full((t_len, 2), np.nan)
    radii, elong = np.full(t_len, np.nan), np.full(t_len, np.nan)
    frames, idx = np.array(list(links_k.keys())), np.array(list(links_k.values()))
    centers[frames], radii[frames], elong[frames] = dets.xy[idx], dets.radius[idx], dets.elong[idx]
    trunc, contact = np.zeros(t_len, bool), np.zeros(t_len, bool)
    trunc[frames], contact[frames] = dets.truncated[idx], dets.contact[idx]
    cidx = np.bincount(dets.color[idx]).argmax()
    color = tuple(int(round(float(c) * 255)) for c in np.broadcast_to(palette[cidx], (3,)))
    return Track(centers, radii, color, np.full((t_len, 2), np.nan), elong, trunc, contact)


def _flicker(v: np.ndarray, dets) -> float:
    """VBench-style temporal flicker of the pixels no object came near: 1 = perfectly steady."""
    background_px = ~ndimage.binary_dilation(dets.masks.any(0), iterations=2)
    steps = np.abs(np.diff(v, axis=0))[:, background_px]
    return float(1 - steps.mean()) if steps.size else 1.0
