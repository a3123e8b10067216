"""Step 3: soft masks and detections: alpha-weighted centres, radii, shapes, in every frame."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

from vidlab.probes.background import confident_foreground
from vidlab.probes.common import PER_FRAME, channel_norm
from vidlab.probes.palette import find_palette


@dataclasses.dataclass
class Detections:
    frame: np.ndarray
    xy: np.ndarray
    radius: np.ndarray
    elong: np.ndarray
    color: np.ndarray  # palette index
    truncated: np.ndarray
    masks: np.ndarray  # [T, H, W] bool: union of detection supports
    on_edge: np.ndarray = None  # cut by the frame border
    contact: np.ndarray = None  # touching the frame border, scenery or another object
    touching: np.ndarray = None  # sharing a blob with another object (one may cover the other)


def detect(v: np.ndarray, bg: np.ndarray, scenery: np.ndarray, noise: float):
    """Find objects in every frame; returns (Detections, palette [K, C]).

    Only pixels in the support (hysteresis regions around strong differences) are processed further.
    """
    t_len, h, w, c = v.shape
    diff = v - bg
    mag = channel_norm(diff)
    noise_mag = float(np.median(mag[::2, ::2, ::2])) + 1e-4
    hi_thr, lo_thr = max(0.12, 6 * noise_mag), max(0.05, 3 * noise_mag)
    strong = mag > hi_thr
    confident = confident_foreground(mag, hi_thr, noise_mag)
    # Object colours come from clearly different pixels only: codec halos and ringing stay out.
    source = confident & (mag > max(0.2, hi_thr))
    tol = 0.3 if c == 3 else 0.12  # grayscale objects differ in one number only
    palette = find_palette(v[source], tol=tol) if source.sum() >= 3 else np.zeros((0, c), np.float32)
    if len(palette) == 0:
        z = np.zeros(0)
        return Detections(z.astype(int), np.zeros((0, 2)), z, z, z.astype(int), z.astype(bool),
                           np.zeros(mag.shape, bool), z.astype(bool), z.astype(bool), z.astype(bool)), palette
    k_pal = len(palette)
    # Hysteresis: low-threshold regions holding a strong pixel, connected within a frame only. Scenery
    # connects too, so the two visible parts of a ball behind an occluder form one detection.
    low = mag > lo_thr
    near_scenery = np.broadcast_to(ndimage.binary_dilation(scenery, iterations=2), mag.shape)
    comp, n_comp = ndimage.label(low | near_scenery, PER_FRAME)
    keep = np.zeros(n_comp + 1, bool)
    keep[comp[strong]] = True
    keep[0] = False
    support = keep[comp] & low
    pix = np.flatnonzero(support)
    comp_s = comp.ravel()[pix]
    conf_s = confident.ravel()[pix]
    vs = v.reshape(-1, c)[pix]
    # Colour of each support pixel: its component's colour, or, where a component holds several
    # colours (touching objects), the colour of the nearest confident pixel.
    dist = np.stack([channel_norm(vs[conf_s] - col) for col in palette], axis=1)
    conf_col = np.argmin(dist, axis=1)
    matches = dist[np.arange(len(conf_col)), conf_col] < 1.5 * tol  # texture specks match no object colour
    votes = np.zeros((n_comp + 1, k_pal), int)
    np.add.at(votes, (comp_s[conf_s][matches], conf_col[matches]), 1)
    col_s = votes.argmax(1)[comp_s]
    voted = votes.sum(1)[comp_s] > 0
    # Split a component only where a second colour holds at least 5% of its confident pixels
    # (two touching objects), not for a few off-colour rim pixels.
    share = votes / np.maximum(votes.sum(1, keepdims=True), 1)
    mixed = ((share >= 0.05) & (votes >= 3)).sum(1)[comp_s] > 1
    conf_pix = pix[conf_s][matches]
    conf_col = conf_col[matches]
    pix, comp_s, vs, col_s, mixed = (a[voted] for a in (pix, comp_s, vs, col_s, mixed))
    if mixed.any():
        lab = np.full(mag.shape, -1, np.int64)
        lab.ravel()[conf_pix] = conf_col
        frames = np.unique(pix[mixed] // (h * w))
        _, idx = ndimage.distance_transform_edt(lab[frames] < 0, sampling=(1e4, 1, 1), return_indices=True)
        nearest = lab[frames][idx[0], idx[1], idx[2]]
        where = np.searchsorted(frames, pix[mixed] // (h * w))
        col_s[mixed] = nearest[where, (pix[mixed] // w) % h, pix[mixed] % w]
    # Coverage alpha by projecting frame - background on colour - background.
    bgs = bg.reshape(-1, c)[pix % (h * w)]
    direction = palette[col_s] - bgs
    den = (direction**2).sum(-1)
    alpha = np.where(den > max(0.01, (3 * noise) ** 2),
                     ((vs - bgs) * direction).sum(-1) / np.maximum(den, 1e-6), 0.0)
    alpha = np.clip(alpha, 0, 1)
    # Confident pixels of minority colours in an unsplit component take the component's colour too.
    # Each (component, colour) pair is one detection: alpha-weighted moments give centre, size and shape.
    det, inv = np.unique(comp_s * k_pal + col_s, return_inverse=True)
    tt, yy, xx = pix // (h * w), (pix // w) % h, (pix % w).astype(float)
    m = np.bincount(inv, alpha)
    ok = m >= 1.0
    m = np.maximum(m, 1e-9)
    x, y = np.bincount(inv, alpha * xx) / m, np.bincount(inv, alpha * yy) / m
    vxx = np.bincount(inv, alpha * xx * xx) / m - x**2
    vyy = np.bincount(inv, alpha * yy * yy) / m - y**2
    vxy = np.bincount(inv, alpha * xx * yy) / m - x * y
    tr, dt = vxx + vyy, vxx * vyy - vxy**2
    disc = np.sqrt(np.maximum(tr**2 / 4 - dt, 0))
    elong = np.sqrt(np.maximum(tr / 2 + disc, 1e-9) / np.maximum(tr / 2 - disc, 1e-9))
    frame = np.zeros(len(det), int)
    frame[inv] = tt
    if noise_mag > 0.01:  # noisy video: refine centres over a disc window with unclipped coverage
        owner = np.full(mag.shape, -1)
        owner.ravel()[pix] = inv
        for i in np.flatnonzero(ok):
            x[i], y[i] = _refine(v[frame[i]], bg, palette[det[i] % k_pal], owner[frame[i]], i, x[i], y[i],
                                 np.sqrt(m[i] / np.pi), noise)
    border = (yy == 0) | (yy == h - 1) | (xx == 0) | (xx == w - 1)
    on_frame_edge = np.bincount(inv, border) > 0
    near = np.bincount(inv, near_scenery[0].ravel()[pix % (h * w)]) > 0
    # Partly hidden: touching the frame edge or scenery, and no longer round. A disc cut by a straight
    # edge is elongated (a half disc: 1.9), while a whole disc resting on a table stays at 1.0.
    # Two caps of a ball seen on both sides of a thin occluder are spread out for their area instead.
    spread_ratio = np.sqrt(2 * np.maximum(tr, 0)) / np.sqrt(m / np.pi)
    trunc = (on_frame_edge | near) & ((elong > 1.08) | (spread_ratio > 1.1))
    # A detection that shares its component with another colour touches another object.
    comp_of = det // k_pal
    shared = np.bincount(comp_of[ok], minlength=n_comp + 1)[comp_of] > 1
    sel = np.flatnonzero(ok)
    dets = Detections(frame=frame[sel], xy=np.stack([x[sel], y[sel]], 1), radius=np.sqrt(m[sel] / np.pi),
                       elong=elong[sel], color=det[sel] % k_pal, truncated=trunc[sel],
                       on_edge=on_frame_edge[sel] & (elong[sel] > 1.08),
                       contact=on_frame_edge[sel] | near[sel] | shared[sel], touching=shared[sel],
                       masks=support)
    return dets, palette


def _refine(frame, bg, color, owner, i, x, y, r, noise, iterations=2):
    """Centroid of coverage over a disc of radius r + 2 around (x, y), without clipping the coverage.

    Clipping noise at zero biases a centroid toward the side with the noisier coverage (where the object's
    colour is closer to the background); unclipped, zero-mean noise averages out. Pixels of other objects are
    left out. Returns the input position when the window holds too little coverage to trust.
    """
    h, w = owner.shape
    for _ in range(iterations):
        rad = r + 2.0
        y0, y1 = max(0, int(y - rad)), min(h, int(y + rad) + 2)
        x0, x1 = max(0, int(x - rad)), min(w, int(x + rad) + 2)
        if y1 <= y0 or x1 <= x0:
            break
        yy, xx = np.mgrid[y0:y1, x0:x1]
        b = bg[y0:y1, x0:x1]
        d = color - b
        den = (d * d).sum(-1)
        keep = ((xx - x) ** 2 + (yy - y) ** 2 <= rad**2) & (den > max(0.01, (3 * noise) ** 2))
        keep &= (owner[y0:y1, x0:x1] == -1) | (owner[y0:y1, x0:x1] == i)
        a = np.clip(((frame[y0:y1, x0:x1] - b) * d).sum(-1) / np.maximum(den, 1e-6), -0.5, 1.5) * keep
        mass = a.sum()
        if mass < 0.5 * np.pi * r * r:
            break
        x, y = float((a * xx).sum() / mass), float((a * yy).sum() / mass)
    return x, y
