"""The five scenarios: how each is set up, and its caption."""

from __future__ import annotations

import math

import numpy as np

from vidlab.world.params import COLORS, ID_RADIUS, ID_RADIUS_COLLISION, WORLD_SIZE, draw_from, name_of_color, to_rgb


def _speed_for(p, rng, color_name):
    if p["speed"] is not None:
        return float(p["speed"])
    if p["color_speed"] is not None:
        return draw_from(rng, p["color_speed"][color_name])
    return draw_from(rng, p["speed_range"])


def _radius_for(p, rng, scenario):
    if p["radius"] is not None:
        return float(p["radius"])
    default = ID_RADIUS_COLLISION if scenario == "collision" else ID_RADIUS
    return draw_from(rng, p["radius_range"] or default)


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


def build_scene(scenario: str, p: dict, rng: np.random.Generator):
    """Initial conditions: (balls [(pos, vel, radius, rgb)], walls, scenery rects in world units, gravity)."""
    duration = p["num_frames"] / p["fps"]
    s = WORLD_SIZE
    if scenario == "uniform":
        rgb = _ball_color(p, rng)
        r, v = _radius_for(p, rng, scenario), _speed_for(p, rng, name_of_color(rgb))
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
        r, v = _radius_for(p, rng, scenario), _speed_for(p, rng, name_of_color(rgb))
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
            rgb = _ball_color(p, rng, k) if p["color"] is None else to_rgb(p["color"])
            r, v = _radius_for(p, rng, scenario), _speed_for(p, rng, name_of_color(rgb))
            vel = np.array([-side * v, 0.0])
            # Place each ball so that the pair touches at meet_t (with a small vertical offset).
            pos = np.array([meet_x + side * r - vel[0] * meet_t, y + side * rng.uniform(0, 0.3) * r])
            balls.append((pos, vel, r, rgb))
        return balls, (), [], 0.0
    if scenario == "occlusion":
        rgb = _ball_color(p, rng)
        r, v = _radius_for(p, rng, scenario), _speed_for(p, rng, name_of_color(rgb))
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
    r, v = _radius_for(p, rng, scenario), _speed_for(p, rng, name_of_color(rgb))
    top = rng.uniform(4.5, 6.5)
    edge = rng.uniform(3.5, 5.5)
    pos = np.array([max(r + 0.1, edge - v * duration * rng.uniform(0.15, 0.35)), top - r])
    rect = ("table", 0.0, top, edge, s, False)
    return [(pos, np.array([v, 0.0]), r, rgb)], ("floor", "left wall", "right wall", "ceiling"), [rect], \
        p["gravity"]


def describe(scenario, balls, contacts):
    (pos, vel, r, rgb) = balls[0]
    ball = f"a {_size_word(r)} {name_of_color(rgb)} ball"
    hits = [c for c in contacts if c[1] == 0]
    if scenario == "uniform":
        return f"{ball} moves {_speed_word(np.hypot(*vel))} {_direction(*vel)}"
    if scenario == "projectile":
        n = sum(1 for c in hits if isinstance(c[2], str))
        bounces = _COUNT.get(n, f"bounces {n} times")
        return f"{ball} is thrown to the {'right' if vel[0] > 0 else 'left'} and {bounces}"
    if scenario == "collision":
        other = f"a {_size_word(balls[1][2])} {name_of_color(balls[1][3])} ball"
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
