"""The cost model: GPU-seconds per clip x price per GPU-hour x re-rolls per usable take.

Every input is a :class:`~vidlab.cost.figures.Cited` figure or a reader's own number. The GPU-seconds of a
Wan 2.1 clip come from the step-time curve measured on an H100 (``step_s = a N + b N^2`` in the tokens N),
times the denoising steps; text encoding, the VAE and loading are left out, so these are lower bounds.
"""

from __future__ import annotations

import dataclasses
import math

from vidlab.cost import figures
from vidlab.cost.arithmetic import latent_tokens
from vidlab.public.registry import Settings


def frames_for(seconds: float, fps: float, temporal: int = 4) -> int:
    """The smallest frame count of the form temporal * k + 1 that covers ``seconds`` at ``fps``."""
    if seconds <= 0 or fps <= 0:
        raise ValueError(f"seconds={seconds}, fps={fps}: expected positive numbers")
    return temporal * math.ceil((seconds * fps - 1) / temporal) + 1


def wan_clip_tokens(width: int, height: int, seconds: float, fps: float) -> int:
    """Tokens a Wan 2.1 clip becomes: latent frames x (H / 16) x (W / 16)."""
    settings = Settings(width, height, frames_for(seconds, fps), 50, 5.0, int(fps))
    return latent_tokens("wan2.1-t2v-1.3b", settings)  # the 14B has the same VAE and patch size


def h100_step_seconds(model: str, tokens: int) -> float:
    """Seconds of one guided step on one H100, from the measured curve (``figures.H100_STEP_FIT``)."""
    if model not in figures.H100_STEP_FIT:
        raise ValueError(f"model={model!r}: the H100 curve was measured for {sorted(figures.H100_STEP_FIT)}")
    fit = figures.H100_STEP_FIT[model]
    return fit["a"] * tokens + fit["b"] * tokens**2


def clip_gpu_seconds(model: str, width: int, height: int, seconds: float, fps: float, steps: int = 50) -> float:
    """H100 seconds to denoise one clip (the denoiser only: a lower bound on the whole generation)."""
    return steps * h100_step_seconds(model, wan_clip_tokens(width, height, seconds, fps))


@dataclasses.dataclass(frozen=True)
class Shot:
    """What one usable take costs: compute per clip, its price, and how many clips it takes to get one."""

    gpu_seconds: float  # per generated clip
    dollars_per_gpu_hour: float
    rerolls: float = 1.0  # clips generated per usable take
    gpus: int = 1  # spread over this many GPUs (same GPU-seconds, less waiting)

    @property
    def dollars(self) -> float:
        return self.gpu_seconds / 3600 * self.dollars_per_gpu_hour * self.rerolls

    @property
    def wall_seconds(self) -> float:
        """Waiting time per usable take, if the GPUs split the work perfectly (they do not quite)."""
        return self.gpu_seconds * self.rerolls / self.gpus

    def energy_kwh(self, watts: float = figures.H100_POWER_SEEN.value) -> float:
        return self.gpu_seconds * self.rerolls * watts / 3.6e6


def takes_for(budget: float, clip_seconds: float, dollars_per_second: float) -> float:
    """How many clips of ``clip_seconds`` a ``budget`` buys at an API's price per second of video."""
    return budget / (clip_seconds * dollars_per_second)


@dataclasses.dataclass(frozen=True)
class Film:
    """A film cut into clips a generator can make, and what generating it once costs."""

    clips: int
    gpu_hours: float  # one take of every clip
    tokens_per_clip: int

    def cost(self, dollars_per_gpu_hour: float, rerolls: float = 1.0) -> float:
        return self.gpu_hours * dollars_per_gpu_hour * rerolls

    def energy_mwh(self, rerolls: float = 1.0, watts: float = figures.H100_POWER_SEEN.value) -> float:
        return self.gpu_hours * rerolls * watts / 1e6


def film(minutes: float, clip_seconds: float, width: int, height: int, fps: float, model: str = "wan2.1-t2v-1.3b",
         steps: int = 50) -> Film:
    """Scale a clip up to a film: ``minutes`` of ``clip_seconds`` clips, each generated once on one H100."""
    clips = math.ceil(minutes * 60 / clip_seconds)
    per_clip = clip_gpu_seconds(model, width, height, clip_seconds, fps, steps)
    return Film(clips, clips * per_clip / 3600, wan_clip_tokens(width, height, clip_seconds, fps))
