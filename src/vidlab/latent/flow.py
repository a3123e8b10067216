"""Flow matching (rectified flow), the training objective of Stable Diffusion 3, Wan 2.1, HunyuanVideo and LTX-Video.

A noisy clip lies on the straight line between the data and pure noise, at a noise level sigma in [0, 1]:

    x_sigma = (1 - sigma) * x0 + sigma * noise        (diffusers: FlowMatchEulerDiscreteScheduler.scale_noise)

and the network learns the velocity along that line, ``noise - x0``, which does not depend on sigma. Sampling
walks the line back from sigma = 1 with Euler steps, ``x <- x + (sigma_next - sigma) * velocity``, which is
``FlowMatchEulerDiscreteScheduler.step``. Training draws sigma from a logit-normal density (SD3: most draws in
the middle, where the clip is decided) and shifts it towards noise (``shift`` > 1, as in SD3 and Wan: more
noise for more tokens). Every piece is diffusers' own; :func:`euler_step` is written out only to be checked
against the scheduler.
"""

from __future__ import annotations

import torch
from diffusers import FlowMatchEulerDiscreteScheduler
from diffusers.training_utils import compute_density_for_timestep_sampling, compute_loss_weighting_for_sd3

DENSITIES = ("logit_normal", "uniform", "mode")  # diffusers' names (compute_density_for_timestep_sampling)
WEIGHTINGS = ("none", "sigma_sqrt", "cosmap")  # diffusers' names (compute_loss_weighting_for_sd3)


def scheduler(shift: float = 3.0, num_train_timesteps: int = 1000) -> FlowMatchEulerDiscreteScheduler:
    """The training and sampling schedule: sigmas from 1 to 0, shifted by ``shift`` (1 = no shift)."""
    if shift <= 0:
        raise ValueError(f"shift={shift}: expected a positive number (1 = no shift; SD3 uses 3, Wan 5)")
    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=num_train_timesteps, shift=shift)


def draw_sigmas(sched: FlowMatchEulerDiscreteScheduler, batch: int, generator: torch.Generator,
                density: str = "logit_normal", logit_mean: float = 0.0, logit_std: float = 1.0,
                mode_scale: float = 1.29) -> tuple[torch.Tensor, torch.Tensor]:
    """One noise level per clip, as diffusers' SD3 training script draws them: ``u`` from the density, then the
    scheduler's (shifted) sigma and timestep at index ``u * 1000``. Returns (sigmas [B], timesteps [B])."""
    if density not in DENSITIES:
        raise ValueError(f"density={density!r}: expected one of {DENSITIES}")
    u = compute_density_for_timestep_sampling(density, batch, logit_mean, logit_std, mode_scale,
                                              device=generator.device, generator=generator)
    index = (u * sched.config.num_train_timesteps).long().clamp(max=sched.config.num_train_timesteps - 1)
    return sched.sigmas[index], sched.timesteps[index]


def noisy(latents: torch.Tensor, noise: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """The point at ``sigmas`` [B] on the straight line from ``latents`` (sigma 0) to ``noise`` (sigma 1)."""
    s = sigmas.to(latents.device, latents.dtype).reshape(-1, *[1] * (latents.dim() - 1))
    return (1 - s) * latents + s * noise


def velocity_target(latents: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """What the network learns: the direction from data to noise, the same at every point of the line."""
    return noise - latents


def loss(prediction: torch.Tensor, latents: torch.Tensor, noise: torch.Tensor, sigmas: torch.Tensor,
         unknown: torch.Tensor, weighting: str = "none") -> torch.Tensor:
    """Mean squared error of the predicted velocity over the latent frames to be made (``unknown`` [B, F], 1
    there), each clip weighted by diffusers' SD3 weighting of its sigma (``"none"``: all equal)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting={weighting!r}: expected one of {WEIGHTINGS}")
    weights = compute_loss_weighting_for_sd3(weighting, sigmas).to(prediction.device, prediction.dtype)
    error = (prediction.float() - velocity_target(latents, noise).float()) ** 2  # [B, C, F, H, W]
    per_frame = error.mean(dim=(1, 3, 4)) * unknown.to(error.device, error.dtype)  # [B, F]
    return (weights.float() * per_frame.sum(1)).sum() / unknown.sum().clamp(min=1)


def euler_step(sample: torch.Tensor, velocity: torch.Tensor, sigma: float, sigma_next: float) -> torch.Tensor:
    """One step back along the line: what ``FlowMatchEulerDiscreteScheduler.step`` does (for the notebook)."""
    return sample + (sigma_next - sigma) * velocity


def clean_estimate(sample: torch.Tensor, velocity: torch.Tensor, sigma: float) -> torch.Tensor:
    """The clip the velocity points back to, x0 = x_sigma - sigma * velocity: the notebook's x̂0 at each step."""
    return sample - sigma * velocity
