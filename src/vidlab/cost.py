"""Token arithmetic and FLOP estimates of the public video architectures.

A video diffusion model never sees pixels: its VAE folds ``t`` frames (after the first) into one latent frame
and each ``s x s`` block of pixels into one latent position; a transformer then cuts the latent into patches.
The denoiser's work grows with the number of tokens ``N`` it sees: its linear layers cost about ``2 P N``
FLOPs per pass (``P`` parameters), and full attention ``4 N^2 d`` per layer (``d`` the hidden width). A
UNet attends within a frame and along time separately, so its attention grows with ``F (HW)^2 + HW F^2``.

``ARCH`` holds each registry entry's shape facts. Sources: the VAE and patch sizes of the real configs
(``vidlab.public.architectures``), checked against the token counts of the project's H100 table
(references: "Public architectures measured on an H100"), which also gives the memory figures below.
"""

from __future__ import annotations

import dataclasses
import time

import torch

from vidlab.public.architectures import parameter_counts
from vidlab.public.registry import Settings, entry


@dataclasses.dataclass(frozen=True)
class Arch:
    """Shape facts of a denoiser and its VAE.

    ``act_factor``: activation bytes of one guided denoising step per token and hidden unit at 2-byte
    precision, from the H100 peak memory minus the weights. ``decode_gib_per_px``: the VAE's peak GiB per
    output pixel and frame, untiled, at the precision the H100 run used (``decode_bytes`` per value).
    """

    side: int  # pixels along each side of one token (VAE factor x patch size)
    temporal: int  # frames folded into one latent frame after the first (1: none)
    hidden: int
    layers: int
    attention: str  # "full" (a transformer over all tokens) or "factorised" (a UNet: space, then time)
    act_factor: float
    decode_gib_per_px: float
    decode_bytes: int


# act_factor and decode figures: H100 peaks (denoiser / VAE GiB) at the table's settings. Wan 4.19 / 9.28
# (its VAE in fp32) at 832x480x81; CogVideoX 4.82 / 15.19 at 720x480x49; LTX 4.61 / 7.73 at 768x512x161;
# ModelScope 3.33 / 2.19 at 256x256x16. SVD and AnimateDiff were not measured: they take ModelScope's UNet
# and Stable Diffusion VAE figures (an assumption, said so where it is used).
ARCH = {
    "wan2.1-t2v-1.3b": Arch(16, 4, 1536, 30, "full", 16.5, 9.28 / (832 * 480 * 81), 4),
    "ltx-video": Arch(32, 8, 2048, 28, "full", 33.4, 7.73 / (768 * 512 * 161), 2),
    "cogvideox-2b": Arch(16, 4, 1920, 30, "full", 26.2, 15.19 / (720 * 480 * 49), 2),
    "modelscope-1.7b": Arch(8, 1, 320, 16, "factorised", 71.9, 2.19 / (256 * 256 * 16), 2),
    "svd-xt": Arch(8, 1, 320, 16, "factorised", 71.9, 2.19 / (256 * 256 * 16), 2),
    "animatediff-sd1.5": Arch(8, 1, 320, 16, "factorised", 71.9, 2.19 / (256 * 256 * 16), 2),
}


def latent_frames(name: str, num_frames: int) -> int:
    """Frames the denoiser sees: the first frame, then one per ``temporal`` frames."""
    t = ARCH[entry(name).name].temporal
    return num_frames if t == 1 else (num_frames - 1) // t + 1


def latent_tokens(name: str, settings: Settings) -> int:
    """Tokens (for a UNet: positions at full latent resolution) one clip becomes."""
    a = ARCH[entry(name).name]
    return latent_frames(name, settings.num_frames) * (settings.height // a.side) * (settings.width // a.side)


def step_flops(name: str, settings: Settings, guided: bool = True) -> float:
    """Forward FLOPs of one denoising step: linear layers plus attention, both passes when ``guided``."""
    a = ARCH[entry(name).name]
    n = latent_tokens(name, settings)
    params = parameter_counts(name)["denoiser"]
    if a.attention == "full":
        attention = 4 * n * n * a.hidden * a.layers
    else:
        f = latent_frames(name, settings.num_frames)
        hw = n // f
        attention = 4 * a.hidden * a.layers * (f * hw * hw + hw * f * f)
    passes = 2 if guided else 1
    return passes * (2 * params * n + attention)


def measure_cpu_flops(seconds: float = 0.3, size: int = 512) -> float:
    """This machine's fp32 matrix-multiply FLOP/s, measured now (an upper bound for a real network)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        count += 1
    return 2 * size**3 * count / (time.perf_counter() - start)


def cpu_seconds_estimate(name: str, settings: Settings, flops_per_second: float | None = None) -> float:
    """Rough seconds to denoise one clip on this CPU: counted FLOPs over measured matmul speed, halved because
    a whole network runs slower than one large matrix multiply.

    A rough guide (within a factor of a few), not a measurement: it leaves out the text encoder and the VAE.
    """
    from vidlab.public.architectures import counted_step_flops

    rate = flops_per_second or measure_cpu_flops()
    return settings.steps * counted_step_flops(name, settings) / (0.5 * rate)
