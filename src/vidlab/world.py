"""A 2-D physics world whose ground truth is known exactly.

Contacts (bounces, collisions) come from pymunk, stepped in small substeps. Free flight is exact: the
engine integrates with semi-implicit Euler, and every ball starts with a half-step velocity offset
(leapfrog start), so positions at every substep equal the closed-form parabola ``x0 + v0 t + g t^2 / 2``.

Units. The world is ``WORLD_SIZE`` = 10 units across (as in Kang et al. 2024); parameters such as
``gravity`` (units/s^2), ``speed`` (units/s) and ``radius`` (units) are in world units. Everything a clip
returns is in pixels: x to the right, y down, pixel (row 0, col 0) centred at (0, 0), numpy's index
convention, which ``vidlab.probes`` uses too.

Stable entry point::

    clip = simulate(scenario, seed, **params)   # scenario in SCENARIOS
    clip.video    # uint8 [T, H, W, 3]
    clip.centers  # float [T, n_objects, 2] (x, y) px
    clip.radii    # float [T, n_objects] px
    clip.visible  # bool [T, n_objects]
    clip.fps, clip.caption, clip.params
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pymunk

from vidlab.pixels import degrade  # noqa: F401  (world.degrade: camera and codec effects on a clip)

WORLD_SIZE = 10.0
# The one split of seeds: training draws seeds from here up, held-out sets (vidlab.evaluate) lie below.
TRAIN_SEED_BASE = 10_000_000
SCENARIOS = ("uniform", "projectile", "collision", "occlusion", "table")
COLORS = {
    "red": (255, 0, 0),
    "blue": (0, 0, 255),
    "green": (0, 170, 0),
    "orange": (255, 140, 0),
    "purple": (140, 0, 200),
    "black": (0, 0, 0),
}
SCENERY_COLORS = {"occluder": (110, 110, 110), "table": (150, 100, 60)}

# Ranges modelled on Kang et al. 2024, arXiv 2411.02385 (the README's references): speeds in units/s, radii in units.
ID_SPEED = ((1.0, 4.0),)
OOD_SPEED = ((0.0, 0.8), (4.5, 6.0))
ID_RADIUS = ((0.7, 1.4),)
ID_RADIUS_COLLISION = ((0.5, 1.5),)
OOD_RADIUS = ((0.3, 0.6), (1.5, 2.0))
SLOW, FAST = ((1.0, 2.0),), ((3.0, 4.0),)
SPLITS = {
    "id": {},
    "ood_speed": {"speed_range": OOD_SPEED},
    "ood_radius": {"radius_range": OOD_RADIUS},
    # Colour-velocity coupling: train red-slow / blue-fast, test the swap.
    "coupled_train": {"color_speed": {"red": SLOW, "blue": FAST}},
    "coupled_swap": {"color_speed": {"red": FAST, "blue": SLOW}},
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
    "restitution": None,  # None = 0.8 for bounces, 1.0 (elastic) for collisions
    "background": "plain",  # "plain" or "noise"
    "background_color": None,  # None = white (plain) or light grey (noise)
    "noise_amplitude": 0.12,  # texture amplitude for background="noise", fraction of full scale
    "substeps": None,  # physics substeps per frame; None = enough for dt <= 10 ms
}


@dataclasses.dataclass
class Injected:
    """A failure deliberately put into a clip by :func:`inject`: its kind, first frame and object."""

    kind: str
    frame: int
    obj: int


@dataclasses.dataclass
class Clip:
    """One rendered clip with per-frame ground truth for every object (pixels, seconds)."""

    video: np.ndarray  # uint8 [T, H, W, 3]
    centers: np.ndarray  # float [T, N, 2] (x, y) px
    velocities: np.ndarray  # float [T, N, 2] px/s
    radii: np.ndarray  # float [T, N] px
    colors: np.ndarray  # uint8 [T, N, 3]
    visible: np.ndarray  # bool [T, N]: at least half the disc is in view
    visible_fraction: np.ndarray  # float [T, N]: fraction of the disc in view (frame edges, occluders)
    fps: float
    caption: str
    params: dict
    scenario: str
    seed: int
    scenery: list  # [(kind, x0, y0, x1, y1, in_front)] rectangles in px
    contacts: list  # [(time_s, obj, other)] other = object index or a wall name
    injected: list = dataclasses.field(default_factory=list)  # [Injected] for broken clips

    @property
    def gravity_px_s2(self) -> float:
        """The gravity this clip was simulated with, in px/s^2 (0 for scenarios without gravity)."""
        return float(self.params["gravity_sim"]) * self.params["size"] / WORLD_SIZE

    @property
    def num_objects(self) -> int:
        return self.centers.shape[1]

    def __repr__(self) -> str:
        t, h, w, _ = self.video.shape
        return f"Clip({self.scenario!r}, seed={self.seed}, video=[{t},{h},{w},3], caption={self.caption!r})"


# ----------------------------------------------------------------------------------------- parameters
def _check_params(scenario: str, params: dict) -> dict:
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
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


def _draw(rng: np.random.Generator, ranges) -> float:
    """Draw uniformly from a union of intervals (weighted by length)."""
    ivs = _ranges(ranges)
    widths = np.array([hi - lo for lo, hi in ivs])
    k = rng.choice(len(ivs), p=widths / widths.sum()) if widths.sum() > 0 else 0
    lo, hi = ivs[k]
    return float(rng.uniform(lo, hi))


def _rgb(color) -> tuple:
    if isinstance(color, str):
        if color not in COLORS:
            raise ValueError(f"color={color!r}: expected one of {sorted(COLORS)} or an (r, g, b) tuple")
        return COLORS[color]
    rgb = tuple(int(c) for c in color)
    if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
        raise ValueError(f"color={color!r}: expected (r, g, b) with values 0-255")
    return rgb


def _color_name(rgb) -> str:
    for name, val in COLORS.items():
        if tuple(val) == tuple(rgb):
            return name
    return "colored"


# ---------------------------------------------------------------------------------------------- physics
class _Sim:
    """Thin wrapper over a pymunk space in world units (y down)."""

    def __init__(self, gravity: float, dt: float):
        self.space = pymunk.Space()
        self.space.gravity = (0.0, gravity)
        self.space.collision_slop = 1e-4
        self.gravity = gravity
        self.dt = dt
        self.balls: list[pymunk.Body] = []
        self.walls: dict[pymunk.Shape, str] = {}

    def add_box(self, names=("floor", "left wall", "right wall", "ceiling")):
        s = WORLD_SIZE
        segs = {"floor": ((0, s), (s, s)), "left wall": ((0, 0), (0, s)), "right wall": ((s, 0), (s, s)),
                "ceiling": ((0, 0), (s, 0))}
        for name in names:
            self.add_static(pymunk.Segment(self.space.static_body, *segs[name], 0.0), name)

    def add_static(self, shape: pymunk.Shape, name: str):
        shape.elasticity, shape.friction = 1.0, 0.0
        self.space.add(shape)
        self.walls[shape] = name

    def add_ball(self, pos, vel, radius, restitution) -> pymunk.Body:
        body = pymunk.Body(math.pi * radius**2, float("inf"))  # mass ~ area, no spin
        body.position = pos
        # Leapfrog start: pymunk moves x by v*dt then adds g*dt to v, so a half-step offset makes
        # positions equal the analytic parabola at every substep.
        body.velocity = (vel[0], vel[1] + 0.5 * self.gravity * self.dt)
        shape = pymunk.Circle(body, radius)
        shape.elasticity, shape.friction = restitution, 0.0
        self.space.add(body, shape)
        self.balls.append(body)
        return body

    def state(self):
        pos = np.array([b.position for b in self.balls])
        vel = np.array([b.velocity for b in self.balls])
        vel[:, 1] -= 0.5 * self.gravity * self.dt  # undo the half-step offset: the true velocity
        return pos, vel

    def run(self, num_frames: int, substeps: int):
        """Step the world; return positions and velocities per frame, and the contacts seen."""
        n = len(self.balls)
        pos = np.zeros((num_frames, n, 2))
        vel = np.zeros((num_frames, n, 2))
        contacts, clock = [], [0]
        index = {b: i for i, b in enumerate(self.balls)}

        def begin(arbiter, space, data):
            # Record impacts only (normal speed above 0.3 units/s), not resting or sliding contact.
            a, b = arbiter.shapes
            rel = a.body.velocity - b.body.velocity
            if abs(rel.dot(arbiter.normal)) > 0.3:
                names = [index.get(s.body, self.walls.get(s)) for s in (a, b)]
                i, other = (names if isinstance(names[0], int) else names[::-1])
                contacts.append((clock[0] * self.dt, i, other))

        self.space.on_collision(begin=begin)
        for f in range(num_frames):
            if f:
                for _ in range(substeps):
                    self.space.step(self.dt)
                    clock[0] += 1
            pos[f], vel[f] = self.state()
        return pos, vel, contacts


# ------------------------------------------------------------------------------------------- rendering
def _background(p: dict, rng: np.random.Generator) -> np.ndarray:
    size = p["size"]
    if p["background"] == "plain":
        color = np.array(_rgb(p["background_color"] or (255, 255, 255)), float) / 255
        return np.broadcast_to(color, (size, size, 3)).copy()
    color = np.array(_rgb(p["background_color"] or (200, 200, 200)), float) / 255
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
        cov = _rect_mask(rect, size)[..., None]
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


# ------------------------------------------------------------------------------------------- scenarios
def _speed_for(p, rng, color_name):
    if p["speed"] is not None:
        return float(p["speed"])
    if p["color_speed"] is not None:
        return _draw(rng, p["color_speed"][color_name])
    return _draw(rng, p["speed_range"])


def _radius_for(p, rng, scenario):
    if p["radius"] is not None:
        return float(p["radius"])
    default = ID_RADIUS_COLLISION if scenario == "collision" else ID_RADIUS
    return _draw(rng, p["radius_range"] or default)


def _ball_color(p, rng, k=0):
    if p["color"] is not None:
        return _rgb(p["color"])
    if p["color_speed"] is not None:
        return _rgb(rng.choice(sorted(p["color_speed"])))
    return COLORS[("red", "blue")[k]]


def _size_word(r):
    return "small" if r < 0.8 else ("large" if r > 1.3 else "medium-sized")


def _speed_word(v):
    return "slowly" if v < 1.5 else ("quickly" if v > 3.0 else "steadily")


def _direction(vx, vy):
    ang = math.degrees(math.atan2(-vy, vx)) % 360
    names = ["right", "up and to the right", "up", "up and to the left", "left", "down and to the left",
             "down", "down and to the right"]
    return names[int(((ang + 22.5) % 360) // 45)]


_COUNT = {0: "never bounces", 1: "bounces once", 2: "bounces twice"}


def _scene(scenario: str, p: dict, rng: np.random.Generator):
    """Initial conditions: (balls [(pos, vel, radius, rgb)], walls, scenery rects in world units, gravity)."""
    duration = p["num_frames"] / p["fps"]
    s = WORLD_SIZE
    if scenario == "uniform":
        rgb = _ball_color(p, rng)
        r, v = _radius_for(p, rng, scenario), _speed_for(p, rng, _color_name(rgb))
        ang = rng.uniform(0, 2 * math.pi)
        vel = np.array([math.cos(ang), math.sin(ang)]) * v
        travel = vel * duration
        # Start where the whole path stays in the frame when it fits; otherwise centre the path.
        lo = np.maximum(r, r - np.minimum(travel, 0))
        hi = np.minimum(s - r, s - r - np.maximum(travel, 0))
        pos = np.where(lo <= hi, rng.uniform(np.minimum(lo, hi), np.maximum(lo, hi)), s / 2 - travel / 2)
        return [(pos, vel, r, rgb)], (), [], 0.0
    if scenario == "projectile":
        rgb = _ball_color(p, rng)
        r, v = _radius_for(p, rng, scenario), _speed_for(p, rng, _color_name(rgb))
        right = rng.random() < 0.5
        x = rng.uniform(r + 0.2, s * 0.35) if right else rng.uniform(s * 0.65, s - r - 0.2)
        pos = np.array([x, rng.uniform(r + 0.5, s * 0.5)])
        vel = np.array([v if right else -v, -rng.uniform(0, 0.5 * v)])
        return [(pos, vel, r, rgb)], ("floor", "left wall", "right wall", "ceiling"), [], p["gravity"]
    if scenario == "collision":
        balls = []
        y = rng.uniform(3.5, 6.5)
        meet_t = duration * rng.uniform(0.35, 0.6)
        meet_x = rng.uniform(4.0, 6.0)
        for k, side in enumerate((-1, 1)):
            rgb = _ball_color(p, rng, k) if p["color"] is None else _rgb(p["color"])
            r, v = _radius_for(p, rng, scenario), _speed_for(p, rng, _color_name(rgb))
            vel = np.array([-side * v, 0.0])
            # Place each ball so that the pair touches at meet_t (with a small vertical offset).
            pos = np.array([meet_x + side * r - vel[0] * meet_t, y + side * rng.uniform(0, 0.3) * r])
            balls.append((pos, vel, r, rgb))
        return balls, (), [], 0.0
    if scenario == "occlusion":
        rgb = _ball_color(p, rng)
        r, v = _radius_for(p, rng, scenario), _speed_for(p, rng, _color_name(rgb))
        span = (p["num_frames"] - 1) / p["fps"]
        # The wall is a little wider than the ball, and the ball is at least fast enough to start and end
        # in full view: speeds below (4 r + 0.6) / duration are raised to that (recorded in params).
        width = 2 * r + 0.2
        v = max(v, (2 * r + width + 0.4) / span)
        vel = np.array([v, 0.0]) * (1 if rng.random() < 0.5 else -1)
        centre = rng.uniform(4.0, 6.0)
        pos = np.array([centre - vel[0] * span / 2, rng.uniform(r + 1.0, s - r - 1.0)])
        rect = ("occluder", centre - width / 2, 1.0, centre + width / 2, s - 1.0, True)
        return [(pos, vel, r, rgb)], (), [rect], 0.0
    # table: slide along a table top, fall off the edge, bounce on the floor
    rgb = _ball_color(p, rng)
    r, v = _radius_for(p, rng, scenario), _speed_for(p, rng, _color_name(rgb))
    top = rng.uniform(4.5, 6.5)
    edge = rng.uniform(3.5, 5.5)
    pos = np.array([max(r + 0.1, edge - v * duration * rng.uniform(0.15, 0.35)), top - r])
    rect = ("table", 0.0, top, edge, s, False)
    return [(pos, np.array([v, 0.0]), r, rgb)], ("floor", "left wall", "right wall", "ceiling"), [rect], \
        p["gravity"]


def _caption(scenario, balls, contacts):
    (pos, vel, r, rgb) = balls[0]
    ball = f"a {_size_word(r)} {_color_name(rgb)} ball"
    hits = [c for c in contacts if c[1] == 0]
    if scenario == "uniform":
        return f"{ball} moves {_speed_word(np.hypot(*vel))} {_direction(*vel)}"
    if scenario == "projectile":
        n = sum(1 for c in hits if isinstance(c[2], str))
        bounces = _COUNT.get(n, f"bounces {n} times")
        return f"{ball} is thrown to the {'right' if vel[0] > 0 else 'left'} and {bounces}"
    if scenario == "collision":
        other = f"a {_size_word(balls[1][2])} {_color_name(balls[1][3])} ball"
        met = any(isinstance(c[2], int) for c in contacts)
        return f"{ball} and {other} roll toward each other" + (" and collide" if met else " and miss")
    if scenario == "occlusion":
        return f"{ball} moves {_speed_word(abs(vel[0]))} to the {'right' if vel[0] > 0 else 'left'} " \
               "and passes behind a gray wall"
    falls = any(c[2] == "floor" for c in hits)
    return f"{ball} rolls off a table" + (" and bounces on the floor" if falls else " and falls")


def caption_vocabulary() -> list:
    """Every word the caption templates can produce (the prompts a text-conditioned model can understand)."""
    fixed = ("a ball moves is thrown to the right left and bounces never once twice times roll toward each other "
             "collide miss passes behind gray wall rolls off table falls on floor up down small medium sized large "
             "slowly steadily quickly colored")
    return sorted(set(fixed.split()) | set(COLORS) | {str(n) for n in range(3, 40)})


def simulate(scenario: str, seed: int, **params) -> Clip:
    """Simulate and render one clip; the seed determines everything.

    Args:
        scenario: one of ``SCENARIOS``: "uniform", "projectile", "collision", "occlusion", "table".
        seed: integer seed for a ``numpy.random.Generator``.
        **params: overrides of ``DEFAULTS`` (size, num_frames, fps, gravity, radius, speed, color,
            restitution, background, ...). Ranges accept (lo, hi) or several intervals.

    Returns:
        A :class:`Clip` with the uint8 video and per-frame ground truth in pixels.
    """
    p = _check_params(scenario, params)
    rng = np.random.default_rng(seed)
    substeps = int(p["substeps"] or math.ceil(100 / p["fps"]))
    dt = 1.0 / (p["fps"] * substeps)
    balls, walls, scenery, gravity = _scene(scenario, p, rng)
    default_e = 1.0 if scenario == "collision" else 0.8
    e = default_e if p["restitution"] is None else p["restitution"]
    sim = _Sim(gravity, dt)
    sim.add_box(walls)
    for kind, x0, y0, x1, y1, _ in scenery:
        if kind == "table":
            sim.add_static(pymunk.Poly(sim.space.static_body, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]), "table")
    # pymunk multiplies the two shapes' elasticities: walls are 1, and two balls get sqrt(e) each.
    e_ball = math.sqrt(e) if scenario == "collision" else e
    for pos, vel, r, _ in balls:
        sim.add_ball(tuple(pos), tuple(vel), r, e_ball)
    pos, vel, contacts = sim.run(p["num_frames"], substeps)

    scale = p["size"] / WORLD_SIZE
    t_len, n = pos.shape[:2]
    centers = pos * scale - 0.5  # world [0, 10] spans the frame's edges [-0.5, size - 0.5] px
    radii = np.broadcast_to(np.array([b[2] for b in balls]) * scale, (t_len, n)).copy()
    colors = np.broadcast_to(np.array([b[3] for b in balls], np.uint8), (t_len, n, 3)).copy()
    rects = [(k, x0 * scale - 0.5, y0 * scale - 0.5, x1 * scale - 0.5, y1 * scale - 0.5, front)
             for k, x0, y0, x1, y1, front in scenery]
    bg = _background(p, rng)
    video, frac = render(centers, radii, colors, np.ones((t_len, n), bool), p["size"], bg, rects)
    info = {**p, "scenario": scenario, "seed": seed, "gravity_sim": gravity, "restitution_sim": e,
            "substeps": substeps, "init": [{"pos": b[0].tolist(), "vel": b[1].tolist(), "radius": b[2],
                                            "color": list(b[3])} for b in balls]}
    return Clip(video=video, centers=centers, velocities=vel * scale, radii=radii, colors=colors,
                visible=frac >= 0.5, visible_fraction=frac, fps=float(p["fps"]),
                caption=_caption(scenario, balls, contacts), params=info, scenario=scenario,
                seed=int(seed), scenery=rects, contacts=contacts, injected=[])


# ---------------------------------------------------------------------------------------------- splits
def dataset(scenario: str, split: str = "id", seeds: Iterable[int] = range(100), **params) -> list[Clip]:
    """Clips of one scenario from a named split (see ``SPLITS``), one per seed.

    Splits follow Kang et al. 2024: "id" (speed 1-4, radius 0.7-1.4 units), "ood_speed" (0-0.8 or
    4.5-6), "ood_radius" (0.3-0.6 or 1.5-2), and the colour-velocity coupling "coupled_train"
    (red slow, blue fast) with its swap "coupled_swap".
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(SPLITS)}")
    return [simulate(scenario, int(s), **{**SPLITS[split], **params}) for s in seeds]


