"""What the world returns: a :class:`Clip` with exact per-frame ground truth, and the failures injected."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from vidlab.world.params import WORLD_SIZE


class Ball(NamedTuple):
    """A ball's initial conditions in world units (a scenario's set-up returns a list of them)."""

    pos: np.ndarray  # (x, y)
    vel: np.ndarray  # (vx, vy) units/s
    radius: float
    rgb: tuple
    spin: float = 0.0  # rad/s, clockwise on screen; a plain disc does not show it (the open-future scenarios)


class Contact(NamedTuple):
    """An impact seen by the engine: its time, the ball, and the other ball's index or a wall's name."""

    time_s: float
    obj: int
    other: int | str

    @property
    def with_wall(self) -> bool:
        return isinstance(self.other, str)


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
    contacts: list  # [Contact(time_s, obj, other)]: other = object index or a wall name
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
