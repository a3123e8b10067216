"""Token arithmetic and FLOP estimates of the public video architectures.

A video diffusion model never sees pixels: its VAE folds ``t`` frames (after the first) into one latent frame
and each ``s x s`` block of pixels into one latent position; a transformer then cuts the latent into patches.
The denoiser's work grows with the number of tokens ``N`` it sees: its linear layers cost about ``2 P N``
FLOPs per pass (``P`` parameters), and full attention ``4 N^2 d`` per layer (``d`` the hidden width). A
UNet attends within a frame and along time separately, so its attention grows with ``F (HW)^2 + HW F^2``.

The shape facts (``ARCH``) and token counts live with the real configurations in
``vidlab.public.architectures``; this module holds the arithmetic a reader can check by hand.
"""

from __future__ import annotations

from vidlab.public.architectures import ARCH, latent_frames, latent_tokens, parameter_counts
from vidlab.public.registry import Settings, entry

__all__ = ["ARCH", "latent_frames", "latent_tokens", "step_flops"]


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
