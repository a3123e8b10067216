"""Small numeric helpers shared by the probes' steps."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

PER_FRAME = np.zeros((3, 3, 3), bool)
PER_FRAME[1] = ndimage.generate_binary_structure(2, 2)  # 8-connected within a frame, never across time


def vec_len(v) -> float:
    """Length of a 2-vector (np.linalg.norm is slow for tiny arrays in a loop)."""
    return math.hypot(v[0], v[1])


# Channel reductions written out plane by plane: numpy reduces a trailing axis of length 3 slowly.
def channel_max(x: np.ndarray) -> np.ndarray:
    out = x[..., 0]
    for i in range(1, x.shape[-1]):
        out = np.maximum(out, x[..., i])
    return out


def channel_norm(x: np.ndarray) -> np.ndarray:
    out = x[..., 0] ** 2
    for i in range(1, x.shape[-1]):
        out = out + x[..., i] ** 2
    return np.sqrt(out)
