"""Measure physics in any video: objects, tracks, gravity, bounces, collisions and failure events.

The probes make no use of vidlab's renderer, so they also work on videos from other generators: any
background colour or static texture, anti-aliased or blurred edges, sensor noise, compression artefacts,
RGB or grayscale, uint8 or float in [0, 1].

How it works, in order:

1. **Background.** The per-pixel temporal median. On a plain background, static blobs that look like
   objects (not rectangles) are painted over with the background colour, so a ball at rest is still found.
   Static rectangles stay in the background as *scenery* (occluders, tables).
2. **Palette.** The colours of confident foreground pixels are clustered (mean shift on a colour grid).
3. **Soft masks.** Each foreground pixel takes the colour of the nearest confident pixel and gets a
   coverage ``alpha`` by projecting ``frame - background`` on ``colour - background``. Centres are
   alpha-weighted centroids: exact for anti-aliased and blurred discs, since blur preserves centroids.
4. **Tracks.** Detections are linked frame to frame by the Hungarian algorithm on the distance to a
   constant-velocity prediction, with colour and size in the cost.
5. **Physics.** Free-flight segments are cut at bounces (jumps in the second difference). One quadratic per
   segment with a shared acceleration gives gravity, velocities, restitution at each bounce, and momentum and
   energy across collisions (mass proportional to area).
6. **Events.** vanish, appear, teleport, morph, color_change and interpenetration, each with the frame where
   it starts. Leaving the frame, passing behind scenery and touching a same-coloured ball are not events.

Coordinates are pixels, x to the right and y down, pixel (row 0, col 0) centred at (0, 0).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import ndimage, optimize

from vidlab.pixels import as_float_video  # noqa: F401  (validates every video the probes read)

EVENT_KINDS = ("vanish", "appear", "teleport", "morph", "color_change", "interpenetration")
_PER_FRAME = np.zeros((3, 3, 3), bool)
_PER_FRAME[1] = ndimage.generate_binary_structure(2, 2)  # 8-connected within a frame, never across time


@dataclasses.dataclass
class Track:
    """One object followed through the clip. Arrays are per frame, NaN where the object is not seen."""

    centers: np.ndarray  # [T, 2] (x, y) px
    radii: np.ndarray  # [T] px, from the covered area: sqrt(area / pi)
    color: tuple  # (r, g, b) 0-255
    velocities: np.ndarray  # [T, 2] px/s
    elongation: np.ndarray  # [T] sqrt of the ratio of the principal second moments (1 for a disc)
    truncated: np.ndarray  # [T] bool: partly hidden by the frame edge, scenery or another object
    contact: np.ndarray  # [T] bool: touching the frame edge, scenery or another object (not free flight)

    @property
    def present(self) -> np.ndarray:
        return ~np.isnan(self.centers[:, 0])


@dataclasses.dataclass
class Event:
    """A physics failure: ``kind`` in EVENT_KINDS starting at ``frame``, on ``track`` (and ``other``)."""

    kind: str
    frame: int
    track: int
    other: int | None = None
    detail: str = ""


@dataclasses.dataclass
class Bounce:
    """A bounce off a wall or the floor: restitution = normal speed after / normal speed before."""

    track: int
    time_s: float
    restitution: float
    normal: tuple  # unit vector (x, y), the direction of the velocity change
    speed_before: float  # normal speed, px/s


@dataclasses.dataclass
class Collision:
    """Two tracks meeting. Mass is proportional to area (px^2), so momentum is in px^3/s."""

    time_s: float
    tracks: tuple
    momentum_before: tuple
    momentum_after: tuple
    energy_before: float
    energy_after: float
    momentum_scale: float  # sum of |m v| of the two objects before: the size of what could change

    @property
    def momentum_change(self) -> float:
        """|p_after - p_before| / sum |m v|: 0 when momentum is conserved. (Normalised by the objects' own
        momenta, since the total is near zero when two equal balls meet head-on.)"""
        before, after = np.array(self.momentum_before), np.array(self.momentum_after)
        return float(np.linalg.norm(after - before) / max(self.momentum_scale, 1e-9))

    @property
    def energy_ratio(self) -> float:
        """Kinetic energy after / before: 1 for an elastic collision."""
        return float(self.energy_after / max(self.energy_before, 1e-9))


@dataclasses.dataclass
class PhysicsReport:
    """Everything :func:`physics_report` measured in one video."""

    fps: float
    objects_per_frame: np.ndarray  # int [T]
    tracks: list  # [Track]
    gravity_px_s2: float | None  # positive = downward
    acceleration_px_s2: tuple | None  # (ax, ay) shared by all free flight
    free_flight_frames: int
    events: list  # [Event]
    bounces: list  # [Bounce]
    collisions: list  # [Collision]
    flicker: float  # VBench-style temporal flicker of the background, 1 = perfectly steady
    background: str  # "plain" or "textured"
    noise_level: float

    def to_dict(self) -> dict:
        """A plain JSON-serialisable dict (NaN becomes None)."""

        def clean(x):
            if isinstance(x, np.ndarray):
                return clean(x.tolist())
            if isinstance(x, list | tuple):
                return [clean(v) for v in x]
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, float | np.floating):
                return None if not math.isfinite(x) else float(x)
            if isinstance(x, np.integer | np.bool_):
                return x.item()
            return x

        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["tracks"] = [dataclasses.asdict(t) for t in self.tracks]
        for key in ("events", "bounces", "collisions"):
            out[key] = [dataclasses.asdict(x) for x in out[key]]
        return clean(out)

    def summary(self) -> str:
        """A few lines for a notebook: counts, gravity, events."""
        g = "none found" if self.gravity_px_s2 is None else f"{self.gravity_px_s2:.1f} px/s^2"
        ev = ", ".join(f"{e.kind}@{e.frame}" for e in self.events) or "none"
        counts = np.bincount(self.objects_per_frame)
        return (f"objects per frame: {dict(enumerate(counts.tolist()))} | tracks: {len(self.tracks)} | "
                f"gravity: {g} ({self.free_flight_frames} free-flight frames) | bounces: {len(self.bounces)} | "
                f"collisions: {len(self.collisions)} | flicker: {self.flicker:.4f} | events: {ev}")


def _len(v) -> float:
    """Length of a 2-vector (np.linalg.norm is slow for tiny arrays in a loop)."""
    return math.hypot(v[0], v[1])


# Channel reductions written out plane by plane: numpy reduces a trailing axis of length 3 slowly.
def _cmax(x: np.ndarray) -> np.ndarray:
    out = x[..., 0]
    for i in range(1, x.shape[-1]):
        out = np.maximum(out, x[..., i])
    return out


def _cnorm(x: np.ndarray) -> np.ndarray:
    out = x[..., 0] ** 2
    for i in range(1, x.shape[-1]):
        out = out + x[..., i] ** 2
    return np.sqrt(out)


# --------------------------------------------------------------------------------------- background
def _temporal_median(video, v: np.ndarray) -> np.ndarray:
    """Per-pixel median over time; sorting the uint8 original when there is one is faster."""
    raw = np.asarray(video)
    if raw.dtype != np.uint8:
        return np.median(v, axis=0)
    s = np.sort(raw.reshape(v.shape), axis=0)
    t_len = len(s)
    return (s[(t_len - 1) // 2].astype(np.float32) + s[t_len // 2]) / np.float32(510)


def _background(v: np.ndarray, med: np.ndarray):
    """Return (background [H,W,C], scenery mask [H,W], kind "plain" or "textured", noise level)."""
    t_len, h, w, c = v.shape
    noise = float(1.4826 * np.median(np.abs(v[::2, ::2, ::2] - med[::2, ::2]))) + 1e-4
    bg_color = np.median(med.reshape(-1, c), axis=0)
    dev = _cmax(np.abs(med - bg_color))
    # Texture is pixel-to-pixel variation; flat scenery varies only along its edges. (Texture on white
    # clips to flat white in many places, so a percentile of the variation is not enough.)
    step = _cmax(np.abs(np.diff(med, axis=1)))
    spread = float(np.percentile(step, 75))
    plain = (step > 0.01 + 4 * noise / math.sqrt(t_len)).mean() < 0.2  # texture varies almost everywhere
    scenery, steady = _scenery(v, med, dev > max(0.08, 4 * spread + 6 * noise / math.sqrt(t_len)), noise)
    if not plain:
        return _textured_background(v, med, bg_color, spread, noise), scenery, "textured", noise
    # A plain background is its colour everywhere but the scenery: whatever else was static (a ball at
    # rest, or the trail a slow ball leaves in the median) is an object, not background.
    bg = np.where(scenery[..., None], med, bg_color).astype(np.float32)
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
        a, b = bg_color, med[iy[rim], ix[rim]]  # segment ends: background colour and nearest scenery colour
        seen = v[:, rim]  # [T, R, C]
        u = np.clip(((seen - a) * (b - a)).sum(-1) / np.maximum(((b - a) ** 2).sum(-1), 1e-6), 0, 1)
        off = np.linalg.norm(seen - (a + u[..., None] * (b - a)), axis=-1) > max(0.1, 4 * noise)
        vals = np.where(off[..., None], np.nan, seen)
        bg[rim] = np.nanmedian(np.where(off.all(0)[None, :, None], a, vals), axis=0)
    return bg, scenery, "plain", noise


def _scenery(v, med, static, noise):
    """Static rectangles (occluders, tables) that persist through the clip.

    Returns (scenery mask [H, W], steady [H, W]: the fraction of frames equal to the median).
    """
    h, w = static.shape
    scenery = np.zeros((h, w), bool)
    steady = (_cmax(np.abs(v - med)) < max(0.08, 6 * noise)).mean(0)
    if not static.any():
        return scenery, steady
    # Split static structure by colour, so a ball resting against a table is not part of the table, and
    # keep only pixels that stay the same through the clip.
    colors = _palette(med[static], tol=0.15)
    if len(colors) == 0:
        colors = med[static].mean(0, keepdims=True)
    which = np.argmin([_cnorm(med - col) for col in colors], axis=0)
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


def _confident(mag: np.ndarray, threshold: float, noise: float) -> np.ndarray:
    """Pixels well above threshold at their local peak: object interiors, not anti-aliased or blurred rims,
    whose colours are blends of object and background."""
    peak = ndimage.maximum_filter(mag, size=(1, 3, 3))
    return (mag > threshold) & (mag >= peak - np.maximum(0.08 * peak, 3 * noise))


def _textured_background(v, bg, bg_color, spread, noise):
    """Temporal median that skips pixels showing an object colour (not texture-like), so an object that
    lingers for more than half the clip does not become background."""
    mag = _cnorm(v - bg)
    fg = v[_confident(mag, max(0.15, 6 * noise), noise)]
    palette = _palette(fg) if len(fg) >= 3 else np.zeros((0, v.shape[-1]))
    objects = palette[np.linalg.norm(palette - bg_color, axis=1) > max(0.3, 6 * spread)]
    if len(objects) == 0:
        return bg
    # Object-coloured pixels: only where the frame differs from the median, or the median itself has an
    # object's colour (an object that lingered), can a pixel be near an object colour.
    cand = (mag > 0.05) | (np.min([_cnorm(bg - o) for o in objects], axis=0) < 0.3)[None]
    near = np.zeros(mag.shape, bool)
    near[cand] = np.min([_cnorm(v[cand] - o) for o in objects], axis=0) < 0.25
    near = ndimage.binary_dilation(near, _PER_FRAME)  # and the anti-aliased rim around it
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


# ------------------------------------------------------------------------------------------ palette
def _palette(colors: np.ndarray, tol: float = 0.25, max_colors: int = 8) -> np.ndarray:
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
            members = _cnorm(rest - center) < tol
            center = rest[members].mean(0)
        members = _cnorm(rest - center) < tol
        if members.sum() >= min_pts:
            palette.append(center)
        rest = rest[~members]
    return np.array(palette, np.float32).reshape(-1, colors.shape[1])


# --------------------------------------------------------------------------------------- detections
@dataclasses.dataclass
class _Detections:
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


def _detect(v: np.ndarray, bg: np.ndarray, scenery: np.ndarray, noise: float):
    """Find objects in every frame; returns (_Detections, palette [K, C]).

    Only pixels in the support (hysteresis regions around strong differences) are processed further.
    """
    t_len, h, w, c = v.shape
    diff = v - bg
    mag = _cnorm(diff)
    noise_mag = float(np.median(mag[::2, ::2, ::2])) + 1e-4
    hi_thr, lo_thr = max(0.12, 6 * noise_mag), max(0.05, 3 * noise_mag)
    strong = mag > hi_thr
    confident = _confident(mag, hi_thr, noise_mag)
    # Object colours come from clearly different pixels only: codec halos and ringing stay out.
    source = confident & (mag > max(0.2, hi_thr))
    tol = 0.3 if c == 3 else 0.12  # grayscale objects differ in one number only
    palette = _palette(v[source], tol=tol) if source.sum() >= 3 else np.zeros((0, c), np.float32)
    if len(palette) == 0:
        z = np.zeros(0)
        return _Detections(z.astype(int), np.zeros((0, 2)), z, z, z.astype(int), z.astype(bool),
                           np.zeros(mag.shape, bool), z.astype(bool), z.astype(bool), z.astype(bool)), palette
    k_pal = len(palette)
    # Hysteresis: low-threshold regions holding a strong pixel, connected within a frame only. Scenery
    # connects too, so the two visible parts of a ball behind an occluder form one detection.
    low = mag > lo_thr
    near_scenery = np.broadcast_to(ndimage.binary_dilation(scenery, iterations=2), mag.shape)
    comp, n_comp = ndimage.label(low | near_scenery, _PER_FRAME)
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
    dist = np.stack([_cnorm(vs[conf_s] - col) for col in palette], axis=1)
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
    dets = _Detections(frame=frame[sel], xy=np.stack([x[sel], y[sel]], 1), radius=np.sqrt(m[sel] / np.pi),
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


# -------------------------------------------------------------------------------------------- tracking
def _link(dets: _Detections, t_len: int, size: float):
    """Frame-to-frame assignment; returns a list of dicts frame -> detection index."""
    tracks: list[dict] = []
    by_frame = [np.flatnonzero(dets.frame == t) for t in range(t_len)]
    for t in range(t_len):
        cur = by_frame[t]
        live = [k for k, tr in enumerate(tracks) if max(tr) < t]
        if len(cur) and live:
            cost = np.full((len(live), len(cur)), 1e6)
            for a, k in enumerate(live):
                tr = tracks[k]
                last = max(tr)
                gap = t - last
                # Predict from the last two frames where the object was seen whole: a sliver's centroid
                # (half behind an occluder) lags or leads its centre.
                whole = [f for f in sorted(tr) if not dets.truncated[tr[f]]]
                ref = whole if len(whole) >= 2 else sorted(tr)
                base = ref[-1]
                vel = (dets.xy[tr[base]] - dets.xy[tr[ref[-2]]]) / (base - ref[-2]) if len(ref) >= 2 else np.zeros(2)
                pred = dets.xy[tr[base]] + vel * (t - base)
                r_last = dets.radius[tr[last]]
                r_ref = max(dets.radius[tr[f]] for f in ref)
                for b, j in enumerate(cur):
                    dist = _len(dets.xy[j] - pred)
                    same = dets.color[j] == dets.color[tr[last]]
                    size_pen = abs(math.log(dets.radius[j] / r_last))
                    if gap == 1 and same:  # may jump anywhere (a teleport is then reported)
                        cost[a, b] = dist / size + size_pen
                    elif dist <= 2 * r_ref + max(0.1 * size, _len(vel)) * (1 + 0.5 * (gap - 1)):
                        cost[a, b] = dist / size + size_pen + (0.0 if same else 2.0)
            rows, cols = optimize.linear_sum_assignment(cost)
            used = set()
            for a, b in zip(rows, cols, strict=True):
                if cost[a, b] < 1e6:
                    tracks[live[a]][t] = cur[b]
                    used.add(b)
            cur = [j for b, j in enumerate(cur) if b not in used]
        for j in cur:
            tracks.append({t: j})
    return tracks


# --------------------------------------------------------------------------------------------- physics
def _segments(frames: np.ndarray, xy: np.ndarray, thr: float, ref: np.ndarray):
    """Split consecutive frames into free-flight segments: cut where the second difference jumps."""
    segs, cur = [], [0]
    for i in range(1, len(frames)):
        consecutive = frames[i] == frames[i - 1] + 1
        smooth = True
        if consecutive and len(cur) >= 2:
            a = xy[i] - 2 * xy[i - 1] + xy[i - 2]
            smooth = _len(a - ref) <= thr
        if consecutive and smooth:
            cur.append(i)
        else:
            segs.append(cur)
            cur = [i]
    segs.append(cur)
    return segs


def _fit(all_segs, fps: float, tol: float = 0.3):
    """Least squares: one (c, b) per segment and a shared acceleration a; x(t) = c + b t + a t^2.

    Segments that do not fit the shared acceleration (a ball rolling on a table is not in free flight)
    are dropped one at a time, worst first. Returns (a, [(c, b) or None per segment]).
    """
    active = [len(f) >= 2 for f, _ in all_segs]
    while True:
        idx = [s for s, ok in enumerate(active) if ok]
        if not idx:
            return None, [None] * len(all_segs)
        t = np.concatenate([all_segs[s][0] / fps for s in idx])
        owner = np.concatenate([np.full(len(all_segs[s][0]), k) for k, s in enumerate(idx)])
        a_mat = np.zeros((len(t), 1 + 2 * len(idx)))
        a_mat[:, 0] = t**2
        a_mat[np.arange(len(t)), 1 + 2 * owner] = 1.0
        a_mat[np.arange(len(t)), 2 + 2 * owner] = t
        y = np.concatenate([all_segs[s][1] for s in idx])
        coef, *_ = np.linalg.lstsq(a_mat, y, rcond=None)
        resid = np.linalg.norm(y - a_mat @ coef, axis=1)
        rms = np.array([np.sqrt(np.mean(resid[owner == k] ** 2)) for k in range(len(idx))])
        worst = int(np.argmax(rms))
        if rms[worst] <= tol or len(idx) == 1:
            out = [None] * len(all_segs)
            for k, s in enumerate(idx):
                out[s] = (coef[1 + 2 * k], coef[2 + 2 * k])
            return coef[0], out
        active[idx[worst]] = False


def physics_report(video, fps: float) -> PhysicsReport:
    """Measure the physics of a video.

    Args:
        video: ``[T, H, W, 3]`` or ``[T, H, W]``, uint8 or float in [0, 1], at least 2 frames.
        fps: frames per second, used for velocities (px/s) and gravity (px/s^2).

    Returns:
        A :class:`PhysicsReport`. Raises ``ValueError`` naming what was expected on bad input.
    """
    if not (isinstance(fps, int | float | np.number) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps={fps!r}: expected a positive number of frames per second")
    v = as_float_video(video)
    t_len, h, w, _ = v.shape
    size = float(max(h, w))
    bg, scenery, kind, noise = _background(v, _temporal_median(video, v))
    dets, palette = _detect(v, bg, scenery, noise)
    links = _link(dets, t_len, size)

    tracks = []
    for tr in links:
        centers = np.full((t_len, 2), np.nan)
        radii, elong = np.full(t_len, np.nan), np.full(t_len, np.nan)
        frames, idx = np.array(list(tr.keys())), np.array(list(tr.values()))
        centers[frames], radii[frames], elong[frames] = dets.xy[idx], dets.radius[idx], dets.elong[idx]
        trunc, contact = np.zeros(t_len, bool), np.zeros(t_len, bool)
        trunc[frames], contact[frames] = dets.truncated[idx], dets.contact[idx]
        cidx = np.bincount(dets.color[idx]).argmax()
        color = tuple(int(round(float(c) * 255)) for c in np.broadcast_to(palette[cidx], (3,)))
        tracks.append(Track(centers, radii, color, np.full((t_len, 2), np.nan), elong, trunc, contact))
    objects_per_frame = np.bincount(dets.frame, minlength=t_len).astype(int)

    # Free flight: a robust reference second difference, then segments and a shared-acceleration fit.
    seconds = []
    for tr in tracks:
        f = np.flatnonzero(tr.present & ~tr.contact)
        for i in range(2, len(f)):
            if f[i] == f[i - 2] + 2:
                seconds.append(tr.centers[f[i]] - 2 * tr.centers[f[i - 1]] + tr.centers[f[i - 2]])
    seconds = np.array(seconds).reshape(-1, 2)
    ref = np.median(seconds, axis=0) if len(seconds) else np.zeros(2)
    mad = 1.4826 * np.median(np.linalg.norm(seconds - ref, axis=1)) if len(seconds) else 0.0
    thr = max(0.35, 4 * mad)
    segs = []  # (track, frames, xy)
    for k, tr in enumerate(tracks):
        f = np.flatnonzero(tr.present & ~tr.contact)
        for s in _segments(f, tr.centers[f], thr, ref) if len(f) else []:
            segs.append((k, f[s], tr.centers[f[s]]))
    acc, coefs = _fit([(f, xy) for _, f, xy in segs], fps, tol=max(0.3, 3 * mad))
    free_frames = sum(len(f) for (_, f, _), cb in zip(segs, coefs, strict=True) if cb is not None and len(f) >= 3)
    gravity = float(2 * acc[1]) if acc is not None and free_frames >= 4 else None
    acceleration = (float(2 * acc[0]), float(2 * acc[1])) if gravity is not None else None
    fits = {}  # (track, first frame) -> (frames, c, b)
    for (k, f, _), cb in zip(segs, coefs, strict=True):
        if cb is not None:
            fits[(k, f[0])] = (f, *cb)
            tracks[k].velocities[f] = cb[1] + 2 * acc * (f / fps)[:, None]
    for tr in tracks:  # frames outside fitted segments: finite differences
        missing = np.flatnonzero(tr.present & np.isnan(tr.velocities[:, 0]))
        for f in missing:
            nb = [g for g in (f - 1, f + 1) if 0 <= g < t_len and tr.present[g]]
            if nb:
                g = nb[-1]
                tr.velocities[f] = (tr.centers[g] - tr.centers[f]) * fps * (1 if g > f else -1)

    bounces, collisions = _contacts(tracks, fits, acc, fps, size)
    events = _events(tracks, links, dets, scenery, acc if gravity is not None else None, fps, (h, w))
    background_px = ~ndimage.binary_dilation(dets.masks.any(0), iterations=2)
    steps = np.abs(np.diff(v, axis=0))[:, background_px]
    flicker = float(1 - steps.mean()) if steps.size else 1.0
    return PhysicsReport(fps=float(fps), objects_per_frame=objects_per_frame, tracks=tracks,
                         gravity_px_s2=gravity, acceleration_px_s2=acceleration, free_flight_frames=free_frames,
                         events=events, bounces=bounces, collisions=collisions, flicker=flicker,
                         background=kind, noise_level=noise)


def _contacts(tracks, fits, acc, fps, size):
    """Bounces (one track changes velocity alone) and collisions (two tracks at once, close together)."""
    if acc is None:
        return [], []
    changes = []  # (track, contact time, v_before, v_after)
    for k in range(len(tracks)):
        mine = sorted((f0, val) for (kk, f0), val in fits.items() if kk == k)
        for (_, (f1, c1, b1)), (_, (f2, c2, b2)) in zip(mine, mine[1:], strict=False):
            if f2[0] - f1[-1] > 6:  # objects may stay in contact for a few frames (inelastic collisions)
                continue
            t_mid = (f1[-1] + f2[0]) / 2 / fps
            dv = (b2 - b1)
            if _len(dv) < 1e-6:
                continue
            n = dv / _len(dv)
            denom = n @ (b1 - b2)
            t_c = -(n @ (c1 - c2)) / denom if abs(denom) > 1e-9 else t_mid
            t_c = float(np.clip(t_c, f1[-1] / fps, f2[0] / fps))
            changes.append((k, t_c, b1 + 2 * acc * t_c, b2 + 2 * acc * t_c, n))
    bounces, collisions, used = [], [], set()
    for i, (k1, t1, vb1, va1, _) in enumerate(changes):
        for j, (k2, t2, vb2, va2, _) in enumerate(changes):
            if j <= i or k1 == k2 or abs(t1 - t2) * fps > 1.5:
                continue
            tc = (t1 + t2) / 2
            p1 = _position_at(tracks[k1], tc, fps)
            p2 = _position_at(tracks[k2], tc, fps)
            r1, r2 = np.nanmedian(tracks[k1].radii), np.nanmedian(tracks[k2].radii)
            if _len(p1 - p2) > r1 + r2 + max(2.0, 0.05 * size):
                continue
            m1, m2 = r1**2 * np.pi, r2**2 * np.pi
            collisions.append(Collision(
                time_s=tc, tracks=(k1, k2),
                momentum_before=tuple((m1 * vb1 + m2 * vb2).tolist()),
                momentum_after=tuple((m1 * va1 + m2 * va2).tolist()),
                energy_before=float(0.5 * (m1 * vb1 @ vb1 + m2 * vb2 @ vb2)),
                energy_after=float(0.5 * (m1 * va1 @ va1 + m2 * va2 @ va2)),
                momentum_scale=float(m1 * _len(vb1) + m2 * _len(vb2))))
            used |= {i, j}
    for i, (k, t_c, vb, va, n) in enumerate(changes):
        before, after = -(vb @ n), va @ n
        if i in used or before <= 0:
            continue
        bounces.append(Bounce(track=k, time_s=t_c, restitution=float(after / before),
                              normal=(float(n[0]), float(n[1])), speed_before=float(before)))
    return bounces, collisions


def _position_at(track: Track, t_s: float, fps: float) -> np.ndarray:
    f = np.flatnonzero(track.present)
    return np.array([np.interp(t_s * fps, f, track.centers[f, d]) for d in range(2)])


def _events(tracks, links, dets, scenery, acc, fps, shape):
    h, w = shape
    events = []
    to_scenery = ndimage.distance_transform_edt(~scenery) if scenery.any() else np.full(scenery.shape, np.inf)
    gravity_step = (acc * 2 / fps**2) if acc is not None else np.zeros(2)  # per-frame acceleration, px
    hidden_under = set()  # (frame, hidden track, covering track)

    def explained(k: int, t: int, pred: np.ndarray, r: float, cut: bool = False) -> bool:
        """Can absence at frame t be explained? ``cut``: last seen partly out of the frame."""
        x, y = pred
        # A ball seen whole needs its centre half a radius past the edge to be mostly out of view; one
        # already cut by the edge may be gone while its centre is still a radius inside.
        margin = -r if cut else 0.5 * r
        if x < -margin or y < -margin or x > w - 1 + margin or y > h - 1 + margin:
            return True  # left the frame
        xi, yi = int(round(min(max(x, 0), w - 1))), int(round(min(max(y, 0), h - 1)))
        if to_scenery[yi, xi] <= r:
            return True  # behind scenery: predicted within a radius of it
        for j, other in enumerate(tracks):  # hidden by or merged with another object (not by a sliver)
            if j == k or not other.present[t] or other.truncated[t] or other.radii[t] < 0.5 * r:
                continue
            if _len(other.centers[t] - pred) < other.radii[t] + 0.5 * r:
                hidden_under.add((t, k, j))
                return True
        return False

    for k, tr in enumerate(tracks):
        f = np.flatnonzero(tr.present)
        first = f[0]
        r_ref = float(np.nanmedian(tr.radii))
        if tr.truncated[f].all():
            continue  # never seen whole (a sliver beside an occluder or at the frame edge): no evidence
        # appear: a start inside the frame, in the open
        if first > 0 and not tr.truncated[first]:
            back = tr.centers[first] - (tr.velocities[first] / fps if np.isfinite(tr.velocities[first, 0]) else 0)
            if not explained(k, first, back, r_ref, cut=True):
                events.append(Event("appear", int(first), k))
        # vanish: absent while its prediction is in plain view (after its last sighting or in a gap)
        for i, t0 in enumerate(f):
            t1 = f[i + 1] if i + 1 < len(f) else len(tr.present)
            if t1 - t0 <= 1:
                continue
            prev = f[i - 1] if i > 0 else None
            vel = (tr.centers[t0] - tr.centers[prev]) / (t0 - prev) if prev is not None else np.zeros(2)
            cut = bool(dets.on_edge[links[k][t0]])
            for t in range(t0 + 1, t1):
                dt = t - t0
                pred = tr.centers[t0] + vel * dt + 0.5 * gravity_step * dt * (dt + 1)
                if explained(k, t, pred, r_ref, cut):
                    break  # out of frame or out of sight: later absence is not a failure
                events.append(Event("vanish", int(t), k))
                if t1 < len(tr.present):
                    events.append(Event("appear", int(t1), k, detail="reappeared"))
                break
        # teleport: a jump far larger than the steps around it. With four clean frames the signature is two
        # large second differences of opposite sign (a bounce gives one sign); with three, the jump must be
        # several times the neighbouring step.
        xy = tr.centers
        thr = max(1.5 * r_ref, 0.06 * max(h, w), 2.0)
        clean = tr.present & ~tr.truncated  # a part-hidden object's centroid is not its centre
        for t in range(1, len(xy)):
            if not (clean[t] and clean[t - 1]):
                continue
            step = _len(xy[t] - xy[t - 1])
            before = t >= 2 and clean[t - 2]
            after = t + 1 < len(xy) and clean[t + 1]
            if before and after:
                a1, a2 = xy[t] - 2 * xy[t - 1] + xy[t - 2], xy[t + 1] - 2 * xy[t] + xy[t - 1]
                jump = min(_len(a1), _len(a2)) > thr and a1 @ a2 < -0.5 * _len(a1) * _len(a2)
            elif before or after:
                other = _len(xy[t - 1] - xy[t - 2]) if before else _len(xy[t + 1] - xy[t])
                jump = step > max(thr, 3 * other)
            else:
                jump = False
            if jump:
                events.append(Event("teleport", int(t), k, detail=f"jump {step:.1f} px"))
        # morph: a size or shape change, on detections neither cut nor overlapping another object
        touching = np.zeros(len(tr.present), bool)
        touching[list(links[k])] = dets.touching[list(links[k].values())]
        ok = np.flatnonzero(tr.present & ~tr.truncated)
        ref_r, ref_e = None, None
        for t in ok:
            if ref_r is not None:
                ratio = tr.radii[t] / ref_r
                if touching[t]:  # another object may cover part of it: it can only look smaller, or odd
                    changed = ratio > 1.25
                else:
                    changed = abs(ratio - 1) > 0.25 or (tr.elongation[t] > 1.4 and ref_e < 1.2)
                if changed:
                    events.append(Event("morph", int(t), k, detail=f"radius x{ratio:.2f}"))
                    ref_r, ref_e = tr.radii[t], tr.elongation[t]
                    continue
            if touching[t] and ref_r is not None:
                continue  # keep the reference from frames seen alone
            ref_r = tr.radii[t] if ref_r is None else 0.7 * ref_r + 0.3 * tr.radii[t]
            ref_e = tr.elongation[t] if ref_e is None else ref_e
    # color_change: a track linked across palette colours
    for k, tr in enumerate(tracks):
        f = np.flatnonzero(tr.present & ~tr.truncated)  # a sliver's colour is a blend: not evidence
        seq = [int(dets.color[links[k][t]]) for t in f]
        for i in range(1, len(f)):
            if seq[i] != seq[i - 1]:
                events.append(Event("color_change", int(f[i]), k))
    # interpenetration: two objects overlapping (their usual sizes, since the overlap hides part of one),
    # or one hidden under another
    for i in range(len(tracks)):
        for j in range(i + 1, len(tracks)):
            a, b = tracks[i], tracks[j]
            ra, rb = np.nanmedian(a.radii), np.nanmedian(b.radii)
            tol = max(1.0, 0.25 * min(ra, rb))
            for t in range(len(a.present)):
                if a.present[t] and b.present[t]:
                    seen_whole = not (a.truncated[t] or b.truncated[t])
                    overlap = seen_whole and _len(a.centers[t] - b.centers[t]) < ra + rb - tol
                else:
                    overlap = (t, i, j) in hidden_under or (t, j, i) in hidden_under
                if overlap:
                    events.append(Event("interpenetration", t, i, other=j))
                    break
    return sorted(events, key=lambda e: (e.frame, e.track, e.kind))

