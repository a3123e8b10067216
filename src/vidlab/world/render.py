"""Rendering: anti-aliased discs over a plain or textured background, with scenery in front or behind."""

from __future__ import annotations

import numpy as np

from vidlab.world.params import DISC_SCENERY, SCENERY_COLORS, to_rgb

# The texture has its own random stream, keyed by the clip's seed: adding a draw to a scenario's set-up
# leaves every background as it was.
TEXTURE_STREAM = 0x7E57


def texture_rng(seed: int) -> np.random.Generator:
    """The random stream of a clip's background texture, independent of the scene's own stream."""
    return np.random.default_rng([TEXTURE_STREAM, int(seed)])


def background_image(p: dict, seed: int) -> np.ndarray:
    """The static background of a clip: plain colour, or value-noise texture drawn from ``texture_rng(seed)``."""
    size = p["size"]
    if p["background"] == "plain":
        color = np.array(to_rgb(p["background_color"] or (255, 255, 255)), float) / 255
        return np.broadcast_to(color, (size, size, 3)).copy()
    color = np.array(to_rgb(p["background_color"] or (200, 200, 200)), float) / 255
    rng = texture_rng(seed)
    coarse = rng.uniform(-1, 1, (size // 8 + 2, size // 8 + 2))
    # Smooth value noise plus fine grain: a static texture, the same in every frame.
    idx = np.linspace(0, coarse.shape[0] - 1.001, size)
    i0, fr = idx.astype(int), idx % 1
    rows = coarse[i0] * (1 - fr[:, None]) + coarse[i0 + 1] * fr[:, None]
    smooth = rows[:, i0] * (1 - fr[None]) + rows[:, i0 + 1] * fr[None]
    texture = 0.7 * smooth + 0.3 * rng.uniform(-1, 1, (size, size))
    return np.clip(color + p["noise_amplitude"] * texture[..., None], 0, 1)


def disc_coverage(centers: np.ndarray, radii: np.ndarray, size: int) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of discs ``centers [..., 2]`` (x, y) px, ``radii [...]`` px.

    Returns ``[..., size, size]``: each pixel's coverage is ``clip(r + 0.5 - d, 0, 1)`` with ``d`` the
    distance from the pixel centre, a one-pixel linear ramp whose centroid is the disc centre.
    """
    grid = np.arange(size, dtype=np.float32)
    cx = np.asarray(centers[..., 0], np.float32)[..., None, None]
    cy = np.asarray(centers[..., 1], np.float32)[..., None, None]
    d = np.sqrt((grid[None, :] - cx) ** 2 + (grid[:, None] - cy) ** 2)
    r = np.asarray(radii, np.float32)[..., None, None]
    return np.clip(r + 0.5 - d, 0.0, 1.0)


def _rect_mask(rect, size: int) -> np.ndarray:
    """Anti-aliased coverage of an axis-aligned rectangle (x0, y0, x1, y1) in px edge coordinates."""
    grid = np.arange(size, dtype=np.float32)
    x0, y0, x1, y1 = rect
    cov_x = np.clip(np.minimum(grid + 0.5, x1) - np.maximum(grid - 0.5, x0), 0, 1)
    cov_y = np.clip(np.minimum(grid + 0.5, y1) - np.maximum(grid - 0.5, y0), 0, 1)
    return cov_y[:, None] * cov_x[None, :]


def _disc_mask(rect, size: int) -> np.ndarray:
    """Anti-aliased coverage of the disc inscribed in the square (x0, y0, x1, y1) px (a peg)."""
    x0, y0, x1, y1 = rect
    return disc_coverage(np.array([(x0 + x1) / 2, (y0 + y1) / 2]), np.array((x1 - x0) / 2), size)


def _scenery_color(kind: str, background: np.ndarray) -> np.ndarray:
    """The scenery's colour in [0, 1]: an occluder takes the grey farthest from the background's mean."""
    if kind != "occluder":
        return np.array(SCENERY_COLORS[kind], np.float32) / 255
    mean = background.reshape(-1, 3).mean(0)
    greys = np.array([SCENERY_COLORS["occluder"], (40, 40, 40), (200, 200, 200)], np.float32) / 255
    return greys[np.argmax(np.linalg.norm(greys - mean, axis=1))]


def render(centers, radii, colors, visible, size, background, scenery=()):
    """Render discs over a static background; returns (uint8 video [T,H,W,3], visible fraction [T,N]).

    ``scenery`` rectangles with ``in_front=True`` hide the balls behind them (occluders); the others are
    drawn behind the balls (a table).
    """
    t_len, n = np.shape(radii)
    base = background.astype(np.float32)
    front = np.zeros((size, size, 1), np.float32)
    front_color = np.zeros(3, np.float32)
    for kind, *rect, in_front in scenery:
        cov = (_disc_mask(rect, size) if kind in DISC_SCENERY else _rect_mask(rect, size))[..., None]
        if in_front:
            front, front_color = np.maximum(front, cov), _scenery_color(kind, background)
        else:
            base = base * (1 - cov) + cov * _scenery_color(kind, background)
    cov = disc_coverage(centers, radii, size) * np.asarray(visible, np.float32)[..., None, None]
    rgb = np.asarray(colors, np.float32) / 255
    video = np.empty((t_len, size, size, 3), np.uint8)
    for ch in range(3):  # one colour plane at a time: numpy is slow on a trailing axis of length 3
        plane = np.broadcast_to(base[..., ch], (t_len, size, size))
        for i in range(n):  # later balls are drawn over earlier ones
            plane = plane * (1 - cov[:, i]) + cov[:, i] * rgb[:, i, ch, None, None]
        if front.any():
            plane = plane * (1 - front[..., 0]) + front[..., 0] * front_color[ch]
        video[..., ch] = np.clip(plane, 0, 1) * 255 + 0.5
    area = np.maximum(np.pi * np.asarray(radii, np.float32) ** 2, 1e-6)
    seen = (cov * (1 - front[..., 0])).sum(axis=(-1, -2)) / area
    return video, np.clip(seen, 0, 1)
