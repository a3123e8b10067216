"""Step 1: the background (temporal median), plain or textured, and the scenery in it."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from vidlab.probes.common import PER_FRAME, channel_max, channel_norm
from vidlab.probes.palette import find_palette


def temporal_median(video, v: np.ndarray) -> np.ndarray:
    """Per-pixel median over time; sorting the uint8 original when there is one is faster."""
    raw = np.asarray(video)
    if raw.dtype != np.uint8:
        return np.median(v, axis=0)
    s = np.sort(raw.reshape(v.shape), axis=0)
    t_len = len(s)
    return (s[(t_len - 1) // 2].astype(np.float32) + s[t_len // 2]) / np.float32(510)


def estimate_background(v: np.ndarray, med: np.ndarray):
    """Return (background [H,W,C], scenery mask [H,W], kind "plain" or "textured", noise level)."""
    t_len, h, w, c = v.shape
    noise = float(1.4826 * np.median(np.abs(v[::2, ::2, ::2] - med[::2, ::2]))) + 1e-4
    bg_color = np.median(med.reshape(-1, c), axis=0)
    # Texture is pixel-to-pixel variation; flat scenery varies only along its edges. (Texture on white
    # clips to flat white in many places, so a percentile of the variation is not enough.)
    step = channel_max(np.abs(np.diff(med, axis=1)))
    spread = float(np.percentile(step, 75))
    plain = (step > 0.01 + 4 * noise / math.sqrt(t_len)).mean() < 0.2  # texture varies almost everywhere
    # A lit backdrop (a gradient, a vignette) is plain too: its colour is a smooth surface, not one value.
    base = lighting_surface(med, bg_color) if plain else bg_color
    dev = channel_max(np.abs(med - base))
    scenery, steady = _scenery(v, med, dev > max(0.08, 4 * spread + 6 * noise / math.sqrt(t_len)), noise)
    if not plain:
        return _textured_background(v, med, bg_color, spread, noise), scenery, "textured", noise
    # A plain background is its colour everywhere but the scenery: whatever else was static (a ball at
    # rest, or the trail a slow ball leaves in the median) is an object, not background.
    bg = np.where(scenery[..., None], med, base).astype(np.float32)
    # The rim of scenery blends scenery and background colours, and objects pass in front of scenery.
    # There, take the median over the frames whose colour lies on the blend of background and scenery
    # colours, so an object lingering at an edge or in front does not leak into the background.
    inner = ndimage.binary_erosion(scenery & (steady >= 0.8), iterations=1)
    inner = inner if inner.any() else scenery
    # Three pixels wide, for blurred edges.
    rim = (ndimage.binary_dilation(scenery, structure=np.ones((3, 3)), iterations=3) & ~inner) | (
        scenery & (steady < 0.8))
    if rim.any():
        _, (iy, ix) = ndimage.distance_transform_edt(~inner, return_indices=True)
        a, b = base[rim], med[iy[rim], ix[rim]]  # segment ends: background colour and nearest scenery colour
        seen = v[:, rim]  # [T, R, C]
        u = np.clip(((seen - a) * (b - a)).sum(-1) / np.maximum(((b - a) ** 2).sum(-1), 1e-6), 0, 1)
        off = np.linalg.norm(seen - (a + u[..., None] * (b - a)), axis=-1) > max(0.1, 4 * noise)
        vals = np.where(off[..., None], np.nan, seen)
        bg[rim] = np.nanmedian(np.where(off.all(0)[None, :, None], a, vals), axis=0)
    return bg, scenery, "plain", noise


def lighting_surface(med: np.ndarray, bg_color: np.ndarray, degree: int = 3, flat: float = 0.02) -> np.ndarray:
    """The backdrop's colour at every pixel [H, W, C]: a smooth polynomial surface fitted to the median frame.

    A least-squares fit of a degree-3 polynomial in (x, y) per channel, started from the median colour and
    refitted four times on the pixels the last fit misses by less than 3 times its median miss (objects at
    rest and scenery fall out). If the surface is within ``flat`` of one colour everywhere, that colour
    (``bg_color``) is returned: a flat backdrop stays exact.
    """
    h, w, c = med.shape
    step = max(1, int(math.sqrt(h * w / 4096)))  # about 4,096 sample pixels are plenty for 10 coefficients
    yy, xx = np.mgrid[0:h:step, 0:w:step]
    sample = med[::step, ::step].reshape(-1, c)
    design = _poly_terms(xx.ravel() / w, yy.ravel() / h, degree)
    fit = np.broadcast_to(bg_color, sample.shape)
    for _ in range(4):
        miss = channel_max(np.abs(fit - sample))
        keep = miss <= max(0.03, 3 * float(np.median(miss)))
        coef, *_ = np.linalg.lstsq(design[keep], sample[keep], rcond=None)
        fit = design @ coef
    full_y, full_x = np.mgrid[0:h, 0:w]
    surface = (_poly_terms(full_x.ravel() / w, full_y.ravel() / h, degree) @ coef).reshape(h, w, c)
    if channel_max(np.abs(surface - bg_color)).max() < flat:
        return np.broadcast_to(bg_color, med.shape).astype(np.float32)
    return surface.astype(np.float32)


def _poly_terms(x: np.ndarray, y: np.ndarray, degree: int) -> np.ndarray:
    """[N, terms]: x^i y^j for i + j <= degree."""
    return np.stack([x**i * y**j for i in range(degree + 1) for j in range(degree + 1 - i)], axis=1)


def _scenery(v, med, static, noise):
    """Static rectangles (occluders, tables) that persist through the clip.

    Returns (scenery mask [H, W], steady [H, W]: the fraction of frames equal to the median).
    """
    h, w = static.shape
    scenery = np.zeros((h, w), bool)
    steady = (channel_max(np.abs(v - med)) < max(0.08, 6 * noise)).mean(0)
    if not static.any():
        return scenery, steady
    # Split static structure by colour, so a ball resting against a table is not part of the table, and
    # keep only pixels that stay the same through the clip.
    colors = find_palette(med[static], tol=0.15)
    if len(colors) == 0:
        colors = med[static].mean(0, keepdims=True)
    which = np.argmin([channel_norm(med - col) for col in colors], axis=0)
    keep = static & (steady >= 0.8)
    labels = np.zeros((h, w), np.int64)
    eight = ndimage.generate_binary_structure(2, 2)
    for k in range(len(colors)):
        lab, n = ndimage.label(keep & (which == k), eight)
        labels[lab > 0] = lab[lab > 0] + labels.max()
    if labels.max() == 0:
        return scenery, steady
    sizes = np.bincount(labels.ravel())
    boxes = ndimage.find_objects(labels)

    def shape(i):
        sl = boxes[i - 1]
        hgt, wid = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        return sl, min(hgt, wid), max(hgt, wid), sizes[i] / (hgt * wid)

    # Rectangles at least 2 px thick and a quarter of the frame long (the always-covered core of a slow
    # ball can be rectangular, but is never longer than the ball), taken whole: an object passing in front
    # of a table leaves a notch in its steady pixels. Plus the thin slivers along their edges. Components
    # under 24 px (texture specks) are never scenery and are skipped.
    for i in np.flatnonzero(sizes[1:] >= 24) + 1:  # label 0 is "not static"
        sl, thick, long, extent = shape(i)
        if extent > 0.88 and thick >= 2 and long >= 0.25 * min(h, w):
            scenery[sl] = True
    if scenery.any():
        touching = np.unique(labels[ndimage.binary_dilation(scenery, structure=eight)])
        slivers = [i for i in touching if i > 0 and shape(i)[1] < 3]
        scenery |= np.isin(labels, slivers)
    return scenery, steady


def confident_foreground(mag: np.ndarray, threshold: float, noise: float) -> np.ndarray:
    """Pixels well above threshold at their local peak: object interiors, not anti-aliased or blurred rims,
    whose colours are blends of object and background."""
    peak = ndimage.maximum_filter(mag, size=(1, 3, 3))
    return (mag > threshold) & (mag >= peak - np.maximum(0.08 * peak, 3 * noise))


def _textured_background(v, bg, bg_color, spread, noise):
    """Temporal median that skips pixels showing an object colour (not texture-like), so an object that
    lingers for more than half the clip does not become background."""
    mag = channel_norm(v - bg)
    fg = v[confident_foreground(mag, max(0.15, 6 * noise), noise)]
    palette = find_palette(fg) if len(fg) >= 3 else np.zeros((0, v.shape[-1]))
    objects = palette[np.linalg.norm(palette - bg_color, axis=1) > max(0.3, 6 * spread)]
    if len(objects) == 0:
        return bg
    # Object-coloured pixels: only where the frame differs from the median, or the median itself has an
    # object's colour (an object that lingered), can a pixel be near an object colour.
    cand = (mag > 0.05) | (np.min([channel_norm(bg - o) for o in objects], axis=0) < 0.3)[None]
    near = np.zeros(mag.shape, bool)
    near[cand] = np.min([channel_norm(v[cand] - o) for o in objects], axis=0) < 0.25
    near = ndimage.binary_dilation(near, PER_FRAME)  # and the anti-aliased rim around it
    touched = near.any(0)  # only pixels an object ever covered need the masked median
    if not touched.any():
        return bg
    hit = near[:, touched]
    vals = np.where(hit[..., None], np.inf, v[:, touched])
    vals.sort(axis=0)
    count = (~hit).sum(0)
    idx = np.clip((count - 1) // 2, 0, None)
    med = np.take_along_axis(vals, idx[None, :, None].repeat(v.shape[-1], -1), axis=0)[0]
    out = bg.astype(np.float32)
    # A pixel covered in every frame shows no background: the mean background colour is the best guess.
    out[touched] = np.where((count > 0)[:, None], med, bg_color)
    return out
