"""Step 2: the palette, the colours of confident foreground pixels."""

from __future__ import annotations

import numpy as np

from vidlab.probes.common import channel_norm


def find_palette(colors: np.ndarray, tol: float = 0.25, max_colors: int = 8) -> np.ndarray:
    """Cluster pixel colours [M, C] by mean shift started from the densest cell of a 0.1 grid."""
    if len(colors) > 1000:  # an even subsample is plenty to find a handful of colours
        colors = colors[:: len(colors) // 1000 + 1]
    rest, palette = colors, []
    min_pts = max(3, int(0.01 * len(colors)))
    while len(rest) >= min_pts and len(palette) < max_colors:
        q = np.clip(np.rint(rest * 10), 0, 10).astype(np.int64)
        key = q[:, 0] * 121 + (q[:, 1] * 11 + q[:, 2] if q.shape[1] == 3 else 0)
        densest = np.bincount(key).argmax()
        center = rest[key == densest].mean(0)
        for _ in range(4):
            members = channel_norm(rest - center) < tol
            center = rest[members].mean(0)
        members = channel_norm(rest - center) < tol
        if members.sum() >= min_pts:
            palette.append(center)
        rest = rest[~members]
    return np.array(palette, np.float32).reshape(-1, colors.shape[1])
