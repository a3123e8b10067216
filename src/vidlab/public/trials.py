"""Physics with exact truth: give a model the first frame of a world clip, measure what it makes of it.

Physics-IQ films real scenes and compares motion masks, since it cannot know the exact trajectory. Here the
scene comes from ``vidlab.world``, so it can: the first frame (or frames) is drawn at the model's resolution
in a style a public model can read (``vidlab.world.style``), the model continues it, and the probes measure
the output against the pymunk truth.

The truth is one a model could infer from what it is given. In the ``"open"`` world (the default) the scene is
as wide as the frame: no side walls or ceiling, and a floor drawn as a visible surface, on which the ball
bounces. (The square training world centred in a 16:9 frame would turn the ball in open backdrop at the
square's sides, and bounce it on the frame's edge.) The ``"box"`` world is the square training world itself,
for square frames only: the tiny model's own.

A frame shows no scale: a ball 100 px across falling at 576 px/s^2 is a 22 cm ball at an eighth of Earth's
gravity or a 1.7 m ball at Earth's. So :meth:`Trial.comparison` scores the shape of the motion
(``vidlab.public.measures``) and gravity only relative to what the given frames show.

The generator is any function ``(frames, prompt) -> uint8 [T, H, W, 3]``: a public model through
``vidlab.public.generate``, or this series' tiny model, which runs the same analysis on a CPU.

Text-to-video prompts with simple, checkable physics sit beside it (``TEXT_PROMPTS``); those have no exact
truth, so only the probes' own checks apply (gravity found and its sign, events).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pymunk

from vidlab import probes, world
from vidlab.public import measures
from vidlab.world.engine import Sim
from vidlab.world.params import WORLD_SIZE, check_params
from vidlab.world.scenarios import TABLE, build_scene
from vidlab.world.style import Style, Styled, draw, stylise


@dataclasses.dataclass(frozen=True)
class Scene:
    """A world scenario to continue, the colour to follow, and a prompt that describes the motion."""

    scenario: str
    prompt: str
    target: str | None  # the colour the probes follow (None: every object)


SCENES = {
    "bounce": Scene("projectile", "A red ball flies through the air, falls and bounces on the floor. Static camera, "
                                  "plain studio backdrop.", "red"),
    "collision": Scene("collision", "Two balls roll toward each other and collide. Static camera, plain studio "
                                    "backdrop.", None),
}
# Lit as a studio backdrop, with shaded balls, soft shadows and a floor: what a public model expects to see.
MODEL_STYLE = Style(lighting=0.25, vignette=0.15, shading=0.25, shadow=0.4, floor=(196, 186, 170))
WORLDS = ("open", "box")
FLOOR_SHARE = 0.125  # in the open world the floor surface takes the bottom eighth of the frame

TEXT_PROMPTS = {  # the checkable prompts, with the colour to follow
    "dropped": ("A red ball is dropped onto a wooden floor and bounces. Static camera.", "red"),
    "off a table": ("A red ball rolls off the edge of a table and falls to the floor. Static camera.", "red"),
    "collide": ("Two billiard balls, one red and one blue, roll toward each other and collide. Static camera, "
                "top view.", None),
    "behind a box": ("A red ball rolls behind a cardboard box and comes out the other side. Static camera.", "red"),
    "shatters": ("A drinking glass falls from a table and shatters on a tiled floor. Static camera.", None),
}


@dataclasses.dataclass
class Trial:
    """One continuation measured against its truth."""

    scene: str
    seed: int
    truth: Styled
    video: np.ndarray  # uint8 [T, H, W, 3]: what the model made (its first frames are the given ones)
    context: int  # frames given to the model
    report: probes.PhysicsReport
    truth_report: probes.PhysicsReport
    label: str

    def comparison(self) -> dict:
        """The measured motion beside the truth's, in measures that need no scale (``measures.MEASURES``).

        Each measure appears twice: ``"<name>"`` for the model and ``"true <name>"`` for the truth. Gravity is
        given in ball diameters per s^2, as the ball size it implies at Earth's gravity, and as a ratio to
        the acceleration the given frames show (``None`` when they show none: fewer than 3 frames). The
        position error needs that scale too, so it is ``None`` without it. ``"refusal"`` names why the probes
        refused the clip ("" when they measured it).
        """
        given = self.given_gravity()
        mine = measures.path_measures(self.report, self._followed(self.report), self.context)
        true = measures.path_measures(self.truth_report, self._followed(self.truth_report), self.context)
        out = {"scene": self.scene, "seed": self.seed, "label": self.label, "measurable": self.report.measurable,
               "why not": self.report.unmeasurable, "refusal": measures.refusal_kind(self.report)}
        for name in measures.MEASURES:
            out[name], out["true " + name] = mine[name], true[name]
        g = self.report.gravity_px_s2
        out["gravity / given frames"] = None if g is None or given is None else g / given
        out["position error px"] = self.position_error() if given is not None else None
        out["events"] = {}
        for e in self.report.events:
            out["events"][e.kind] = out["events"].get(e.kind, 0) + 1
        return out

    def given_gravity(self) -> float | None:
        """The downward acceleration (px/s^2) the given frames show, from the truth's centres, or None when
        they show none: fewer than 3 frames, or a bounce among them."""
        y = self.truth.centers[: self.context, 0, 1]
        if len(y) < 3:
            return None
        second = np.diff(y, 2) * self.truth.fps**2
        if np.ptp(second) > 0.01 * max(abs(float(second.mean())), 1e-9):
            return None  # not one parabola: the ball touched something
        return float(second.mean())

    def position_error(self) -> float | None:
        """Median distance (px) from the true centre of the first object, over the generated frames."""
        k = self._followed(self.report)
        if k is None:
            return None
        gap = np.linalg.norm(self.report.tracks[k].centers - self.truth.centers[:, 0], axis=1)[self.context:]
        gap = gap[np.isfinite(gap)]
        return float(np.median(gap)) if len(gap) else None

    def _followed(self, report) -> int | None:
        """The track nearest the true ball in the last given frame: the ball the model was asked to move."""
        if not report.tracks:
            return None
        start = self.truth.centers[self.context - 1, 0]
        return min(range(len(report.tracks)), key=lambda k: _distance_at(report.tracks[k], self.context - 1, start))


def _distance_at(track, frame, point) -> float:
    d = np.linalg.norm(track.centers[frame] - point)
    return float(d) if np.isfinite(d) else float("inf")


def open_world(scenario: str, seed: int, width: int, height: int, num_frames: int, fps: float,
               style: Style = MODEL_STYLE, **params) -> Styled:
    """``scenario``'s set-up for ``seed`` in a world as wide as the frame, drawn in ``style``.

    The balls start as in ``world.simulate(scenario, seed)`` (the same draws), but the only wall is a floor
    that spans the frame, drawn as a surface in its bottom ``FLOOR_SHARE``: no side walls, no ceiling. The
    path is centred in the frame (the physics does not change under a sideways shift). Scenery (tables,
    occluders) is not drawn by the style, so scenarios with scenery are refused.
    """
    path = open_world_path(scenario, seed, width, height, num_frames, fps, **params)
    visible = np.ones(path["radii"].shape, bool)
    return draw(path["centers"], path["radii"], path["colors"], visible, width, height, style,
                path["gravity_px_s2"], fps, path["floor_y"])


def open_world_path(scenario: str, seed: int, width: int, height: int, num_frames: int, fps: float,
                    **params) -> dict:
    """The truth of :func:`open_world` without drawing it: ``centers`` [T, N, 2] and ``radii`` [T, N] px,
    ``colors`` [T, N, 3], ``floor_y`` px (None without a floor) and ``gravity_px_s2``."""
    p = check_params({"num_frames": num_frames, "fps": fps, **params})
    balls, walls, scenery, gravity = build_scene(scenario, p, np.random.default_rng(seed))
    if scenery:
        raise ValueError(f"scenario={scenario!r} has scenery, which the style does not draw; use one of "
                         "'projectile', 'collision', 'uniform'")
    substeps = int(p["substeps"] or math.ceil(100 / fps))
    sim = Sim(gravity, 1.0 / (fps * substeps))
    if "floor" in walls:  # a floor far wider than the frame: the ball may leave the frame and come back
        sim.add_static(pymunk.Segment(sim.space.static_body, (-1e4, WORLD_SIZE), (1e4, WORLD_SIZE), 0.0), "floor")
    e = TABLE[scenario].restitution if p["restitution"] is None else p["restitution"]
    for pos, vel, r, *_ in balls:  # pymunk multiplies elasticities: two balls get sqrt(e) each, as in simulate
        sim.add_ball(tuple(pos), tuple(vel), r, math.sqrt(e) if TABLE[scenario].ball_pair else e)
    pos, _, _ = sim.run(num_frames, substeps)
    floor_y = height * (1 - FLOOR_SHARE) - 0.5 if "floor" in walls else None
    scale = (height if floor_y is None else floor_y + 0.5) / WORLD_SIZE  # world y [0, 10] above the floor
    r = np.array([b.radius for b in balls])
    shift = (width / scale - (pos[..., 0] - r).min() - (pos[..., 0] + r).max()) / 2  # the path's extent centred
    return {"centers": (pos + np.array([shift, 0.0])) * scale - 0.5,
            "radii": np.broadcast_to(r * scale, pos.shape[:2]).copy(),
            "colors": np.broadcast_to(np.array([b.rgb for b in balls], np.uint8), (*pos.shape[:2], 3)).copy(),
            "floor_y": floor_y, "gravity_px_s2": gravity * scale}


def truth_for(scene: Scene, seed: int, width: int, height: int, num_frames: int, fps: float,
              style: Style = MODEL_STYLE, world_kind: str = "open") -> Styled:
    """The scene's clip at the model's frame count and rate, drawn at its resolution in ``style``.

    ``world_kind="open"``: a world as wide as the frame with a drawn floor (:func:`open_world`); ``"box"``: the
    square training world (square frames only: in a wider one its walls would stand in open backdrop).
    """
    if world_kind == "open":
        return open_world(scene.scenario, seed, width, height, num_frames, fps, style)
    if world_kind != "box":
        raise ValueError(f"world_kind={world_kind!r}: expected one of {WORLDS}")
    if width != height:
        raise ValueError(f"world_kind='box' in a {width}x{height} frame: the square world's side walls would "
                         f"stand in open backdrop at x = {(width - height) / 2:.0f} and "
                         f"{(width + height) / 2:.0f} px, where no model can see them; use world_kind='open' "
                         "or a square frame")
    clip = world.simulate(scene.scenario, seed, num_frames=num_frames, fps=fps)
    return stylise(clip, width, height, style)


def image_to_video(generate_fn, scene_name: str, seed: int, width: int, height: int, num_frames: int,
                   fps: float, style: Style = MODEL_STYLE, context: int = 1, label: str = "",
                   world_kind: str = "open") -> Trial:
    """Run one trial: the truth, its first ``context`` frames to ``generate_fn``, the probes on both.

    1. the truth at the model's size, frame count and rate (``truth_for``, in ``world_kind``);
    2. the model continues its first frames (``generate_fn(frames, prompt)``);
    3. the probes measure the output (following the scene's colour) and the truth.
    """
    scene = SCENES[scene_name]
    truth = truth_for(scene, seed, width, height, num_frames, fps, style, world_kind)
    video = np.asarray(generate_fn(truth.video[:context], scene.prompt))
    if video.shape[1:] != truth.video.shape[1:]:
        raise ValueError(f"the generator returned frames of shape {video.shape[1:]}; expected "
                         f"{truth.video.shape[1:]} (the width and height it was given)")
    report = probes.physics_report(video, fps, target=scene.target)
    truth_report = probes.physics_report(truth.video, fps, target=scene.target)
    return Trial(scene_name, seed, truth, video, context, report, truth_report, label)
