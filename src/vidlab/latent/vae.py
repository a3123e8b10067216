"""A tiny causal video VAE: the compression network in front of every public video model, at the world's scale.

    video [B, 3, 1 + 4k, H, W] in [-1, 1]
      -> each frame alone: two stride-2 convolutions                          [B, 2c, 1 + 4k, H/4, W/4]
      -> causal in time: a temporal convolution that sees only past frames, then frame 0 on its own and each
         following group of 4 frames folded into one latent frame             [B, 2c, 1 + k, H/4, W/4]
      -> the mean and log-variance of the latents                              [B, z, 1 + k, H/4, W/4] each
    and the decoder the same way back. Clips of 4k + 1 frames, the first frame encoded alone: Wan 2.1's and
    LTX-Video's layout, so that a still image is a one-frame clip and the given frames of a clip encode without
    its future (a latent frame depends only on its frames and earlier ones).

Its interface is diffusers' ``AutoencoderKL`` one: ``encode(video).latent_dist`` (a
``DiagonalGaussianDistribution``: ``.sample(generator)``, ``.mode()``) and ``decode(latents).sample``, so a
pipeline can hold this or diffusers' ``AutoencoderKLWan``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.autoencoders.vae import DecoderOutput, DiagonalGaussianDistribution
from diffusers.models.modeling_outputs import AutoencoderKLOutput
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

TIME_GROUP = 4  # frames folded into one latent frame, after the first (Wan's and LTX's 4; 2 for comparison)


class CausalTimeConv(nn.Module):
    """A convolution over frames that sees only the current and earlier ones (padding on the past side only)."""

    def __init__(self, channels: int, kernel: int = 3):
        super().__init__()
        self.kernel = kernel
        self.conv = nn.Conv3d(channels, channels, (kernel, 1, 1))

    def forward(self, x):
        return self.conv(F.pad(x, (0, 0, 0, 0, self.kernel - 1, 0), mode="replicate"))


def frame_count_error(frames: int, group: int = TIME_GROUP) -> str | None:
    """Why a clip of ``frames`` frames cannot be encoded, or None when it can (1 + ``group`` x k frames)."""
    if frames < 1 or (frames - 1) % group:
        fits = [n for n in (frames - (frames - 1) % group, frames + group - (frames - 1) % group) if n >= 1]
        return (f"a clip of {frames} frames cannot be encoded: the first frame is encoded alone, then groups of "
                f"{group}, so use 1 + {group}k frames (the nearest: {', '.join(map(str, fits))})")
    return None


def time_group(vae) -> int:
    """Frames per latent frame after the first: this VAE's ``time_group``; diffusers' Wan VAE folds 4."""
    return int(vae.config.get("time_group", TIME_GROUP))


class TinyVideoVAE(ModelMixin, ConfigMixin):
    """Video to latents and back: ``time_group`` x in time (after the first frame; 4 as Wan's) and 4x in each
    spatial direction. ``latents_mean``, ``latents_std``: per channel, set after training (:func:`normalise_latents`).
    """

    @register_to_config
    def __init__(self, channels: int = 32, latent_channels: int = 8, time_group: int = TIME_GROUP,
                 latents_mean: tuple | None = None, latents_std: tuple | None = None):
        super().__init__()
        if time_group < 1:
            raise ValueError(f"time_group={time_group}: expected a whole number of frames per latent frame, >= 1")
        c, z, g = channels, latent_channels, time_group
        self.down = nn.Sequential(  # each frame alone: (1, k, k) kernels
            nn.Conv3d(3, c, (1, 3, 3), padding=(0, 1, 1)), nn.SiLU(),
            nn.Conv3d(c, 2 * c, (1, 4, 4), stride=(1, 2, 2), padding=(0, 1, 1)), nn.SiLU(),
            nn.Conv3d(2 * c, 2 * c, (1, 4, 4), stride=(1, 2, 2), padding=(0, 1, 1)), nn.SiLU())
        self.encode_time = CausalTimeConv(2 * c)
        self.fold_first = nn.Conv3d(2 * c, 2 * c, 1)
        self.fold_groups = nn.Conv3d(2 * c, 2 * c, (g, 1, 1), stride=(g, 1, 1))
        self.to_moments = nn.Conv3d(2 * c, 2 * z, (1, 3, 3), padding=(0, 1, 1))
        self.from_latents = nn.Conv3d(z, 2 * c, (1, 3, 3), padding=(0, 1, 1))
        self.unfold_first = nn.Conv3d(2 * c, 2 * c, 1)
        self.unfold_groups = nn.ConvTranspose3d(2 * c, 2 * c, (g, 1, 1), stride=(g, 1, 1))
        self.decode_time = CausalTimeConv(2 * c)
        self.up = nn.Sequential(
            nn.SiLU(), nn.ConvTranspose3d(2 * c, 2 * c, (1, 4, 4), stride=(1, 2, 2), padding=(0, 1, 1)),
            nn.SiLU(), nn.ConvTranspose3d(2 * c, c, (1, 4, 4), stride=(1, 2, 2), padding=(0, 1, 1)),
            nn.SiLU(), nn.Conv3d(c, 3, (1, 3, 3), padding=(0, 1, 1)))

    def latent_shape(self, frames: int, height: int, width: int) -> tuple:
        """The latents' [C, F, H, W] for a clip of this size."""
        return (self.config.latent_channels, 1 + (frames - 1) // self.config.time_group, height // 4, width // 4)

    def encode(self, video: torch.Tensor, return_dict: bool = True):
        """``video`` [B, 3, 1 + 4k, H, W] in [-1, 1] -> the latents' distribution (``.latent_dist``)."""
        b, c, t, h, w = video.shape
        problem = frame_count_error(t, self.config.time_group) or (
            f"frames of {h}x{w} px: height and width must be multiples of 4" if h % 4 or w % 4 else None)
        if c != 3 or problem:
            raise ValueError(problem or f"video has {c} channels: expected RGB, [B, 3, frames, H, W]")
        x = self.down(video)
        x = x + self.encode_time(x)
        first = self.fold_first(x[:, :, :1])
        x = torch.cat([first, self.fold_groups(x[:, :, 1:])], dim=2) if t > 1 else first
        dist = DiagonalGaussianDistribution(self.to_moments(F.silu(x)))
        return AutoencoderKLOutput(latent_dist=dist) if return_dict else (dist,)

    def decode(self, latents: torch.Tensor, return_dict: bool = True):
        """``latents`` [B, z, 1 + k, H/4, W/4] -> ``.sample``, the video [B, 3, 1 + 4k, H, W]."""
        x = F.silu(self.from_latents(latents))
        first = self.unfold_first(x[:, :, :1])
        x = torch.cat([first, self.unfold_groups(x[:, :, 1:])], dim=2) if x.shape[2] > 1 else first
        x = x + self.decode_time(x)
        video = self.up(x)
        return DecoderOutput(sample=video) if return_dict else (video,)

    def forward(self, video: torch.Tensor, generator: torch.Generator | None = None) -> tuple:
        """Reconstruction and the KL divergence per latent number (mean over clips and positions), for training."""
        dist = self.encode(video).latent_dist
        latents = dist.sample(generator) if self.training else dist.mode()
        kl = 0.5 * (dist.mean ** 2 + dist.var - 1.0 - dist.logvar).mean()
        return self.decode(latents).sample, kl


# --------------------------------------------------------------------------- latents as the transformer sees them
def latent_stats(vae, like: torch.Tensor) -> tuple:
    """The VAE's per-channel latent mean and standard deviation (its config's ``latents_mean`` and
    ``latents_std``, as Wan's VAE keeps them), shaped to broadcast over ``like`` [B, C, F, H, W]; or 0 and 1."""
    mean, std = vae.config.get("latents_mean"), vae.config.get("latents_std")
    if mean is None or std is None:
        return 0.0, 1.0
    return tuple(torch.tensor(v, device=like.device, dtype=like.dtype).reshape(1, -1, 1, 1, 1) for v in (mean, std))


def encode_frames(vae, frames: torch.Tensor) -> torch.Tensor:
    """Frames [B, T, 3, H, W] in [-1, 1] (T = 1 + 4k) -> normalised latents [B, z, 1 + k, H/4, W/4] (the
    distribution's mean): what the transformer learns and makes. Works for this VAE and ``AutoencoderKLWan``."""
    latents = vae.encode(frames.movedim(2, 1)).latent_dist.mode()
    mean, std = latent_stats(vae, latents)
    return (latents - mean) / std


def decode_latents(vae, latents: torch.Tensor) -> torch.Tensor:
    """Normalised latents -> frames [B, T, 3, H, W] in [-1, 1] (the inverse of :func:`encode_frames`)."""
    mean, std = latent_stats(vae, latents)
    return vae.decode(latents * std + mean).sample.movedim(1, 2).clamp(-1, 1)


@torch.no_grad()
def normalise_latents(vae: TinyVideoVAE, frames: torch.Tensor) -> TinyVideoVAE:
    """Set ``vae``'s ``latents_mean`` and ``latents_std`` to each latent channel's over ``frames`` [B, T, 3, H, W]
    (its training clips), so that the transformer sees latents of mean 0 and standard deviation 1 per channel,
    the scale its noise has. Returns ``vae``."""
    vae.register_to_config(latents_mean=None, latents_std=None)
    latents = encode_frames(vae, frames).float()
    vae.register_to_config(latents_mean=latents.mean(dim=(0, 2, 3, 4)).tolist(),
                           latents_std=latents.std(dim=(0, 2, 3, 4)).clamp(min=1e-6).tolist())
    return vae
