"""What the probes report: tracks, failure events, bounces, collisions and the whole report."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

EVENT_KINDS = ("vanish", "appear", "teleport", "morph", "color_change", "interpenetration")


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
    measurable: bool = True  # False: the video is outside what the probes can measure (see ``unmeasurable``)
    unmeasurable: str = ""  # why, in a sentence

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
        if not self.measurable:
            return f"not measurable: {self.unmeasurable}"
        g = "none found" if self.gravity_px_s2 is None else f"{self.gravity_px_s2:.1f} px/s^2"
        ev = ", ".join(f"{e.kind}@{e.frame}" for e in self.events) or "none"
        counts = np.bincount(self.objects_per_frame)
        return (f"objects per frame: {dict(enumerate(counts.tolist()))} | tracks: {len(self.tracks)} | "
                f"gravity: {g} ({self.free_flight_frames} free-flight frames) | bounces: {len(self.bounces)} | "
                f"collisions: {len(self.collisions)} | flicker: {self.flicker:.4f} | events: {ev}")
