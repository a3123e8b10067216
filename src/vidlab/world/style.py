"""A world clip drawn the way public video models draw: lit backgrounds, shaded balls, shadows, a drifting camera.

Public models paint balls with shading and soft shadows over lighting gradients and vignettes, and their
cameras drift. :func:`stylise` redraws a ``vidlab.world`` clip that way, at any width and height (a model's
resolution), and returns the truth in the new frame's pixels, so the probes can be tested on such frames
with the answer known, and a first frame can be handed to an image-to-video model.

:func:`stylise` scales the square world to the frame's height and centres it; the background extends to the
sides. Its walls and floor are not drawn: in a frame wider than tall the ball turns at the square's sides in
open backdrop, and it bounces on the frame's bottom edge. That suits testing the probes, not asking a model to
continue a clip: ``vidlab.public.trials`` simulates a world as wide as the frame and draws it with
:func:`draw`, whose ``floor_y`` paints the floor as a visible surface (``Style.floor``).
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
    floor: tuple | None = None  # colour of the floor surface below a drawn floor line (``draw(floor_y=...)``)


@dataclasses.dataclass
class Styled:
    """A stylised clip and its truth in the frame's pixels."""

    video: np.ndarray  # uint8 [T, H, W, 3]
    centers: np.ndarray  # [T, N, 2] (x, y) px in this frame (camera drift included)
    radii: np.ndarray  # [T, N] px
    gravity_px_s2: float  # the world's gravity in this frame's pixels
    fps: float
    style: Style
    floor_y: float | None = None  # the drawn floor line (px, before camera drift); None: the frame's bottom edge


def stylise(clip, width: int | None = None, height: int | None = None, style: Style = Style()) -> Styled:
    """Redraw ``clip`` at ``width`` x ``height`` (default: its own size) in ``style``.

    The square world is scaled to the height and centred; its walls and floor are not drawn (see the module).
    """
    size = clip.video.shape[1]
    width, height = width or size, height or size
    if width < height:
        raise ValueError(f"width={width} < height={height}: the square world is scaled to the height; "
                         "use width >= height")
    scale, x_offset = height / size, (width - height) / 2
    centers = clip.centers * scale + np.array([x_offset, 0.0])
    return draw(centers, clip.radii * scale, clip.colors, clip.visible, width, height, style,
                clip.gravity_px_s2 * scale, clip.fps)


def draw(centers, radii, colors, visible, width: int, height: int, style: Style, gravity_px_s2: float,
         fps: float, floor_y: float | None = None) -> Styled:
    """Draw balls over a backdrop in ``style``: ``centers`` [T, N, 2] px as a still camera would see them.

    ``floor_y`` (px) is the line the balls bounce on: below it the floor is painted in ``style.floor`` (so a
    viewer, or a model, sees where the ball will bounce) and the shadows fall on it. ``None``: no floor is
    drawn and shadows fall on the frame's bottom edge. Returns the truth in the frame's pixels, the camera's
    drift (``style.drift_px``) included.
    """
    centers, radii = np.asarray(centers, float), np.asarray(radii, float)
    if floor_y is not None and style.floor is None:
        raise ValueError(f"floor_y={floor_y} but style.floor is None: give the floor a colour, "
                         "e.g. Style(floor=(190, 180, 165))")
    t = np.arange(len(centers))[:, None, None]
    centers = centers - t * np.asarray(style.drift_px, float)  # the picture moves against the camera
    # The background (lighting, vignette, floor) is world-fixed: it moves with the camera too.
    camera = t[:, 0] * np.asarray(style.drift_px, float)  # [T, 2] where the camera has moved to
    if np.any(style.drift_px):
        frames = np.stack([_background(style, width, height, camera[i], floor_y) for i in range(len(t))])
    else:  # a still camera sees one background
        frames = np.repeat(_background(style, width, height, camera[0], floor_y)[None], len(t), axis=0)
    shadow_line = height - 0.5 if floor_y is None else floor_y
    for i in range(radii.shape[1]):
        for k in np.flatnonzero(visible[:, i]):
            _draw_shadow(frames[k], centers[k, i], radii[k, i], shadow_line - camera[k, 1], style)
            _draw_ball(frames[k], centers[k, i], radii[k, i], np.asarray(colors[k, i], float) / 255, style)
    video = (np.clip(frames, 0, 1) * 255 + 0.5).astype(np.uint8)
    return Styled(video, centers, radii, float(gravity_px_s2), float(fps), style, floor_y)


