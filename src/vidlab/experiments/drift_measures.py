"""Drift past the trained length: clips extended window by window, and their physics errors against time.

The measures of the ``drift`` experiment (:mod:`vidlab.experiments.drift`).

A model trained on 16-frame clips makes longer ones autoregressively: each window is conditioned on the last
k frames of the one before, so its own errors become the next window's input. The Sora report names
"incoherencies that develop in long duration samples" among its limits; here the same effect is measured at
small scale, frame by frame against the world's truth:

- position error (px) and the vanish rate (the ball truly in view, but not found) at every frame;
- per window: the gravity error of a fit on that window alone, morph and teleport events, background flicker.

``reanchored_clips`` is one remedy: before each window, the last k generated frames are redrawn cleanly from
what the probes see in them (the ball's centre, size and colour), so pixel-level errors do not compound.
"""

from __future__ import annotations

import numpy as np
import torch

from vidlab import check, evaluate, probes
from vidlab.world.render import background_image, render


def reanchored_clips(pipe, clips, num_inference_steps: int = 25, seed: int = 0) -> list:
    """Continue each clip to its full length, redrawing the context cleanly before every window.

    1. the first k true frames are the context;
    2. a window is generated; its new frames join the clip;
    3. the probes read the clip so far, and its last k frames are redrawn from their tracks (the ball where they
       found it, its size and colour, on the clip's own background), which become the next context.
    """
    cfg = pipe.training_config
    k, window = cfg["context_frames"], cfg["num_frames"]
    made = [c.video[:k].copy() for c in clips]
    generator = torch.Generator().manual_seed(seed)
    while len(made[0]) < len(clips[0].video):
        out = pipe(context=np.stack([m[-k:] for m in made]), num_frames=window, generator=generator,
                   num_inference_steps=num_inference_steps, progress=False)
        new = (out.frames[:, k:] * 255).round().astype(np.uint8)
        made = [np.concatenate([m, n])[:len(c.video)] for m, n, c in zip(made, new, clips, strict=True)]
        made = [_redraw_last(m, c, k) for m, c in zip(made, clips, strict=True)]
    return made


def _redraw_last(video: np.ndarray, clip, k: int) -> np.ndarray:
    """The clip with its last k frames redrawn from the probes' tracks (a ball they lost stays lost)."""
    report = probes.physics_report(video, clip.fps)
    if not report.tracks:
        return video
    centers = np.stack([t.centers[-k:] for t in report.tracks], axis=1)  # [k, N, 2]
    radii = np.stack([t.radii[-k:] for t in report.tracks], axis=1)
    colors = np.broadcast_to(np.array([t.color for t in report.tracks], np.uint8), (*radii.shape, 3))
    seen = np.isfinite(radii) & np.isfinite(centers).all(-1)
    frames, _ = render(np.nan_to_num(centers), np.nan_to_num(radii), colors, seen, video.shape[1],
                       background_image(clip.params, clip.seed))
    out = video.copy()
    out[-k:] = frames
    return out


def errors_over_time(videos, clips, context_frames: int, window: int = 16) -> dict:
    """Physics errors of generated clips against their truth, at every frame and in every window.

    Returns ``frame`` (the generated frames' indices), ``position_px`` (median over clips of the first ball's
    centre error; a lost ball counts as infinitely far), ``vanish`` (share of clips whose ball is in view but
    not found), and per window (``window_start``): ``gravity_error`` (median relative error of a fit on that
    window alone), ``morph``, ``teleport`` (events per clip) and ``flicker`` (VBench's, 1 = steady).
    """
    t_len = len(clips[0].video)
    pos = np.full((len(clips), t_len), np.nan)
    lost = np.zeros((len(clips), t_len), bool)
    starts = list(range(context_frames, t_len - window // 2 + 1, window))
    grav, morph, tele, flick = (np.full((len(clips), len(starts)), np.nan) for _ in range(4))
    for i, (video, clip) in enumerate(zip(videos, clips, strict=True)):
        report = probes.physics_report(video, clip.fps)
        track = check.match_tracks(clip, report)[0]
        seen = clip.visible[:, 0]
        if track is not None:
            pos[i] = np.linalg.norm(track.centers - clip.centers[:, 0], axis=1)
        lost[i] = seen & ~np.isfinite(pos[i])
        pos[i][lost[i]] = np.inf
        pos[i][~seen] = np.nan
        for w, s in enumerate(starts):
            part = probes.physics_report(video[s:s + window], clip.fps)
            g = part.gravity_px_s2
            grav[i, w] = abs(g / clip.gravity_px_s2 - 1) if g is not None else np.nan
            kinds = [e.kind for e in report.events if s <= e.frame < s + window]
            morph[i, w], tele[i, w] = kinds.count("morph"), kinds.count("teleport")
            flick[i, w] = part.flicker
    gen = slice(context_frames, None)
    return {"frame": np.arange(t_len)[gen], "position_px": _median_ignoring_nan(pos[:, gen]),
            "vanish": lost[:, gen].sum(0) / np.maximum(np.array([c.visible[gen, 0] for c in clips]).sum(0), 1),
            "window_start": np.array(starts), "gravity_error": np.nanmedian(grav, axis=0),
            "morph": morph.mean(0), "teleport": tele.mean(0), "flicker": np.nanmean(flick, axis=0)}


def _median_ignoring_nan(values: np.ndarray) -> np.ndarray:
    """Median over clips at each frame, leaving out frames where the ball is out of view (NaN)."""
    out = np.full(values.shape[1], np.nan)
    for t in range(values.shape[1]):
        col = values[:, t][~np.isnan(values[:, t])]
        if len(col):
            out[t] = np.median(col)
    return out


def long_clips(training_config: dict, n_clips: int, factor: int = 4) -> list:
    """Held-out world clips ``factor`` times the trained length, rendered as the model was trained."""
    return evaluate.held_out(training_config, n_clips, num_frames=factor * training_config["num_frames"])
