"""A world clip drawn the way public video models draw: lit backgrounds, shaded balls, shadows, a drifting camera.

Public models paint balls with shading and soft shadows over lighting gradients and vignettes, and their
cameras drift. :func:`stylise` redraws a ``vidlab.world`` clip that way, at any width and height (a model's
resolution), and returns the truth in the new frame's pixels, so the probes can be tested on such frames
with the answer known, and a first frame can be handed to an image-to-video model.

The square world is scaled to the frame's height and centred; the background extends to the sides.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage


@dataclasses.dataclass(frozen=True)
class Style:
    """How to draw. Amounts are fractions of full brightness; zero everywhere is the plain world."""

    background: tuple = (235, 232, 225)  # a warm off-white, as a studio backdrop
    lighting: float = 0.0  # brightness falls by this much from the top-left to the bottom-right corner
    vignette: float = 0.0  # corners darken by this much
    shading: float = 0.0  # balls are lit from the top left: brighter there and darker opposite by this much
    shadow: float = 0.0  # a soft shadow on the floor under each ball, this dark when the ball touches it
    drift_px: tuple = (0.0, 0.0)  # the camera moves by (dx, dy) px per frame: everything shifts the other way


@dataclasses.dataclass
class Styled:
    """A stylised clip and its truth in the frame's pixels."""

    video: np.ndarray  # uint8 [T, H, W, 3]
    centers: np.ndarray  # [T, N, 2] (x, y) px in this frame (camera drift included)
    radii: np.ndarray  # [T, N] px
    gravity_px_s2: float  # the world's gravity in this frame's pixels
    fps: float
    style: Style


def stylise(clip, width: int | None = None, height: int | None = None, style: Style = Style()) -> Styled:
    """Redraw ``clip`` at ``width`` x ``height`` (default: its own size) in ``style``."""
    size = clip.video.shape[1]
    width, height = width or size, height or size
    if width < height:
        raise ValueError(f"width={width} < height={height}: the square world is scaled to the height; "
                         "use width >= height")
    # 1. the truth in the new frame: scaled to the height, centred, moved against the camera
    scale, x_offset = height / size, (width - height) / 2
    t = np.arange(len(clip.video))[:, None, None]
    shift = np.array([x_offset, 0.0]) - t * np.asarray(style.drift_px, float)
    centers, radii = clip.centers * scale + shift, clip.radii * scale
    # 2. the background: lighting gradient and vignette, in world-fixed coordinates (it moves with the camera)
    camera = t[:, 0] * np.asarray(style.drift_px, float)  # [T, 2] where the camera has moved to
    frames = np.stack([_background(style, width, height, camera[i]) for i in range(len(t))])
    # 3. shadows on the floor, then shaded balls
    floor = height - 0.5
    for i in range(clip.radii.shape[1]):
        seen = clip.visible[:, i]
        for k in np.flatnonzero(seen):
            _draw_shadow(frames[k], centers[k, i], radii[k, i], floor - camera[k, 1], style)
            _draw_ball(frames[k], centers[k, i], radii[k, i], np.asarray(clip.colors[k, i], float) / 255, style)
    video = (np.clip(frames, 0, 1) * 255 + 0.5).astype(np.uint8)
    return Styled(video, centers, radii, clip.gravity_px_s2 * scale, clip.fps, style)


def _background(style: Style, width: int, height: int, origin) -> np.ndarray:
    """[H, W, 3] in [0, 1]: the backdrop colour, lit from the top left, vignetted, seen from ``origin`` (px)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    xx, yy = xx + origin[0] - (width - height) / 2, yy + origin[1]
    diagonal = np.clip((xx + yy) / (2 * height), 0, 1)  # 0 at the top left of the world, 1 at its bottom right
    radius2 = ((xx - height / 2) ** 2 + (yy - height / 2) ** 2) / (height**2 / 2)  # 1 at the world's corners
    light = 1 - style.lighting * diagonal - style.vignette * radius2
    return np.asarray(style.background, np.float32) / 255 * light[..., None]


def _disc(frame_shape, center, radius):
    """Anti-aliased coverage of a disc and the unit offsets (dx, dy) / radius of each pixel from its centre."""
    h, w = frame_shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xx - center[0], yy - center[1]
    d = np.sqrt(dx**2 + dy**2)
    return np.clip(radius + 0.5 - d, 0, 1), dx / max(radius, 1e-6), dy / max(radius, 1e-6)


def _draw_ball(frame, center, radius, rgb, style):
    """A ball lit from the top left: brighter towards (-1, -1), darker opposite, by ``style.shading``."""
    cover, ux, uy = _disc(frame.shape, center, radius)
    light = 1 + style.shading * np.clip(-(ux + uy) / np.sqrt(2), -1, 1)
    color = np.clip(rgb[None, None] * light[..., None] + 0.15 * style.shading * (light[..., None] > 1), 0, 1)
    frame[:] = frame * (1 - cover[..., None]) + color * cover[..., None]


def _draw_shadow(frame, center, radius, floor_y, style):
    """A soft ellipse on the floor under the ball, fainter and wider the higher the ball is."""
    if style.shadow <= 0:
        return
    h, w = frame.shape[:2]
    height_above = max(floor_y - center[1] - radius, 0) / h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    width_px = radius * (1 + height_above)
    mask = np.exp(-((xx - center[0]) / width_px) ** 2 - ((yy - floor_y) / (0.25 * radius + 1)) ** 2)
    mask = ndimage.gaussian_filter(mask, 1.0) * style.shadow * (1 - height_above)
    frame *= 1 - mask[..., None]