# -------------------------------------------------------------------------------------------- breaking
INJECTIONS = ("vanish", "teleport", "morph", "color_change", "gravity", "interpenetration")


def rerender(clip: Clip, centers=None, radii=None, colors=None, visible=None) -> Clip:
    """The same clip (scene, background, scenery) drawn with other per-frame centres, radii, colours or
    visibility, e.g. a baseline's guess of where the balls go. Arrays are [T, N, ...] like the clip's own."""
    t_len = len(centers) if centers is not None else len(clip.centers)

    def pick(new, old):  # the given array, or the clip's own cut or extended (last frame held) to t_len
        if new is not None:
            return np.asarray(new)
        if len(old) >= t_len:
            return old[:t_len]
        return np.concatenate([old, np.repeat(old[-1:], t_len - len(old), axis=0)])

    out = _rerender(clip, pick(centers, clip.centers), pick(radii, clip.radii), pick(colors, clip.colors),
                    pick(visible, np.ones_like(clip.visible)), [])
    return dataclasses.replace(out, velocities=np.full(out.centers.shape, np.nan))


def _rerender(clip: Clip, centers, radii, colors, visible_mask, injected) -> Clip:
    p = clip.params
    rng = np.random.default_rng(clip.seed)
    _scene(clip.scenario, p, rng)  # replay the draws so the background texture is the same
    bg = _background(p, rng)
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
    if kind == "gravity":
        if clip.params["gravity_sim"] == 0:
            raise ValueError(f"scenario {clip.scenario!r} has no gravity to get wrong; use projectile or table")
        p["gravity"] = clip.params["gravity"] * (0.6 if factor is None else factor)
        broken = simulate(clip.scenario, clip.seed, **p)
        broken.params["gravity"] = clip.params["gravity"]  # the claimed value stays
        broken.injected = clip.injected + [Injected("gravity", 0, 0)]
        return broken
    if clip.num_objects < 2:
        raise ValueError("interpenetration needs two balls: use the 'collision' scenario")
    # Same start, no contacts: each ball keeps its straight path through the other.
    init = clip.params["init"]
    scale = p["size"] / WORLD_SIZE
    t = np.arange(clip.radii.shape[0]) / clip.fps
    pos = np.stack([np.array(b["pos"]) + np.outer(t, b["vel"]) for b in init], axis=1)
    centers = pos * scale - 0.5
    d = np.linalg.norm(centers[:, 0] - centers[:, 1], axis=1)
    overlap = np.flatnonzero(d < clip.radii[:, 0] + clip.radii[:, 1] - 1.0)
    frame = int(overlap[0]) if len(overlap) else clip.radii.shape[0] - 1
    broken = _rerender(clip, centers, clip.radii.copy(), clip.colors.copy(), np.ones_like(clip.visible),
                       [Injected("interpenetration", frame, 0)])
    broken.velocities = np.broadcast_to(np.array([b["vel"] for b in init]) * scale, clip.velocities.shape).copy()
    return broken
