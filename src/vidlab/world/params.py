"""Parameters of the world: units, colours, in- and out-of-distribution ranges, splits, defaults, checks."""

from __future__ import annotations

from typing import Any

import numpy as np

WORLD_SIZE = 10.0
# The one split of seeds: training draws seeds from here up, held-out sets (vidlab.evaluate) lie below.
TRAIN_SEED_BASE = 10_000_000
COLORS = {
    "red": (255, 0, 0),
    "blue": (0, 0, 255),
    "green": (0, 170, 0),
    "orange": (255, 140, 0),
    "purple": (140, 0, 200),
    "black": (0, 0, 0),
}
# Pegs are static discs: the skewed scenario's peg has its own colour, so the given frames say which odds hold.
SCENERY_COLORS = {"occluder": (110, 110, 110), "table": (150, 100, 60), "peg": (90, 90, 90),
                  "peg_skewed": (20, 120, 120)}
DISC_SCENERY = ("peg", "peg_skewed")  # scenery kinds drawn and simulated as discs in their rectangle

# Ranges modelled on Kang et al. 2024, arXiv 2411.02385 (REFERENCES.md#kang2024): speeds in units/s, radii in units.
ID_SPEED = ((1.0, 4.0),)
OOD_SPEED = ((0.0, 0.8), (4.5, 6.0))
ID_RADIUS = ((0.7, 1.4),)
ID_RADIUS_COLLISION = ((0.5, 1.5),)
OOD_RADIUS = ((0.3, 0.6), (1.5, 2.0))
SLOW, FAST = ((1.0, 2.0),), ((3.0, 4.0),)
SMALL, LARGE = ((0.7, 0.9),), ((1.2, 1.4),)  # two size classes inside the in-distribution radii
SPLITS = {
    "id": {},
    "ood_speed": {"speed_range": OOD_SPEED},
    "ood_radius": {"radius_range": OOD_RADIUS},
    # Colour-velocity coupling: train red-slow / blue-fast, test the swap.
    "coupled_train": {"color_speed": {"red": SLOW, "blue": FAST}},
    "coupled_swap": {"color_speed": {"red": FAST, "blue": SLOW}},
    # Size-velocity coupling: train small-slow / large-fast, test the swap.
    "size_coupled_train": {"size_speed": {"small": (SMALL, SLOW), "large": (LARGE, FAST)}},
    "size_coupled_swap": {"size_speed": {"small": (SMALL, FAST), "large": (LARGE, SLOW)}},
}

DEFAULTS: dict[str, Any] = {
    "size": 64,  # frame height = width in px, 32 to 256
    "num_frames": 16,
    "fps": 10.0,
    "gravity": 10.0,  # units/s^2, positive = downward; uniform, collision and occlusion ignore it
    "radius": None,  # units; None = drawn from radius_range
    "radius_range": None,  # None = the scenario's in-distribution range
    "speed": None,  # units/s; None = drawn from speed_range
    "speed_range": ID_SPEED,
    "color": None,  # name in COLORS or (r, g, b); None = red (collision: red and blue)
    "color_speed": None,  # {"red": ranges, "blue": ranges}: colour drawn at random, speed coupled to it
    "size_speed": None,  # {"small": (radius ranges, speed ranges), ...}: size class at random, speed coupled
    "restitution": None,  # None = 0.8 for bounces, 1.0 (elastic) for collisions
    "spin": None,  # rad/s, clockwise: the open-future scenarios' hidden spin; None = drawn (the same draws)
    "background": "plain",  # "plain" or "noise"
    "background_color": None,  # None = white (plain) or light grey (noise)
    "noise_amplitude": 0.12,  # texture amplitude for background="noise", fraction of full scale
    "substeps": None,  # physics substeps per frame; None = enough for dt <= 10 ms
}




def check_params(params: dict) -> dict:
    """The defaults updated with ``params``, each checked: a ValueError names a bad value and the range."""
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; expected some of {sorted(DEFAULTS)}")
    p = {**DEFAULTS, **params}
    if not (isinstance(p["size"], int | np.integer) and 32 <= p["size"] <= 256):
        raise ValueError(f"size={p['size']!r}: expected an integer from 32 to 256 px")
    if not (isinstance(p["num_frames"], int | np.integer) and 2 <= p["num_frames"] <= 1000):
        raise ValueError(f"num_frames={p['num_frames']!r}: expected an integer from 2 to 1000")
    if not (0 < p["fps"] <= 240):
        raise ValueError(f"fps={p['fps']!r}: expected a frame rate in (0, 240]")
    if p["background"] not in ("plain", "noise"):
        raise ValueError(f"background={p['background']!r}: expected 'plain' or 'noise'")
    if p["restitution"] is not None and not 0 <= p["restitution"] <= 1:
        raise ValueError(f"restitution={p['restitution']!r}: expected a value in [0, 1]")
    if p["radius"] is not None and not 0.05 <= p["radius"] <= 3:
        raise ValueError(f"radius={p['radius']!r}: expected 0.05 to 3 world units (the world is 10 wide)")
    if p["size_speed"] is not None and not (isinstance(p["size_speed"], dict) and all(
            isinstance(v, tuple | list) and len(v) == 2 for v in p["size_speed"].values())):
        raise ValueError(f"size_speed={p['size_speed']!r}: expected {{class name: (radius ranges, speed ranges)}}, "
                         "as in SPLITS['size_coupled_train']")
    if p["gravity"] < 0:
        raise ValueError(f"gravity={p['gravity']!r}: expected >= 0 (units/s^2, positive = downward)")
    return p


def _ranges(value) -> tuple:
    """Normalise (lo, hi) or ((lo, hi), (lo, hi), ...) to a tuple of intervals."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 1 and arr.shape == (2,):
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 2 or np.any(arr[:, 1] < arr[:, 0]):
        raise ValueError(f"range {value!r}: expected (lo, hi) or a sequence of (lo, hi) intervals")
    return tuple(map(tuple, arr))


def draw_from(rng: np.random.Generator, ranges) -> float:
    """Draw uniformly from a union of intervals (weighted by length)."""
    ivs = _ranges(ranges)
    widths = np.array([hi - lo for lo, hi in ivs])
    k = rng.choice(len(ivs), p=widths / widths.sum()) if widths.sum() > 0 else 0
    lo, hi = ivs[k]
    return float(rng.uniform(lo, hi))


def to_rgb(color) -> tuple:
    if isinstance(color, str):
        if color not in COLORS:
            raise ValueError(f"color={color!r}: expected one of {sorted(COLORS)} or an (r, g, b) tuple")
        return COLORS[color]
    rgb = tuple(int(c) for c in color)
    if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
        raise ValueError(f"color={color!r}: expected (r, g, b) with values 0-255")
    return rgb


def name_of_color(rgb) -> str:
    for name, val in COLORS.items():
        if tuple(val) == tuple(rgb):
            return name
    return "colored"
