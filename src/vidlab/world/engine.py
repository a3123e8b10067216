"""The pymunk wrapper: balls, walls and scenery stepped in substeps, with an exact leapfrog start."""

from __future__ import annotations

import math

import numpy as np
import pymunk

from vidlab.world.clip import Contact
from vidlab.world.params import WORLD_SIZE


class Sim:
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

    def add_static(self, shape: pymunk.Shape, name: str, friction: float = 0.0):
        shape.elasticity, shape.friction = 1.0, friction
        self.space.add(shape)
        self.walls[shape] = name

    def add_ball(self, pos, vel, radius, restitution, friction: float = 0.0, spin: float = 0.0) -> pymunk.Body:
        """A ball of mass ~ area. Frictionless balls never turn (infinite moment); with ``friction`` a ball is a
        solid disc whose ``spin`` (rad/s, clockwise on screen: y points down) the contacts feel."""
        mass = math.pi * radius**2
        turns = friction > 0 or spin != 0
        body = pymunk.Body(mass, pymunk.moment_for_circle(mass, 0, radius) if turns else float("inf"))
        body.position = pos
        body.angular_velocity = spin
        # Leapfrog start: pymunk moves x by v*dt then adds g*dt to v, so a half-step offset makes
        # positions equal the analytic parabola at every substep.
        body.velocity = (vel[0], vel[1] + 0.5 * self.gravity * self.dt)
        shape = pymunk.Circle(body, radius)
        shape.elasticity, shape.friction = restitution, friction
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
                contacts.append(Contact(clock[0] * self.dt, i, other))

        self.space.on_collision(begin=begin)
        for f in range(num_frames):
            if f:
                for _ in range(substeps):
                    self.space.step(self.dt)
                    clock[0] += 1
            pos[f], vel[f] = self.state()
        return pos, vel, contacts
