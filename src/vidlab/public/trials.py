"""Physics with exact truth: give a model the first frame of a world clip, measure what it makes of it.

Physics-IQ films real scenes and compares motion masks, since it cannot know the exact trajectory. Here the
scene comes from ``vidlab.world``, so it can: the first frame (or frames) is drawn at the model's resolution
in a style a public model can read (``vidlab.world.style``), the model continues it, and the probes measure
the output against the pymunk truth: gravity, bounce restitution, position, vanishing, morphing, teleports.

The generator is any function ``(frames, prompt) -> uint8 [T, H, W, 3]``: a public model through
``vidlab.public.generate``, or this series' tiny model, which runs the same analysis on a CPU.

Text-to-video prompts with simple, checkable physics sit beside it (``TEXT_PROMPTS``); those have no exact
truth, so only the probes' own checks apply (gravity found and its sign, events).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from vidlab import probes, world
from vidlab.world.style import Style, Styled, stylise


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
# Lit as a studio backdrop, with shaded balls and soft shadows: what a public model expects to see.
MODEL_STYLE = Style(lighting=0.25, vignette=0.15, shading=0.25, shadow=0.4)

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
        """The measured physics beside the truth: gravity, position, restitution, events."""
        g, true_g = self.report.gravity_px_s2, self.truth.gravity_px_s2
        bounce = self.report.bounces[0].restitution if self.report.bounces else None
        true_bounce = self.truth_report.bounces[0].restitution if self.truth_report.bounces else None
        events = {}
        for e in self.report.events:
            events[e.kind] = events.get(e.kind, 0) + 1
        return {"scene": self.scene, "seed": self.seed, "measurable": self.report.measurable,
                "why not": self.report.unmeasurable, "gravity px/s^2": g, "true gravity px/s^2": true_g,
                "gravity error": None if g is None else abs(g - true_g) / true_g,
                "position error px": self.position_error(), "restitution": bounce,
                "true restitution": true_bounce, "events": events, "label": self.label}

    def position_error(self) -> float | None:
        """Median distance (px) from the true centre of the first object, over the generated frames."""
        if not self.report.tracks:
            return None
        start = self.truth.centers[self.context - 1, 0]
        track = min(self.report.tracks, key=lambda t: _distance_at(t, self.context - 1, start))
        gap = np.linalg.norm(track.centers - self.truth.centers[:, 0], axis=1)[self.context:]
        gap = gap[np.isfinite(gap)]
        return float(np.median(gap)) if len(gap) else None


def _distance_at(track, frame, point) -> float:
    d = np.linalg.norm(track.centers[frame] - point)
    return float(d) if np.isfinite(d) else float("inf")


def truth_for(scene: Scene, seed: int, width: int, height: int, num_frames: int, fps: float,
              style: Style = MODEL_STYLE) -> Styled:
    """The scene's clip at the model's frame count and rate, drawn at its resolution in ``style``."""
    clip = world.simulate(scene.scenario, seed, num_frames=num_frames, fps=fps)
    return stylise(clip, width, height, style)


def image_to_video(generate_fn, scene_name: str, seed: int, width: int, height: int, num_frames: int,
                   fps: float, style: Style = MODEL_STYLE, context: int = 1, label: str = "") -> Trial:
    """Run one trial: the truth, its first ``context`` frames to ``generate_fn``, the probes on both.

    1. the truth at the model's size, frame count and rate;
    2. the model continues its first frames (``generate_fn(frames, prompt)``);
    3. the probes measure the output (following the scene's colour) and the truth.
    """
    scene = SCENES[scene_name]
    truth = truth_for(scene, seed, width, height, num_frames, fps, style)
    video = np.asarray(generate_fn(truth.video[:context], scene.prompt))
    if video.shape[1:] != truth.video.shape[1:]:
        raise ValueError(f"the generator returned frames of shape {video.shape[1:]}; expected "
                         f"{truth.video.shape[1:]} (the width and height it was given)")
    report = probes.physics_report(video, fps, target=scene.target)
    truth_report = probes.physics_report(truth.video, fps, target=scene.target)
    return Trial(scene_name, seed, truth, video, context, report, truth_report, label)
