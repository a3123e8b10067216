"""Breaking clips on purpose: vanish, teleport, morph, colour change, wrong gravity, interpenetration."""

from __future__ import annotations

import dataclasses

import numpy as np

from vidlab.world.clip import Clip, Injected
from vidlab.world.clips import cut, simulate
from vidlab.world.params import COLORS, DEFAULTS, WORLD_SIZE
from vidlab.world.render import background_image, render

INJECTIONS = ("vanish", "teleport", "morph", "color_change", "gravity", "interpenetration")


def rerender(clip: Clip, centers=None, radii=None, colors=None, visible=None, background=None) -> Clip:
    """The same clip (scene, background, scenery) drawn with other per-frame centres, radii, colours or
    visibility, e.g. a baseline's guess of where the balls go. Arrays are [T, N, ...] like the clip's own.

    ``background``: float [H, W, 3] in [0, 1] drawn instead of the clip's own (what the probes estimated from
    generated frames, say, when the truth's backdrop must not be used); the clip's scenery is still drawn.
    """
    t_len = len(centers) if centers is not None else len(clip.centers)

    def pick(new, old):  # the given array, or the clip's own cut or extended (last frame held) to t_len
        if new is not None:
            return np.asarray(new)
        if len(old) >= t_len:
            return old[:t_len]
        return np.concatenate([old, np.repeat(old[-1:], t_len - len(old), axis=0)])

    out = _rerender(clip, pick(centers, clip.centers), pick(radii, clip.radii), pick(colors, clip.colors),
                    pick(visible, np.ones_like(clip.visible)), [], background)
    return dataclasses.replace(out, velocities=np.full(out.centers.shape, np.nan))


def _rerender(clip: Clip, centers, radii, colors, visible_mask, injected, background=None) -> Clip:
    p = clip.params
    bg = background_image(p, clip.seed) if background is None else np.asarray(background, np.float32)
    video, frac = render(centers, radii, colors, visible_mask, p["size"], bg, clip.scenery)
    return dataclasses.replace(clip, video=video, centers=centers, radii=radii, colors=colors,
                               visible=(frac >= 0.5) & visible_mask, visible_fraction=frac * visible_mask,
                               injected=clip.injected + injected)


def inject(clip: Clip, kind: str, frame: int | None = None, obj: int = 0, seed: int = 0, factor=None) -> Clip:
    """Return a broken copy of ``clip`` with one known physics failure, recorded in ``clip.injected``.

    kinds: "vanish" (object gone from ``frame`` on), "teleport" (jumps at least a quarter of the frame
    and carries on from there), "morph" (radius times ``factor``, default 0.5 or 1.7), "color_change",
    "gravity" (re-simulated with gravity times ``factor``, default 0.6, while ``params['gravity']`` keeps
    the claimed value), "interpenetration" (re-simulated with collisions off: balls pass through).
    """
    if kind not in INJECTIONS:
        raise ValueError(f"unknown injection {kind!r}; expected one of {INJECTIONS}")
    t_len, n = clip.radii.shape
    if not 0 <= obj < n:
        raise ValueError(f"obj={obj}: this clip has {n} object(s)")
    rng = np.random.default_rng(seed)
    if kind in ("gravity", "interpenetration"):
        return _resimulate(clip, kind, factor)
    if frame is None:
        frame = int(rng.integers(2, max(3, t_len - 2)))
    if not 1 <= frame < t_len:
        raise ValueError(f"frame={frame}: expected 1 to {t_len - 1} for a {t_len}-frame clip")
    centers, radii, colors = clip.centers.copy(), clip.radii.copy(), clip.colors.copy()
    mask = np.ones_like(clip.visible)
    size = clip.params["size"]
    if kind == "vanish":
        mask[frame:, obj] = False
    elif kind == "morph":
        f = factor or (0.5 if rng.random() < 0.5 else 1.7)
        radii[frame:, obj] *= f
    elif kind == "color_change":
        old = tuple(colors[frame, obj])
        choices = [c for c in COLORS.values() if c != old and c not in map(tuple, colors[frame])]
        colors[frame:, obj] = choices[rng.integers(len(choices))]
    else:  # teleport
        r = radii[frame, obj]
        best, best_score = None, -1
        for _ in range(200):
            target = rng.uniform(r + 1, size - r - 2, 2)
            shift = target - centers[frame, obj]
            if np.hypot(*shift) < max(3 * r, 0.25 * size):
                continue
            moved = centers[frame:, obj] + shift
            inside = np.all((moved >= r) & (moved <= size - 1 - r), axis=1)
            score = int(inside[:2].all()) * 1000 + inside.sum()
            if score > best_score:
                best, best_score = shift, score
        if best is None or best_score < 1000:
            raise ValueError(f"teleport at frame {frame}: no jump of at least a quarter frame keeps the ball in view")
        centers[frame:, obj] += best
    return _rerender(clip, centers, radii, colors, mask, [Injected(kind, frame, obj)])


def _resimulate(clip: Clip, kind: str, factor) -> Clip:
    p = {k: clip.params[k] for k in DEFAULTS}
    start = clip.params.get("window_start", 0)  # a window cut from a longer simulation (vidlab.world.spec)
    if kind == "gravity":
        if clip.params["gravity_sim"] == 0:
            raise ValueError(f"scenario {clip.scenario!r} has no gravity to get wrong; use projectile or table")
        p["gravity"] = clip.params["gravity"] * (0.6 if factor is None else factor)
        p["num_frames"] = clip.params.get("simulate_frames", p["num_frames"])  # a window: its whole simulation
        broken = simulate(clip.scenario, clip.seed, **p)
        if start:
            broken = cut(broken, start, len(clip.video))
        broken.params["gravity"] = clip.params["gravity"]  # the claimed value stays
        broken.injected = clip.injected + [Injected("gravity", 0, 0)]
        return broken
    if clip.num_objects < 2:
        raise ValueError("interpenetration needs two balls: use the 'collision' scenario")
    # Same start, no contacts: each ball keeps its straight path through the other.
    init = clip.params["init"]
    scale = p["size"] / WORLD_SIZE
    t = (start + np.arange(clip.radii.shape[0])) / clip.fps
    pos = np.stack([np.array(b["pos"]) + np.outer(t, b["vel"]) for b in init], axis=1)
    centers = pos * scale - 0.5
    d = np.linalg.norm(centers[:, 0] - centers[:, 1], axis=1)
    overlap = np.flatnonzero(d < clip.radii[:, 0] + clip.radii[:, 1] - 1.0)
    frame = int(overlap[0]) if len(overlap) else clip.radii.shape[0] - 1
    broken = _rerender(clip, centers, clip.radii.copy(), clip.colors.copy(), np.ones_like(clip.visible),
                       [Injected("interpenetration", frame, 0)])
    broken.velocities = np.broadcast_to(np.array([b["vel"] for b in init]) * scale, clip.velocities.shape).copy()
    return broken
