"""Which way did it go? The reading of an open future from the pixels of one frame.

In the open-future scenarios (``vidlab.world.OPEN_FUTURE``) a ball drops onto a peg and goes left or right.
A model that has learned the odds draws one ball on one side; a model that averages the futures draws a ghost:
half a ball on each side, or one dim, smeared ball. :func:`branch_reading` tells these apart in a frame, from
the ball's colour against what lies behind it:

1. weigh each pixel by its share of the ball's colour, on the blend from the backdrop (each pixel's median over
   the clip, the peg included) to the ball (:func:`colour_weight`);
2. sum the weights: the ball's "mass", in balls (1.0 is one whole ball of the given area);
3. split the weighted pixels into connected blobs, and find the mass on each side of the peg's line.

The backdrop is each pixel's median over the clip, so a ball that stays put for half the clip or more is
backdrop, not ball: here the ball falls through the given frames. The outcomes: ``"faded"`` (less
than half a ball anywhere, or no pixel at least 90% ball: dimmed or smeared), ``"split"`` (a blob of at least a
fifth of a ball on each side: a ghost), ``"undecided"`` (one ball still on the line), else ``"left"`` or
``"right"``. The thresholds are checked on the truth, which reads as what happened in every colour
(tests/test_probes.py).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from vidlab.pixels import as_float_video

OUTCOMES = ("left", "right", "split", "faded", "undecided")
FADED = 0.5  # less than this many balls of mass in the frame
DIM = 0.9  # or no pixel this much ball: a blend of the ball with what is behind it (the trained U-Net's balls
# reach 1.0: its 32 held-out in-distribution continuations, every one, in the calibration of 2026-12-02)
SPLIT = 0.2  # a blob on each side holding at least this much of a ball


def colour_weight(frame: np.ndarray, rgb, backdrop: np.ndarray, tolerance: float = 0.2) -> np.ndarray:
    """[H, W] in [0, 1]: how much of each pixel is the ball of colour ``rgb`` (0-255), read as a blend of the
    ``backdrop`` ([H, W, 3] in [0, 1]: what the pixel shows without the ball, the peg included) and that
    colour. A pixel on the blend counts by its share of ball colour (an anti-aliased edge in part, a
    half-faded ghost as half); one farther than ``tolerance`` from the blend counts 0. So the weights sum to
    the ball's area, and averaging two futures keeps their sum."""
    frame = np.asarray(frame, np.float32)
    axis = np.asarray(rgb, np.float32) / 255 - backdrop
    share = np.clip(((frame - backdrop) * axis).sum(-1) / np.maximum((axis * axis).sum(-1), 1e-6), 0, 1)
    off_blend = np.linalg.norm(frame - (backdrop + share[..., None] * axis), axis=-1)
    return np.where(off_blend < tolerance, share, 0.0)


def branch_reading(video, rgb, line_x: float, ball_area_px: float, frame: int = -1,
                   tolerance: float = 0.2, backdrop: np.ndarray | None = None) -> dict:
    """Where the ball of colour ``rgb`` is in ``video[frame]`` relative to the vertical line ``x = line_x`` (px).

    Args:
        video: ``[T, H, W, 3]`` uint8 or float in [0, 1].
        rgb: the ball's colour, 0-255.
        line_x: the peg's centre line, px (pixel centres at integers, as the world's ground truth).
        ball_area_px: the ball's area in px² (π r²), to express masses in balls.
        backdrop: [H, W, 3] in [0, 1]; default each pixel's median over ``video`` (pass it to read several
            frames of one video without computing it again).

    Returns:
        ``{"outcome": one of OUTCOMES, "mass": balls in the frame, "left": balls left of the line,
        "right": balls right of it, "centroid_x": px, "peak": the largest share of ball in a pixel}``.
    """
    if ball_area_px <= 0:
        raise ValueError(f"ball_area_px={ball_area_px!r}: expected the ball's area in px² (π r²), above 0")
    # 1. weigh every pixel by its share of the ball's colour, over the backdrop: each pixel's median over the
    # clip (the ball moves on, the peg stays)
    v = as_float_video(video)
    weight = colour_weight(v[frame], rgb, np.median(v, axis=0) if backdrop is None else backdrop, tolerance)
    columns = np.arange(weight.shape[1], dtype=np.float32)[None, :]
    # 2. the mass, in balls, and how it lies about the line
    mass = float(weight.sum()) / ball_area_px
    left = float(weight[:, columns[0] < line_x].sum()) / ball_area_px
    centroid = float((weight * columns).sum() / weight.sum()) if weight.sum() > 0 else float("nan")
    reading = {"mass": mass, "left": left, "right": mass - left, "centroid_x": centroid,
               "peak": float(weight.max())}
    # 3. the outcome: too little ball, blobs on both sides, a dim ball, one ball on the line, or one side
    if mass < FADED:
        return {"outcome": "faded", **reading}
    blobs, n = ndimage.label(weight > 0.25, ndimage.generate_binary_structure(2, 2))
    sides = {"left": 0.0, "right": 0.0}
    for k in range(1, n + 1):
        inside = blobs == k
        blob_x = float((weight * inside * columns).sum() / (weight * inside).sum())
        sides["left" if blob_x < line_x else "right"] += float((weight * inside).sum()) / ball_area_px
    if min(sides.values()) >= SPLIT:
        return {"outcome": "split", **reading}
    if reading["peak"] < DIM:
        return {"outcome": "faded", **reading}
    radius = np.sqrt(ball_area_px / np.pi)
    if abs(centroid - line_x) < 0.5 * radius:
        return {"outcome": "undecided", **reading}
    return {"outcome": "right" if centroid > line_x else "left", **reading}
