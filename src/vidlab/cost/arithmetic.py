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

__all__ = ["ARCH", "flop_exponent", "latent_frames", "latent_tokens", "pipeline_latent_grid", "pipeline_tokens",
           "step_flops"]


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


def pipeline_compression(pipe) -> dict:
    """A loaded pipeline's VAE factors and its denoiser's patch size: {"temporal", "spatial", "patch", "patch_t"}."""
    name = type(pipe).__name__
    if name.startswith("LTX"):
        return {"temporal": pipe.vae_temporal_compression_ratio, "spatial": pipe.vae_spatial_compression_ratio,
                "patch": pipe.transformer_spatial_patch_size, "patch_t": pipe.transformer_temporal_patch_size}
    if name.startswith(("Wan", "CogVideoX")):
        config = pipe.transformer.config
        patch = config.patch_size
        pt, p = (patch[0], patch[1]) if isinstance(patch, list | tuple) else (config.get("patch_size_t") or 1, patch)
        return {"temporal": pipe.vae_scale_factor_temporal, "spatial": pipe.vae_scale_factor_spatial, "patch": p,
                "patch_t": pt}
    return {"temporal": 1, "spatial": pipe.vae_scale_factor, "patch": 1, "patch_t": 1}  # the UNets


def pipeline_latent_grid(pipe, width: int, height: int, num_frames: int) -> tuple:
    """(latent frames, latent height, latent width) the pipeline's VAE turns a clip into."""
    c = pipeline_compression(pipe)
    frames = num_frames if c["temporal"] == 1 else (num_frames - 1) // c["temporal"] + 1
    return frames, height // c["spatial"], width // c["spatial"]


def pipeline_tokens(pipe, width: int, height: int, num_frames: int) -> int:
    """Tokens the pipeline's denoiser sees (for a UNet: positions at full latent resolution)."""
    c = pipeline_compression(pipe)
    f, h, w = pipeline_latent_grid(pipe, width, height, num_frames)
    return -(-f // c["patch_t"]) * (h // c["patch"]) * (w // c["patch"])


def flop_exponent(name: str, tokens: float) -> float:
    """The local slope d log(FLOPs) / d log(N) of the step formula at ``tokens``: 1 while the layers that see each
    token once dominate, 2 once attention's N^2 does."""
    a = ARCH[entry(name).name]
    linear, attention = 2 * parameter_counts(name)["denoiser"] * tokens, 4 * tokens**2 * a.hidden * a.layers
    return (linear + 2 * attention) / (linear + attention)
