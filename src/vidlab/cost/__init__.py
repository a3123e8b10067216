"""What a clip costs: token arithmetic, FLOPs, and the cost of a shot, each input with its source.

- ``arithmetic``: tokens from each architecture's VAE compression and patch size, and the FLOP formula of a step;
- ``figures``: the published figures (prices, timings, GPU specifications, Sora's timeline), each ``Cited``;
- ``model``: GPU-seconds per clip from the H100 step-time curve, x price per GPU-hour x re-rolls; a film;
- ``flops``: FLOPs of one step against the clip's size, counted on the ``meta`` device (deterministic);
- ``measure``: the time and memory of one step on this machine, each size in a fresh process.
"""

from vidlab.cost.arithmetic import ARCH, latent_frames, latent_tokens, pipeline_tokens, step_flops
from vidlab.cost.figures import Cited
from vidlab.cost.model import Film, Shot, clip_gpu_seconds, film, frames_for, h100_step_seconds, takes_for

__all__ = ["ARCH", "Cited", "Film", "Shot", "clip_gpu_seconds", "film", "frames_for", "h100_step_seconds",
           "latent_frames", "latent_tokens", "pipeline_tokens", "step_flops", "takes_for"]