def _background(style: Style, width: int, height: int, origin, floor_y=None) -> np.ndarray:
    """[H, W, 3] in [0, 1]: the backdrop colour, lit from the top left, vignetted, seen from ``origin`` (px);
    below ``floor_y`` the floor's colour under the same light, with an anti-aliased edge."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    xx, yy = xx + origin[0], yy + origin[1]
    # Both fall-offs reach their full amount at the frame's corners, so a wide frame's corners are as lit
    # as a square one's (measured from the world's square, they went black at 16:9).
    diagonal = np.clip((xx + yy) / (width + height), 0, 1)  # 0 at the top left, 1 at the bottom right
    radius2 = ((xx - width / 2) ** 2 + (yy - height / 2) ** 2) / ((width**2 + height**2) / 4)
    light = 1 - style.lighting * diagonal - style.vignette * radius2
    color = np.broadcast_to(np.asarray(style.background, np.float32) / 255, (height, width, 3))
    if floor_y is not None:  # pixels whose centre lies below the line are floor; the one across it blends
        cover = np.clip(yy - floor_y + 0.5, 0, 1)[..., None]
        color = color * (1 - cover) + np.asarray(style.floor, np.float32) / 255 * cover
    return color * light[..., None]
def _box(frame_shape, center, half_x, half_y):
    """The frame's rows and columns within (half_x, half_y) px of ``center``: drawing there alone is exact
    for a disc and loses under a thousandth of a shadow (its Gaussian tails), at a fraction of the cost."""
    h, w = frame_shape[:2]
    x0, x1 = max(0, int(np.floor(center[0] - half_x))), min(w, int(np.ceil(center[0] + half_x)) + 1)
    y0, y1 = max(0, int(np.floor(center[1] - half_y))), min(h, int(np.ceil(center[1] + half_y)) + 1)
    return slice(y0, max(y0, y1)), slice(x0, max(x0, x1))


def _disc(frame_shape, center, radius, box=None):
    """Anti-aliased coverage of a disc and the unit offsets (dx, dy) / radius of each pixel from its centre,
    over the rows and columns ``box`` (default: the whole frame)."""
    rows, cols = box or (slice(0, frame_shape[0]), slice(0, frame_shape[1]))
    yy, xx = np.mgrid[rows, cols].astype(np.float32)
    dx, dy = xx - center[0], yy - center[1]
    d = np.sqrt(dx**2 + dy**2)
    return np.clip(radius + 0.5 - d, 0, 1), dx / max(radius, 1e-6), dy / max(radius, 1e-6)


def _draw_ball(frame, center, radius, rgb, style):
    """A ball lit from the top left: brighter towards (-1, -1), darker opposite, by ``style.shading``."""
    box = _box(frame.shape, center, radius + 2, radius + 2)
    cover, ux, uy = _disc(frame.shape, center, radius, box)
    light = 1 + style.shading * np.clip(-(ux + uy) / np.sqrt(2), -1, 1)
    color = np.clip(rgb[None, None] * light[..., None] + 0.15 * style.shading * (light[..., None] > 1), 0, 1)
    frame[box] = frame[box] * (1 - cover[..., None]) + color * cover[..., None]


def _draw_shadow(frame, center, radius, floor_y, style):
    """A soft ellipse on the floor under the ball, fainter and wider the higher the ball is."""
    if style.shadow <= 0:
        return
    h = frame.shape[0]
    height_above = max(floor_y - center[1] - radius, 0) / h
    width_px, depth_px = radius * (1 + height_above), 0.25 * radius + 1
    box = _box(frame.shape, (center[0], floor_y), 3.5 * width_px + 4, 3.5 * depth_px + 4)
    yy, xx = np.mgrid[box].astype(np.float32)
    mask = np.exp(-((xx - center[0]) / width_px) ** 2 - ((yy - floor_y) / depth_px) ** 2)
    mask = ndimage.gaussian_filter(mask, 1.0) * style.shadow * (1 - height_above)
    frame[box] *= 1 - mask[..., None]
