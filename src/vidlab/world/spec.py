"""Which clips a model sees: one :class:`ClipSpec`, the contract between training, evaluation and the notebooks.

    spec = ClipSpec(scenarios=("projectile",), size=32, num_frames=16, fps=10.0, context_frames=4)
    spec.clips(range(8))                       # world clips 0-7, rendered as a model of this spec sees them
    spec.replace(speed_range=OOD_SPEED)        # the same spec with a world parameter overridden
    ClipSpec.from_dict(pipe.training_config)   # the spec a saved pipeline was trained on (old ones too)

A training config holds one (``TrainConfig.clip_spec``), a saved pipeline keeps its fields in
``training_config``, and ``vidlab.batches`` (training clips), ``vidlab.evaluate.held_out`` (held-out clips),
the experiments and the notebooks all render clips through :meth:`ClipSpec.clips`. Which seeds are training
seeds and which are held out is decided by those callers (:data:`TRAIN_SEED_BASE`), not here.

The window policy says which frames of a simulation a clip shows:

- ``"launch"`` (the default): the first ``num_frames`` frames from the moment the balls are launched.
- ``"random"``: ``num_frames`` frames starting at a random frame of a ``simulate_frames``-frame simulation.
  The start is drawn from its own random stream, keyed by the clip's seed, so the same seed gives the same
  window and the scene's own draws stay those of a launch clip. A model trained so sees mid-flight states,
  falls and bounces as its given frames, as it does when it extends a clip past its trained length.

The scene is set up for the whole simulation: scenarios whose set-up depends on the clip's duration
(``uniform``, ``collision``, ``occlusion``, ``table``) place their balls for ``simulate_frames`` frames.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping

import numpy as np

from vidlab.world.clip import Clip
from vidlab.world.clips import cut, simulate
from vidlab.world.params import DEFAULTS, SPLITS
from vidlab.world.scenarios import TABLE

WINDOWS = ("launch", "random")
# A random window's start has its own stream, keyed by the clip's seed: the scene's draws stay as they were.
WINDOW_STREAM = 0x3A11D0


@dataclasses.dataclass(frozen=True)
class ClipSpec:
    """The clips a model trains on and is evaluated on: scenarios, split, size, length, rate and window."""

    scenarios: tuple[str, ...] = ("projectile",)  # clip i shows scenarios[seed % len(scenarios)]
    split: str = "id"  # a key of world.SPLITS: the world parameters' ranges
    size: int = 32  # px, square frames
    num_frames: int = 16  # frames per clip: the model's trained length
    fps: float = 10.0
    context_frames: int = 4  # the given frames a model continues from
    window: str = "launch"  # "launch" or "random" (see the module docstring)
    simulate_frames: int | None = None  # frames simulated per clip; None = num_frames
    world_params: dict = dataclasses.field(default_factory=dict)  # overrides of the split's world parameters

    def __post_init__(self):
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "scenarios", (self.scenarios,) if isinstance(self.scenarios, str) else tuple(self.scenarios))
        set_(self, "fps", float(self.fps))
        # as JSON holds them (tuples become lists), so a spec read back from a saved pipeline equals the original
        set_(self, "world_params", json.loads(json.dumps(dict(self.world_params))))
        unknown = [s for s in self.scenarios if s not in TABLE]
        if not self.scenarios or unknown:
            raise ValueError(f"scenarios={self.scenarios!r}: expected one or more of {tuple(TABLE)}")
        if self.split not in SPLITS:
            raise ValueError(f"split={self.split!r}: expected one of {sorted(SPLITS)}")
        if self.window not in WINDOWS:
            raise ValueError(f"window={self.window!r}: expected one of {WINDOWS}")
        if not 1 <= self.context_frames < self.num_frames:
            raise ValueError(f"context_frames={self.context_frames}: expected 1 to num_frames - 1 = "
                             f"{self.num_frames - 1}")
        if self.simulate_frames is not None and self.simulate_frames < self.num_frames:
            raise ValueError(f"simulate_frames={self.simulate_frames}: a window of num_frames={self.num_frames} "
                             "is cut from it, so it must be at least that (or None)")
        if self.window == "random" and self.frames_simulated == self.num_frames:
            raise ValueError(f"window='random' with simulate_frames={self.simulate_frames}: set simulate_frames "
                             f"above num_frames={self.num_frames} (e.g. {4 * self.num_frames}) so there is a "
                             "window to choose")
        owned = {"size", "num_frames", "fps"} & set(self.world_params)
        unknown = set(self.world_params) - set(DEFAULTS)
        if owned or unknown:
            raise ValueError(f"world_params {sorted(owned | unknown)}: size, num_frames and fps are the spec's own "
                             f"fields; the others must be world parameters ({sorted(set(DEFAULTS) - owned)})")

    @property
    def frames_simulated(self) -> int:
        """Frames simulated for each clip (a clip is a window of them)."""
        return self.simulate_frames or self.num_frames

    def scenario_of(self, seed: int) -> str:
        """The scenario of world seed ``seed``."""
        return self.scenarios[seed % len(self.scenarios)]

    def window_start(self, seed: int) -> int:
        """The first simulated frame the clip of ``seed`` shows: 0 from launch, else drawn from the seed."""
        if self.window == "launch":
            return 0
        rng = np.random.default_rng([WINDOW_STREAM, int(seed)])
        return int(rng.integers(0, self.frames_simulated - self.num_frames + 1))

    def world_settings(self) -> dict:
        """The keyword arguments of :func:`vidlab.world.simulate` for one simulation of this spec."""
        return {**SPLITS[self.split], **self.world_params, "size": self.size, "num_frames": self.frames_simulated,
                "fps": self.fps}

    def clip(self, seed: int) -> Clip:
        """The clip of world seed ``seed``; the seed determines everything, the window too."""
        seed = int(seed)
        whole = simulate(self.scenario_of(seed), seed, **self.world_settings())
        if self.frames_simulated == self.num_frames:
            return whole  # the launch clip itself, bit for bit
        return cut(whole, self.window_start(seed), self.num_frames)

    def clips(self, seeds: Iterable[int]) -> list[Clip]:
        """One clip per world seed (:meth:`clip`)."""
        return [self.clip(seed) for seed in seeds]

    def replace(self, **changes) -> ClipSpec:
        """This spec with ``changes``: a field by its name, anything else a world parameter (``speed_range``,
        ``radius``, ``background``...) added to ``world_params``."""
        fields = {f.name for f in dataclasses.fields(self)}
        own = {k: v for k, v in changes.items() if k in fields}
        world = {k: v for k, v in changes.items() if k not in fields}
        if world:
            own["world_params"] = {**own.get("world_params", self.world_params), **world}
        return dataclasses.replace(self, **own)

    def to_dict(self) -> dict:
        """The fields as JSON holds them (what :meth:`from_dict` reads back)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, config: Mapping) -> ClipSpec:
        """The spec of a saved config: flat (a pipeline's ``training_config``, old ones included, or
        ``TrainConfig``'s fields) or nested under ``"clip_spec"``. Keys that are not spec fields are ignored;
        missing ones take the defaults, which are what every model saved before a field existed was trained
        with. Flat keys win over nested ones, so ``{**training_config, "scenarios": ["table"]}`` changes the spec.
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"{type(config).__name__}: expected a dict such as a pipeline's training_config")
        fields = {f.name for f in dataclasses.fields(cls)}
        nested = config.get("clip_spec") or {}
        return cls(**{k: v for k, v in {**nested, **config}.items() if k in fields})

    @classmethod
    def of(cls, source) -> ClipSpec:
        """The spec of ``source``: a ClipSpec, anything with a ``clip_spec`` (a TrainConfig), or a config dict."""
        if isinstance(source, cls):
            return source
        if hasattr(source, "clip_spec"):
            return source.clip_spec
        return cls.from_dict(source)
