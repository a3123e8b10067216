"""A 2-D physics world whose ground truth is known exactly.

Contacts (bounces, collisions) come from pymunk, stepped in small substeps. Free flight is exact: the
engine integrates with semi-implicit Euler, and every ball starts with a half-step velocity offset
(leapfrog start), so positions at every substep equal the closed-form parabola ``x0 + v0 t + g t^2 / 2``.

Units. The world is ``WORLD_SIZE`` = 10 units across (as in Kang et al. 2024); parameters such as
``gravity`` (units/s^2), ``speed`` (units/s) and ``radius`` (units) are in world units. Everything a clip
returns is in pixels: x to the right, y down, pixel (row 0, col 0) centred at (0, 0), numpy's index
convention, which ``vidlab.probes`` uses too.

The package, one module per job: ``params`` (units, ranges, splits, defaults), ``scenarios`` (how each
scenario is set up and captioned), ``engine`` (the pymunk wrapper), ``render`` (drawing), ``clip`` (the
records), ``clips`` (``simulate``, ``cut`` and ``dataset``), ``spec`` (:class:`ClipSpec`: which clips a model
sees, the one home of that) and ``inject`` (breaking clips on purpose).

Stable entry point::

    clip = simulate(scenario, seed, **params)   # scenario in SCENARIOS or OPEN_FUTURE
    clip.video    # uint8 [T, H, W, 3]
    clip.centers  # float [T, n_objects, 2] (x, y) px
    clip.radii    # float [T, n_objects] px
    clip.visible  # bool [T, n_objects]
    clip.fps, clip.caption, clip.params

    ClipSpec(scenarios=("projectile",), size=32).clips(seeds)   # clips as a model trains on them
"""

from vidlab.pixels import degrade  # noqa: F401  (world.degrade: camera and codec effects on a clip)
from vidlab.world.clip import Ball, Clip, Contact, Injected  # noqa: F401
from vidlab.world.clips import cut, dataset, simulate  # noqa: F401
from vidlab.world.inject import INJECTIONS, inject, rerender  # noqa: F401
from vidlab.world.params import (  # noqa: F401
    COLORS,
    DEFAULTS,
    FAST,
    ID_RADIUS,
    ID_RADIUS_COLLISION,
    ID_SPEED,
    LARGE,
    OOD_RADIUS,
    OOD_SPEED,
    SCENERY_COLORS,
    SLOW,
    SMALL,
    SPLITS,
    TRAIN_SEED_BASE,
    WORLD_SIZE,
)
from vidlab.world.render import disc_coverage, render  # noqa: F401
from vidlab.world.scenarios import OPEN_FUTURE, SCENARIOS, TABLE, Scenario, caption_vocabulary  # noqa: F401
from vidlab.world.spec import WINDOWS, ClipSpec  # noqa: F401
