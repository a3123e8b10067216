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
    component: np.ndarray = None  # the blob (connected support) it belongs to
    edge_or_scenery: np.ndarray = None  # touching the frame border or scenery


# Thresholds on the colour difference from the background, in multiples of the video's noise level.
STRONG_MIN, STRONG_NOISE = 0.12, 6  # a strong pixel seeds a detection
LOW_MIN, LOW_NOISE = 0.05, 3  # a low pixel joins the detection it touches (hysteresis)
PALETTE_MIN = 0.2  # object colours are read from pixels at least this different from the background
MIXED_SHARE, MIXED_VOTES = 0.05, 3  # a second colour this common splits a component (touching objects)
ROUND_LIMIT, SPREAD_LIMIT = 1.08, 1.1  # beyond these, a detection near an edge counts as partly hidden


def detect(v: np.ndarray, bg: np.ndarray, scenery: np.ndarray, noise: float):
    """Find objects in every frame; returns (Detections, palette [K, C]).

    1. Thresholds from the video's noise level: strong, low and confident foreground pixels.
    2. The palette of object colours, from clearly different confident pixels.
    3. The support: low-threshold regions holding a strong pixel (scenery bridges occluded parts).
    4. A colour for each support pixel, splitting components that hold two objects.
    5. Coverage alpha of each pixel, then alpha-weighted moments: centre, size, shape.
    6. On noisy video, centres refined over a disc window.
    7. Flags: truncated by an edge or scenery, touching another object.
    """
    c = v.shape[-1]
    mag = channel_norm(v - bg)
    noise_mag, hi_thr, lo_thr = _thresholds(mag)
    confident = confident_foreground(mag, hi_thr, noise_mag)
    tol = 0.3 if c == 3 else 0.12  # grayscale objects differ in one number only
    palette = _palette(v, confident & (mag > max(PALETTE_MIN, hi_thr)), tol)
    if len(palette) == 0:
        return _no_detections(mag.shape), palette
    near_scenery = np.broadcast_to(ndimage.binary_dilation(scenery, iterations=2), mag.shape)
    comp, n_comp, support = _support(mag, hi_thr, lo_thr, near_scenery)
    px = _colour_pixels(v, comp, n_comp, support, confident, palette, tol)
    alpha = _coverage(px, v, bg, palette, noise)
    mom = _moments(px, alpha, v.shape, len(palette))
    if noise_mag > 0.01:  # noisy video: refine centres over a disc window with unclipped coverage
        _refine_all(mom, px, v, bg, palette, noise)
    return _assemble(mom, px, near_scenery, n_comp, v.shape, len(palette), support), palette


def _thresholds(mag):
    """The noise level (median difference) and the strong and low thresholds it sets."""
    noise_mag = float(np.median(mag[::2, ::2, ::2])) + 1e-4
    return noise_mag, max(STRONG_MIN, STRONG_NOISE * noise_mag), max(LOW_MIN, LOW_NOISE * noise_mag)


def _palette(v, source, tol):
    """Object colours from clearly different pixels only: codec halos and ringing stay out."""
    if source.sum() < 3:
        return np.zeros((0, v.shape[-1]), np.float32)
    return find_palette(v[source], tol=tol)


def _no_detections(shape) -> Detections:
    z = np.zeros(0)
    return Detections(z.astype(int), np.zeros((0, 2)), z, z, z.astype(int), z.astype(bool),
                      np.zeros(shape, bool), z.astype(bool), z.astype(bool), z.astype(bool))


def _support(mag, hi_thr, lo_thr, near_scenery):
    """Hysteresis: low-threshold regions holding a strong pixel, connected within a frame only. Scenery
    connects too, so the two visible parts of a ball behind an occluder form one component."""
    low = mag > lo_thr
    comp, n_comp = ndimage.label(low | near_scenery, PER_FRAME)
    keep = np.zeros(n_comp + 1, bool)
    keep[comp[mag > hi_thr]] = True
    keep[0] = False
    return comp, n_comp, keep[comp] & low


