"""The entry points: :func:`simulate` one clip, :func:`cut` a window out of a longer one, :func:`dataset` of a split."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np
import pymunk

from vidlab.world.clip import Ball, Clip, Contact
from vidlab.world.engine import Sim
from vidlab.world.params import DISC_SCENERY, SPLITS, WORLD_SIZE, check_params
from vidlab.world.render import background_image, render
from vidlab.world.scenarios import TABLE, build_scene, describe


def simulate(scenario: str, seed: int, **params) -> Clip:
    """Simulate and render one clip; the seed determines everything.

    Args:
        scenario: one of ``SCENARIOS``: "uniform", "projectile", "collision", "occlusion", "table", or of
            ``OPEN_FUTURE``: "peg", "peg_skewed" (whose given frames do not decide the outcome).
        seed: integer seed for a ``numpy.random.Generator``.
        **params: overrides of ``DEFAULTS`` (size, num_frames, fps, gravity, radius, speed, color,
            restitution, background, ...). Ranges accept (lo, hi) or several intervals.

    Returns:
        A :class:`Clip` with the uint8 video and per-frame ground truth in pixels.
    """
    if scenario not in TABLE:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {tuple(TABLE)}")
    p = check_params(params)
    rng = np.random.default_rng(seed)
    substeps = int(p["substeps"] or math.ceil(100 / p["fps"]))
    dt = 1.0 / (p["fps"] * substeps)
    balls, walls, scenery, gravity = build_scene(scenario, p, rng)
    kind_of = TABLE[scenario]
    e = kind_of.restitution if p["restitution"] is None else p["restitution"]
    sim = Sim(gravity, dt)
    sim.add_box(walls)
    for kind, x0, y0, x1, y1, _ in scenery:
        body = sim.space.static_body
        if kind == "table":
            sim.add_static(pymunk.Poly(body, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]), "table")
        elif kind in DISC_SCENERY:
            sim.add_static(pymunk.Circle(body, (x1 - x0) / 2, ((x0 + x1) / 2, (y0 + y1) / 2)), kind, kind_of.friction)
    # pymunk multiplies the two shapes' elasticities: walls are 1, and two balls get sqrt(e) each.
    e_ball = math.sqrt(e) if kind_of.ball_pair else e
    for ball in balls:
        sim.add_ball(tuple(ball.pos), tuple(ball.vel), ball.radius, e_ball, kind_of.friction, ball.spin)
    pos, vel, contacts = sim.run(p["num_frames"], substeps)

    scale = p["size"] / WORLD_SIZE
    t_len, n = pos.shape[:2]
    centers = pos * scale - 0.5  # world [0, 10] spans the frame's edges [-0.5, size - 0.5] px
    radii = np.broadcast_to(np.array([b.radius for b in balls]) * scale, (t_len, n)).copy()
    colors = np.broadcast_to(np.array([b.rgb for b in balls], np.uint8), (t_len, n, 3)).copy()
    rects = [(k, x0 * scale - 0.5, y0 * scale - 0.5, x1 * scale - 0.5, y1 * scale - 0.5, front)
             for k, x0, y0, x1, y1, front in scenery]
    bg = background_image(p, seed)
    video, frac = render(centers, radii, colors, np.ones((t_len, n), bool), p["size"], bg, rects)
    info = {**p, "scenario": scenario, "seed": seed, "gravity_sim": gravity, "restitution_sim": e,
            "substeps": substeps, "init": [{"pos": b.pos.tolist(), "vel": b.vel.tolist(), "radius": b.radius,
                                            "color": list(b.rgb), **({"spin": b.spin} if b.spin else {})}
                                           for b in balls]}
    clip = Clip(video=video, centers=centers, velocities=vel * scale, radii=radii, colors=colors,
                visible=frac >= 0.5, visible_fraction=frac, fps=float(p["fps"]),
                caption=describe(scenario, balls, contacts), params=info, scenario=scenario,
                seed=int(seed), scenery=rects, contacts=contacts, injected=[])
    if kind_of.outcome is not None:  # an open future: what happened, beside the hidden spin that decided it
        clip.params["outcome"] = kind_of.outcome(clip)
    return clip


def cut(clip: Clip, start: int, num_frames: int) -> Clip:
    """Frames ``start`` .. ``start + num_frames - 1`` of ``clip`` as a clip of their own, time starting at 0.

    The ground truth is cut alike; the contacts are those inside the window, with their times shifted. The
    caption describes the window: each ball's motion at its first frame and the contacts inside it (a ball
    cut from mid-flight "is thrown" the way it moves there). ``params`` gain ``window_start`` and
    ``simulate_frames``, so the window can be simulated again (:func:`vidlab.world.inject`).
    """
    t_len = len(clip.video)
    if not (0 <= start and 2 <= num_frames and start + num_frames <= t_len):
        raise ValueError(f"window of {num_frames} frames from frame {start}: expected at least 2 frames inside the "
                         f"clip's {t_len}")
    frames, t0 = slice(start, start + num_frames), start / clip.fps
    last = (start + num_frames - 1) / clip.fps
    contacts = [Contact(c.time_s - t0, c.obj, c.other) for c in clip.contacts if t0 <= c.time_s <= last]
    scale = clip.params["size"] / WORLD_SIZE
    balls = [Ball((clip.centers[start, j] + 0.5) / scale, clip.velocities[start, j] / scale, b["radius"],
                  tuple(b["color"])) for j, b in enumerate(clip.params["init"])]
    params = {**clip.params, "num_frames": num_frames, "window_start": clip.params.get("window_start", 0) + start,
              "simulate_frames": clip.params.get("simulate_frames", t_len)}
    return dataclasses.replace(
        clip, video=clip.video[frames], centers=clip.centers[frames], velocities=clip.velocities[frames],
        radii=clip.radii[frames], colors=clip.colors[frames], visible=clip.visible[frames],
        visible_fraction=clip.visible_fraction[frames], caption=describe(clip.scenario, balls, contacts),
        params=params, contacts=contacts,
        injected=[dataclasses.replace(i, frame=max(i.frame - start, 0)) for i in clip.injected])


def dataset(scenario: str, split: str = "id", seeds: Iterable[int] = range(100), **params) -> list[Clip]:
    """Clips of one scenario from a named split (see ``SPLITS``), one per seed.

    Splits follow Kang et al. 2024: "id" (speed 1-4, radius 0.7-1.4 units), "ood_speed" (0-0.8 or
    4.5-6), "ood_radius" (0.3-0.6 or 1.5-2), and the colour-velocity coupling "coupled_train"
    (red slow, blue fast) with its swap "coupled_swap".
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(SPLITS)}")
    return [simulate(scenario, int(s), **{**SPLITS[split], **params}) for s in seeds]
