"""The scenarios: how each is set up, its caption, and (for the open futures) its outcome and their odds."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import numpy as np

from vidlab.world.clip import Ball
from vidlab.world.params import COLORS, ID_RADIUS, ID_RADIUS_COLLISION, WORLD_SIZE, draw_from, name_of_color, to_rgb


def _speed_for(p, rng, color_name, radius):
    if p["speed"] is not None:
        return float(p["speed"])
    if p["color_speed"] is not None:
        return draw_from(rng, p["color_speed"][color_name])
    if p["size_speed"] is not None:
        return draw_from(rng, p["size_speed"][size_class(p["size_speed"], radius)][1])
    return draw_from(rng, p["speed_range"])


def _radius_for(p, rng, default_range):
    if p["radius"] is not None:
        return float(p["radius"])
    if p["size_speed"] is not None:  # a size class at random, then a radius in its range
        return draw_from(rng, p["size_speed"][rng.choice(sorted(p["size_speed"]))][0])
    return draw_from(rng, p["radius_range"] or default_range)


def size_class(size_speed: dict, radius: float) -> str:
    """The class of ``size_speed`` ({"small": (radius ranges, speed ranges), ...}) whose radii hold ``radius``."""
    return next(name for name, (ranges, _) in size_speed.items() if any(lo <= radius <= hi for lo, hi in ranges))


def _ball_color(p, rng, k=0):
    if p["color"] is not None:
        return to_rgb(p["color"])
    if p["color_speed"] is not None:
        return to_rgb(rng.choice(sorted(p["color_speed"])))
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


# Each scenario: set-up (p, rng) -> (balls [(pos, vel, radius, rgb)], walls, scenery rects in world units,
# gravity), and caption (balls, contacts) -> str. Draws happen in the order written: changing it changes clips.
BOX = ("floor", "left wall", "right wall", "ceiling")


def _duration(p) -> float:
    return p["num_frames"] / p["fps"]


def _one_ball(p, rng, radius_range=ID_RADIUS):
    rgb = _ball_color(p, rng)
    r = _radius_for(p, rng, radius_range)
    return rgb, r, _speed_for(p, rng, name_of_color(rgb), r)


def _uniform(p, rng):
    rgb, r, v = _one_ball(p, rng)
    ang = rng.uniform(0, 2 * math.pi)
    vel = np.array([math.cos(ang), math.sin(ang)]) * v
    travel = vel * _duration(p)
    s = WORLD_SIZE
    # Start where the whole path stays in the frame when it fits; otherwise centre the path.
    lo = np.maximum(r, r - np.minimum(travel, 0))
    hi = np.minimum(s - r, s - r - np.maximum(travel, 0))
    pos = np.where(lo <= hi, rng.uniform(np.minimum(lo, hi), np.maximum(lo, hi)), s / 2 - travel / 2)
    return [Ball(pos, vel, r, rgb)], (), [], 0.0


def _uniform_caption(balls, contacts):
    _, vel, r, rgb = balls[0][:4]
    return f"{_a_ball(r, rgb)} moves {_speed_word(np.hypot(*vel))} {_direction(*vel)}"


def _projectile(p, rng):
    rgb, r, v = _one_ball(p, rng)
    s = WORLD_SIZE
    right = rng.random() < 0.5
    x = rng.uniform(r + 0.2, s * 0.35) if right else rng.uniform(s * 0.65, s - r - 0.2)
    pos = np.array([x, rng.uniform(r + 0.5, s * 0.5)])
    vel = np.array([v if right else -v, -rng.uniform(0, 0.5 * v)])
    return [Ball(pos, vel, r, rgb)], BOX, [], p["gravity"]


def _projectile_caption(balls, contacts):
    _, vel, r, rgb = balls[0][:4]
    n = sum(1 for c in contacts if c.obj == 0 and c.with_wall)
    bounces = _COUNT.get(n, f"bounces {n} times")
    return f"{_a_ball(r, rgb)} is thrown to the {'right' if vel[0] > 0 else 'left'} and {bounces}"


def _collision(p, rng):
    balls = []
    y = rng.uniform(3.5, 6.5)
    meet_t = _duration(p) * rng.uniform(0.35, 0.6)
    meet_x = rng.uniform(4.0, 6.0)
    for k, side in enumerate((-1, 1)):
        rgb = _ball_color(p, rng, k) if p["color"] is None else to_rgb(p["color"])
        r = _radius_for(p, rng, ID_RADIUS_COLLISION)
        v = _speed_for(p, rng, name_of_color(rgb), r)
        vel = np.array([-side * v, 0.0])
        # Place each ball so that the pair touches at meet_t (with a small vertical offset).
        pos = np.array([meet_x + side * r - vel[0] * meet_t, y + side * rng.uniform(0, 0.3) * r])
        balls.append(Ball(pos, vel, r, rgb))
    return balls, (), [], 0.0


def _collision_caption(balls, contacts):
    met = any(not c.with_wall for c in contacts)
    first, second = (_a_ball(b.radius, b.rgb) for b in balls[:2])
    return f"{first} and {second} roll toward each other" + (" and collide" if met else " and miss")


def _occlusion(p, rng):
    rgb, r, v = _one_ball(p, rng)
    s = WORLD_SIZE
    span = (p["num_frames"] - 1) / p["fps"]
    # The wall is a little wider than the ball, and the ball is at least fast enough to start and end
    # in full view: speeds below (4 r + 0.6) / duration are raised to that (recorded in params).
    width = 2 * r + 0.2
    v = max(v, (2 * r + width + 0.4) / span)
    vel = np.array([v, 0.0]) * (1 if rng.random() < 0.5 else -1)
    center = rng.uniform(4.0, 6.0)
    pos = np.array([center - vel[0] * span / 2, rng.uniform(r + 1.0, s - r - 1.0)])
    rect = ("occluder", center - width / 2, 1.0, center + width / 2, s - 1.0, True)
    return [Ball(pos, vel, r, rgb)], (), [rect], 0.0


def _occlusion_caption(balls, contacts):
    _, vel, r, rgb = balls[0][:4]
    return (f"{_a_ball(r, rgb)} moves {_speed_word(abs(vel[0]))} to the {'right' if vel[0] > 0 else 'left'} "
            "and passes behind a gray wall")


def _table(p, rng):
    """Slide along a table top, fall off the edge, bounce on the floor."""
    rgb, r, v = _one_ball(p, rng)
    top = rng.uniform(4.5, 6.5)
    edge = rng.uniform(3.5, 5.5)
    pos = np.array([max(r + 0.1, edge - v * _duration(p) * rng.uniform(0.15, 0.35)), top - r])
    rect = ("table", 0.0, top, edge, WORLD_SIZE, False)
    return [Ball(pos, np.array([v, 0.0]), r, rgb)], BOX, [rect], p["gravity"]


def _table_caption(balls, contacts):
    _, _, r, rgb = balls[0][:4]
    falls = any(c.obj == 0 and c.other == "floor" for c in contacts)
    return f"{_a_ball(r, rgb)} rolls off a table" + (" and bounces on the floor" if falls else " and falls")


# Open futures: a ball dropped exactly onto the top of a peg goes left or right as its spin says. A plain disc
# does not show its spin, so the given frames of a clip and of its mirror-spin twin are the same arrays, and
# the outcome's true distribution is the spin's: P(right) = P(clockwise spin). It is physics (friction turns the
# spin into sideways speed at the contact), not a random kick. An offset from the apex would not do: the
# renderer's anti-aliasing shows offsets far below a pixel, and one small enough to hide is not amplified into a
# decision within a clip (tests/test_world.py checks both).
PEG_RADIUS = 0.4
SPIN = (4.0, 8.0)  # rad/s, either sign: every clip decided well inside 16 frames at 10 fps


def _drop_onto(p, rng, x, top, p_right):
    """One ball above the point (x, top), at rest, with a hidden spin: clockwise (to the right) with p_right."""
    rgb = _ball_color(p, rng)
    r = _radius_for(p, rng, ((0.6, 0.9),))
    # At rest above the apex, high enough that the ball meets it after frame 4 at 10 fps (0.49-0.63 s): the
    # given frames of either model (4 or 5) show a straight fall, whatever the spin.
    pos = np.array([x, top - r - rng.uniform(1.2, 2.0)])
    spin = draw_from(rng, SPIN) * (1 if rng.random() < p_right else -1)
    return Ball(pos, np.zeros(2), r, rgb, spin if p["spin"] is None else float(p["spin"]))


def _peg(p, rng, p_right=0.5, kind="peg"):
    x, y = rng.uniform(4.0, 6.0), rng.uniform(4.5, 6.0)
    ball = _drop_onto(p, rng, x, y - PEG_RADIUS, p_right)
    peg = (kind, x - PEG_RADIUS, y - PEG_RADIUS, x + PEG_RADIUS, y + PEG_RADIUS, False)
    return [ball], BOX, [peg], p["gravity"]


def _peg_caption(balls, contacts):  # no outcome: a caption that named it would decide the future for the model
    return f"{_a_ball(balls[0].radius, balls[0].rgb)} drops onto a peg"


def peg_outcome(clip) -> str:
    """"left" or "right": the side of the peg the ball is on in the last frame (the scenery's first disc), or
    "undecided" while its centre is within half a radius of the apex's line (a clip too short to tell)."""
    _, x0, _, x1, _, _ = clip.scenery[0]
    offset = clip.centers[-1, 0, 0] - (x0 + x1) / 2
    if abs(offset) < 0.5 * clip.radii[-1, 0]:
        return "undecided"
    return "right" if offset > 0 else "left"


def _a_ball(r, rgb) -> str:
    return f"a {_size_word(r)} {name_of_color(rgb)} ball"


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One scenario: how it is set up, how its caption reads, and its defaults. A new scenario is one entry."""

    setup: Callable  # (params, rng) -> (balls, walls, scenery, gravity), in world units
    caption: Callable  # (balls, contacts) -> str
    words: str  # the words of its caption template (sizes, speeds, directions, colours, counts are shared)
    restitution: float = 0.8  # default when params leave it None
    ball_pair: bool = False  # the restitution is between two balls: pymunk multiplies their elasticities
    friction: float = 0.0  # of the balls and the scenery: above 0, a ball is a solid disc that can spin
    outcome: Callable | None = None  # (clip) -> the outcome, in the open-future scenarios; None = decided
    truth: dict | None = None  # the outcome's true distribution given the given frames, where it is open


TABLE = {
    "uniform": Scenario(_uniform, _uniform_caption, "moves"),
    "projectile": Scenario(_projectile, _projectile_caption, "is thrown to the and bounces never once twice times"),
    "collision": Scenario(_collision, _collision_caption, "and roll toward each other collide miss",
                          restitution=1.0, ball_pair=True),
    "occlusion": Scenario(_occlusion, _occlusion_caption, "moves to the and passes behind a gray wall"),
    "table": Scenario(_table, _table_caption, "rolls off a table and bounces on the floor falls"),
    # Open futures (the given frames do not decide the outcome; `truth` is its distribution given them)
    "peg": Scenario(_peg, _peg_caption, "drops onto a peg", restitution=0.1, friction=0.6,
                    outcome=peg_outcome, truth={"left": 0.5, "right": 0.5}),
    "peg_skewed": Scenario(functools.partial(_peg, p_right=0.8, kind="peg_skewed"), _peg_caption,
                           "drops onto a peg", restitution=0.1, friction=0.6, outcome=peg_outcome,
                           truth={"left": 0.2, "right": 0.8}),
}
SCENARIOS = tuple(name for name, scenario in TABLE.items() if scenario.outcome is None)  # the decided five
OPEN_FUTURE = tuple(name for name, scenario in TABLE.items() if scenario.outcome is not None)
_SHARED_WORDS = "a ball small medium sized large slowly steadily quickly colored right left up down and to the"


def build_scene(scenario: str, p: dict, rng: np.random.Generator):
    """Initial conditions of ``scenario``: (balls [(pos, vel, radius, rgb)], walls, scenery rects, gravity)."""
    return TABLE[scenario].setup(p, rng)


def describe(scenario, balls, contacts) -> str:
    """The caption of a simulated clip."""
    return TABLE[scenario].caption(balls, contacts)


def caption_vocabulary() -> list:
    """Every word the caption templates can produce (the prompts a text-conditioned model can understand)."""
    words = set(_SHARED_WORDS.split()) | set(COLORS) | {str(n) for n in range(3, 40)}
    for scenario in TABLE.values():
        words |= set(scenario.words.split())
    return sorted(words)
