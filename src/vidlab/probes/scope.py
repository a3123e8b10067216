"""What the probes can measure: one still shot, and (when one is named) objects of a target colour.

A public model's clip may pan, cut or change its light, and draws shadows and props beside the object of
interest. Rather than give a wrong number, the report says so (``measurable=False`` with the reason), or
follows only the target colour, with the shades of that colour (a shaded ball's dark side) merged into it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import ndimage

from vidlab.probes.common import channel_max, channel_norm

# A still camera: at most this share of pixels may differ from the median in most frames (a ball at rest, a
# slow ball's trail), by more than CHANGE (a fixed level: a noise estimate would grow with the change itself).
MOVING_SHARE, CHANGE = 0.25, 0.06


def moving_background(v: np.ndarray, med: np.ndarray) -> str:
    """Why the background cannot serve as a still reference, or "" if it can."""
    pan = _camera_pan(v)
    if pan is not None:
        dx, dy = (round(float(p), 1) + 0.0 for p in pan)  # + 0.0 turns -0.0 into 0.0
        return (f"the camera moves: the whole picture shifts by about ({dx:+.1f}, {dy:+.1f}) px per frame. The "
                "probes measure motion against a still camera")
    # share of pixels that change from each frame to the next: a cut changes most of them at once
    steps = (channel_max(np.abs(np.diff(v, axis=0))) > CHANGE).mean(axis=(1, 2))
    if len(steps) >= 3:
        k = int(np.argmax(steps))
        if steps[k] > max(MOVING_SHARE, 5 * float(np.median(np.delete(steps, k)))):
            return (f"the picture changes at once between frames {k} and {k + 1} (a cut): the probes measure one "
                    "continuous shot")
    changing = (channel_max(np.abs(v - med)) > CHANGE).mean(0) > 0.5
    share = float(changing.mean())
    if share <= MOVING_SHARE:
        return ""
    return (f"{share:.0%} of the frame differs from its median in most frames: changing light, a cut or a "
            "moving scene. The probes measure motion against a static background")


def _camera_pan(v: np.ndarray):
    """(dx, dy) px per frame if the whole picture shifts between the first and last frames, else None.

    Phase correlation (scikit-image) of the fine detail finds the shift; it counts as the camera only if it
    is under a quarter of the frame, most pixels changed, and undoing the shift explains most of the change.
    (A ball moving over a plain backdrop changes few pixels; a still clip, none.)
    """
    gray = v.mean(-1) if v.shape[-1] == 3 else v[..., 0]
    for k in sorted({1, len(v) // 2, len(v) - 1} - {0}):  # a fast pan leaves the frame: try nearer frames too
        pan = _pan_between(gray[0], gray[k])
        if pan is not None:
            return pan[0] / k, pan[1] / k
    return None


def _pan_between(first: np.ndarray, last: np.ndarray):
    """(dx, dy) px that the picture moved from ``first`` to ``last`` if a pan explains the change, else None."""
    from skimage.registration import phase_cross_correlation

    detail = [g - ndimage.gaussian_filter(g, 2) for g in (first, last)]
    if min(float(d.std()) for d in detail) < 1e-3:  # a featureless frame: nothing to register
        return None
    shift = phase_cross_correlation(*detail, upsample_factor=4)[0]  # (dy, dx) that moves last onto first
    if math.hypot(*shift) < 1 or np.abs(shift).max() > min(first.shape) / 4:
        return None
    m = int(np.ceil(np.abs(shift).max())) + 1
    inner = (slice(m, -m), slice(m, -m))
    aligned = ndimage.shift(last, shift, order=1, mode="nearest")
    # Most of the whole frame must have changed (a ball crossing a small crop can fill it), and the shift must
    # explain most of the change inside the part both frames share.
    if (np.abs(last - first) > 0.02).mean() < 0.5:
        return None
    before = (np.abs(last - first)[inner] > 0.02).mean()
    after = (np.abs(aligned - first)[inner] > 0.02).mean()
    if after > 0.5 * before:
        return None
    return -shift[1], -shift[0]


def target_rgb(target, channels: int):
    """The target colour as floats in [0, 1] (luma for grayscale video), or None."""
    if target is None:
        return None
    if isinstance(target, str):
        from matplotlib.colors import to_rgb

        try:
            rgb = np.array(to_rgb(target), np.float32)
        except ValueError as err:
            raise ValueError(f"target={target!r}: not a colour name matplotlib knows; use e.g. 'red' or "
                             "(255, 0, 0)") from err
    else:
        rgb = np.asarray(target, np.float32)
        if rgb.shape != (3,) or rgb.min() < 0 or rgb.max() > 255:
            raise ValueError(f"target={target!r}: expected a colour name or an (r, g, b) tuple of 0-255")
        rgb = rgb / 255
    return rgb if channels == 3 else np.array([rgb @ np.array([0.299, 0.587, 0.114], np.float32)])


def only_target(dets, palette, wanted, tolerance) -> tuple:
    """(the detections of the target colour, "" or why there are none).

    Palette colours near ``wanted``, or shades of it (the same hue darker or lighter, as the shaded side of a
    ball), are the target. Target pieces sharing a blob in a frame are merged into one detection, and
    contact is re-judged among the target detections only (a shadow touching the ball is no longer contact).
    """
    near = _is_target(palette, wanted, tolerance)
    if not near.any():
        found = ", ".join(str(_as_255(p)) for p in palette)
        return dets, f"no object of the target colour {_as_255(wanted)} (objects found: {found or 'none'})"
    keep = near[dets.color]
    fields = [f.name for f in dataclasses.fields(dets) if f.name != "masks" and getattr(dets, f.name) is not None]
    picked = {name: getattr(dets, name)[keep] for name in fields}
    return dataclasses.replace(dets, **_merge_pieces(picked, int(np.argmax(near)))), ""


def _is_target(palette, wanted, tolerance) -> np.ndarray:
    """[K] bool: palette colours near the target, or of its hue at another brightness."""
    if len(palette) == 0:
        return np.zeros(0, bool)
    close = channel_norm(palette - wanted) < tolerance
    if palette.shape[-1] == 1:
        return close
    hue = palette / np.maximum(palette.max(-1, keepdims=True), 1e-3)
    wanted_hue = wanted / max(float(wanted.max()), 1e-3)
    saturated = palette.max(-1) - palette.min(-1) > 0.15  # greys have no hue to compare
    return close | (saturated & (channel_norm(hue - wanted_hue) < tolerance))


def _merge_pieces(d: dict, colour: int) -> dict:
    """Merge target detections that share a blob in one frame: area-weighted centre, summed area."""
    groups = _blobs(d["frame"], d["component"])
    out = {name: [] for name in d}
    for g in range(groups.max(initial=-1) + 1):
        idx = np.flatnonzero(groups == g)
        area = d["radius"][idx] ** 2
        for name in d:
            if name == "xy":
                out[name].append((d["xy"][idx] * area[:, None]).sum(0) / max(area.sum(), 1e-9))
            elif name == "radius":
                out[name].append(np.sqrt(area.sum()))
            elif name in ("truncated", "on_edge", "edge_or_scenery"):
                out[name].append(d[name][idx].any())
            else:
                out[name].append(d[name][idx[np.argmax(area)]])
    merged = {name: np.array(values) for name, values in out.items()}
    merged["color"] = np.full(len(merged["frame"]), colour)
    # Contact among target detections only: two target objects in one blob still touch.
    blob = _blobs(merged["frame"], merged["component"])
    shared = np.bincount(blob)[blob] > 1 if len(blob) else np.zeros(0, bool)
    merged["touching"] = shared
    merged["contact"] = merged["edge_or_scenery"] | shared
    return merged


def _blobs(frame: np.ndarray, component: np.ndarray) -> np.ndarray:
    """A group number for each (frame, blob) pair, 0 to n - 1."""
    key = frame.astype(np.int64) * (int(component.max(initial=0)) + 1) + component
    return np.unique(key, return_inverse=True)[1].ravel()


def _as_255(rgb) -> tuple:
    return tuple(int(round(float(c) * 255)) for c in np.atleast_1d(rgb))