def _colour_pixels(v, comp, n_comp, support, confident, palette, tol) -> dict:
    """Each support pixel's colour: its component's majority colour, or, where a component holds several
    colours (touching objects), the colour of the nearest confident pixel. Pixels of components with no
    object colour at all (texture specks) are dropped. Returns flat indices ``pix``, component ``comp`` and
    palette index ``col`` of the kept pixels, and their values ``vs``."""
    t_len, h, w, c = v.shape
    pix = np.flatnonzero(support)
    comp_s = comp.ravel()[pix]
    conf_s = confident.ravel()[pix]
    vs = v.reshape(-1, c)[pix]
    dist = np.stack([channel_norm(vs[conf_s] - col) for col in palette], axis=1)
    conf_col = np.argmin(dist, axis=1)
    matches = dist[np.arange(len(conf_col)), conf_col] < 1.5 * tol  # texture specks match no object colour
    votes = np.zeros((n_comp + 1, len(palette)), int)
    np.add.at(votes, (comp_s[conf_s][matches], conf_col[matches]), 1)
    col_s = votes.argmax(1)[comp_s]
    voted = votes.sum(1)[comp_s] > 0
    # Split a component only where a second colour holds enough of its confident pixels (two touching
    # objects), not for a few off-colour rim pixels.
    share = votes / np.maximum(votes.sum(1, keepdims=True), 1)
    mixed = ((share >= MIXED_SHARE) & (votes >= MIXED_VOTES)).sum(1)[comp_s] > 1
    conf_pix, conf_col = pix[conf_s][matches], conf_col[matches]
    pix, comp_s, vs, col_s, mixed = (a[voted] for a in (pix, comp_s, vs, col_s, mixed))
    if mixed.any():
        lab = np.full((t_len, h, w), -1, np.int64)
        lab.ravel()[conf_pix] = conf_col
        frames = np.unique(pix[mixed] // (h * w))
        _, idx = ndimage.distance_transform_edt(lab[frames] < 0, sampling=(1e4, 1, 1), return_indices=True)
        nearest = lab[frames][idx[0], idx[1], idx[2]]
        where = np.searchsorted(frames, pix[mixed] // (h * w))
        col_s[mixed] = nearest[where, (pix[mixed] // w) % h, pix[mixed] % w]
    return {"pix": pix, "comp": comp_s, "col": col_s, "vs": vs}


def _coverage(px, v, bg, palette, noise):
    """Coverage alpha in [0, 1]: the frame minus background projected on the colour minus background."""
    h, w, c = bg.shape
    bgs = bg.reshape(-1, c)[px["pix"] % (h * w)]
    direction = palette[px["col"]] - bgs
    den = (direction**2).sum(-1)
    alpha = np.where(den > max(0.01, (3 * noise) ** 2),
                     ((px["vs"] - bgs) * direction).sum(-1) / np.maximum(den, 1e-6), 0.0)
    return np.clip(alpha, 0, 1)


def _moments(px, alpha, shape, k_pal) -> dict:
    """Each (component, colour) pair is one detection: alpha-weighted moments give its mass, centre and
    elongation (the ratio of the axes of its covariance)."""
    _, h, w, _ = shape
    pix = px["pix"]
    det, inv = np.unique(px["comp"] * k_pal + px["col"], return_inverse=True)
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
    return {"det": det, "inv": inv, "m": m, "ok": ok, "x": x, "y": y, "tr": tr, "elong": elong,
            "frame": frame, "yy": yy, "xx": xx}


def _refine_all(mom, px, v, bg, palette, noise):
    """Refine the centre of every detection in place (see :func:`_refine`)."""
    owner = np.full(v.shape[:3], -1)
    owner.ravel()[px["pix"]] = mom["inv"]
    x, y, m, frame, k_pal = mom["x"], mom["y"], mom["m"], mom["frame"], len(palette)
    for i in np.flatnonzero(mom["ok"]):
        x[i], y[i] = _refine(v[frame[i]], bg, palette[mom["det"][i] % k_pal], owner[frame[i]], i, x[i], y[i],
                             np.sqrt(m[i] / np.pi), noise)


def _assemble(mom, px, near_scenery, n_comp, shape, k_pal, support) -> Detections:
    """The kept detections (mass at least 1 px) with their edge, scenery and contact flags."""
    _, h, w, _ = shape
    inv, yy, xx, elong, m, det = mom["inv"], mom["yy"], mom["xx"], mom["elong"], mom["m"], mom["det"]
    border = (yy == 0) | (yy == h - 1) | (xx == 0) | (xx == w - 1)
    on_frame_edge = np.bincount(inv, border) > 0
    near = np.bincount(inv, near_scenery[0].ravel()[px["pix"] % (h * w)]) > 0
    # Partly hidden: touching the frame edge or scenery, and no longer round. A disc cut by a straight
    # edge is elongated (a half disc: 1.9), while a whole disc resting on a table stays at 1.0.
    # Two caps of a ball seen on both sides of a thin occluder are spread out for their area instead.
    spread_ratio = np.sqrt(2 * np.maximum(mom["tr"], 0)) / np.sqrt(m / np.pi)
    trunc = (on_frame_edge | near) & ((elong > ROUND_LIMIT) | (spread_ratio > SPREAD_LIMIT))
    # A detection that shares its component with another colour touches another object.
    comp_of = det // k_pal
    shared = np.bincount(comp_of[mom["ok"]], minlength=n_comp + 1)[comp_of] > 1
    sel = np.flatnonzero(mom["ok"])
    return Detections(frame=mom["frame"][sel], xy=np.stack([mom["x"][sel], mom["y"][sel]], 1),
                      radius=np.sqrt(m[sel] / np.pi), elong=elong[sel], color=det[sel] % k_pal,
                      truncated=trunc[sel], on_edge=on_frame_edge[sel] & (elong[sel] > ROUND_LIMIT),
                      contact=on_frame_edge[sel] | near[sel] | shared[sel], touching=shared[sel], masks=support,
                      component=comp_of[sel], edge_or_scenery=on_frame_edge[sel] | near[sel])


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
