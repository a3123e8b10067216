"""Drift past the trained length: clips extended window by window, and their physics errors against time.

The measures of the ``drift`` experiment (:mod:`vidlab.experiments.drift`).

A model trained on 16-frame clips makes longer ones autoregressively: each window is conditioned on the last
k frames of the one before, so its own errors become the next window's input. The Sora report names
"incoherencies that develop in long duration samples" among its limits; here the same effect is measured at
small scale, frame by frame against the world's truth:

- position error (px) and the vanish rate (the ball truly in view, but not found) at every frame;
- per window: the gravity error of a fit on that window alone, morph and teleport events, background flicker.

Two things make an extension go wrong, and the ways of extending below tell them apart:

- **its own errors compound**: each window continues from the model's own, slightly wrong frames;
- **the given frames show states it never trained on**: a model trained only on clips from launch has never
  been given a ball mid-fall or after a bounce, which is what every later window gives it.

``continue_clips`` (the model's own frames) has both. ``teacher_forced_clips`` is the control: every window
continues from the *true* frames at that point, so nothing compounds and only unfamiliar given frames remain.
``reanchored_clips`` is one remedy for the first: before each window, the last k generated frames are redrawn
cleanly from what the probes see in them (the ball's centre, size and colour on the background the probes
estimated), so pixel-level errors do not compound, while wrong positions still do.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from vidlab import check, evaluate, pixels, probes, world
from vidlab.probes.background import estimate_background, temporal_median


def extend_window_by_window(pipe, clips, num_inference_steps: int = 25, seed: int = 0, given=None,
                            after_window=None) -> list:
    """Continue each clip to its full length one trained-length window at a time; uint8 videos.

    1. the first k true frames are the clip so far;
    2. a window is generated from k given frames: ``given(made, clip, k)`` (uint8 [k, H, W, 3]; default the
       last k frames of the clip so far), and its new frames join the clip;
    3. ``after_window(made, clip, k)`` may rewrite the clip so far (default: kept as it is); repeat until the
       clip is as long as its truth.

    All clips share one batch per window, drawn from a CPU generator seeded by ``seed``.
    """
    cfg = pipe.training_config
    k, window = cfg["context_frames"], cfg["num_frames"]
    given = given or (lambda made, clip, k: made[-k:])
    made = [c.video[:k].copy() for c in clips]
    generator = torch.Generator().manual_seed(seed)
    while len(made[0]) < len(clips[0].video):
        context = np.stack([given(m, c, k) for m, c in zip(made, clips, strict=True)])
        out = pipe(context=context, num_frames=window, generator=generator,
                   num_inference_steps=num_inference_steps, progress=False)
        new = (out.frames[:, k:] * 255).round().astype(np.uint8)
        made = [np.concatenate([m, n])[:len(c.video)] for m, n, c in zip(made, new, clips, strict=True)]
        if after_window is not None:
            made = [after_window(m, c, k) for m, c in zip(made, clips, strict=True)]
    return made


def teacher_forced_clips(pipe, clips, num_inference_steps: int = 25, seed: int = 0) -> list:
    """The control: each window continues from the true frames just before it, not from the model's own.

    The windows lie where the model's own extension puts them (frames k to n-1, then n - k new frames at a
    time), so the two are measured frame for frame alike. Each window starts afresh from the truth, so a
    position error at a window's start is the model's error on those given frames, never an inherited one;
    events at a window's first frame can come from the stitching of windows.
    """
    return extend_window_by_window(pipe, clips, num_inference_steps, seed,
                                   given=lambda made, clip, k: clip.video[len(made) - k:len(made)])


def reanchored_clips(pipe, clips, num_inference_steps: int = 25, seed: int = 0) -> list:
    """Continue each clip to its full length, redrawing the context cleanly after every window.

    After each window the last k frames of the clip so far are redrawn from the probes' tracks
    (:func:`redraw_last`); the redrawn frames stay in the clip, and the next window continues from them.
    """
    return extend_window_by_window(pipe, clips, num_inference_steps, seed, after_window=redraw_last)


def redraw_last(video: np.ndarray, clip, k: int) -> np.ndarray:
    """``video`` with its last k frames redrawn from the probes' tracks (a ball they lost stays lost).

    Everything drawn comes from the generated frames, nothing from the truth: the balls where the probes
    found them, with their size and colour, on the background the probes estimated from the video (the
    truth's own backdrop would be an oracle the model does not have). ``clip`` gives only the frame rate
    and the scene's fixed scenery (none in the drift experiment's projectile world).
    """
    report = probes.physics_report(video, clip.fps)
    if not report.tracks:
        return video
    centers = np.stack([t.centers[-k:] for t in report.tracks], axis=1)  # [k, N, 2]
    radii = np.stack([t.radii[-k:] for t in report.tracks], axis=1)
    colors = np.broadcast_to(np.array([t.color for t in report.tracks], np.uint8), (*radii.shape, 3))
    seen = np.isfinite(radii) & np.isfinite(centers).all(-1)
    v = pixels.as_float_video(video)
    background = estimate_background(v, temporal_median(video, v))[0]
    frames = world.rerender(clip, centers=np.nan_to_num(centers), radii=np.nan_to_num(radii), colors=colors,
                            visible=seen, background=background).video
    out = video.copy()
    out[-k:] = frames
    return out


def errors_over_time(videos, clips, context_frames: int, window: int = 16) -> dict:
    """Physics errors of generated clips against their truth, at every frame and in every window.

    Returns ``frame`` (the generated frames' indices), ``position_px`` (median over clips of the first ball's
    centre error; a lost ball counts as infinitely far), ``vanish`` (share of clips whose ball is in view but
    not found), and per window (``window_start``): ``gravity_error`` (median relative error of a fit on that
    window alone), ``morph``, ``teleport`` (events per clip) and ``flicker`` (VBench's, 1 = steady).
    Per clip, for paired comparisons of two runs on the same clips: ``clip_lost_last_window`` (of the last
    ``window`` frames with the ball in view, the share in which it is lost; NaN if it is never in view) and
    ``clip_position_first_extension_px`` (the median centre error over frames ``window`` to ``2 * window - 1``,
    the first frames past the trained length; a lost ball counts as a frame's diagonal away).
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
    gen, last, first_extension = slice(context_frames, None), slice(-window, None), slice(window, 2 * window)
    in_view_last = np.array([c.visible[last, 0] for c in clips]).sum(1)
    diagonal = float(np.hypot(*clips[0].video.shape[1:3]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a clip whose ball is out of view throughout: NaN
        lost_last = np.where(in_view_last > 0, lost[:, last].sum(1) / np.maximum(in_view_last, 1), np.nan)
        position_first = np.nanmedian(np.minimum(pos[:, first_extension], diagonal), axis=1)
    return {"clip_lost_last_window": lost_last, "clip_position_first_extension_px": position_first,
            "frame": np.arange(t_len)[gen], "position_px": _median_ignoring_nan(pos[:, gen]),
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


def long_clips(training_config, n_clips: int, factor: int = 4) -> list:
    """Held-out world clips ``factor`` times the trained length from launch, rendered as the model was trained.

    Every model, whatever its training window, is measured on the same clips: from launch, so that the first
    window's given frames are ones all of them trained on. ``training_config``: a pipeline's dict or a ClipSpec.
    """
    spec = world.ClipSpec.of(training_config).replace(window="launch", simulate_frames=None)
    return evaluate.held_out(spec, n_clips, num_frames=factor * spec.num_frames)
