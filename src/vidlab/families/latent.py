"""The latent recipe's two families for the shared training loop (``vidlab.train``): the VAE, then the transformer.

- ``"vae"``: :class:`~vidlab.latent.vae.TinyVideoVAE`, trained to reconstruct the world's clips (mean squared
  error in pixels, plus a small KL term towards a unit Gaussian); saved with each latent channel's mean and
  standard deviation over training clips (``vae.normalise_latents``), as Wan's VAE keeps them.
- ``"latent_dit"``: :class:`~vidlab.latent.dit.SpacetimeDiT` on the latents of a VAE trained before (``cfg.vae``,
  frozen), by flow matching (:mod:`vidlab.latent.flow`); saved as a
  :class:`~vidlab.pipeline.LatentVideoPipeline` that holds its VAE, so the checkpoint stands alone.

Each has the four members of every family (``vidlab.families``); the pixel U-Net's is :mod:`vidlab.families.unet`.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers.utils.torch_utils import randn_tensor

from vidlab import batches, world
from vidlab.latent import flow
from vidlab.latent.dit import SpacetimeDiT
from vidlab.latent.vae import TinyVideoVAE, encode_frames, frame_count_error, normalise_latents, time_group

STATS_CLIPS = 64  # training clips over which a trained VAE's latent mean and spread are measured


class VAEFamily:
    """The tiny causal video VAE: reconstruct every frame of a training clip through its latents."""

    def __init__(self, cfg, device):
        self.cfg, self.device = cfg, torch.device(device)
        problem = frame_count_error(cfg.num_frames, cfg.vae_time_group)
        if problem:
            raise ValueError(f"num_frames={cfg.num_frames}: {problem}")
        if cfg.size % 4:
            raise ValueError(f"size={cfg.size}: the VAE folds 4x4 pixels into a latent; use a multiple of 4")
        if cfg.text:
            raise ValueError("family='vae' learns no prompts: set text=False")

    def nets(self) -> tuple:
        return TinyVideoVAE(channels=self.cfg.vae_channels, latent_channels=self.cfg.latent_channels,
                            time_group=self.cfg.vae_time_group), None

    def loss(self, vae, text_encoder, video, captions, generator) -> torch.Tensor:
        """Pixel MSE of the reconstruction (latents sampled with ``generator``) plus ``kl_weight`` x KL."""
        clip = video.movedim(1, 2)  # [B, 3, T, H, W], the VAE's layout
        reconstruction, kl = vae(clip, generator)
        return F.mse_loss(reconstruction.float(), clip.float()) + self.cfg.kl_weight * kl.float()

    def pipeline(self, vae, text_encoder, training_config: dict) -> TinyVideoVAE:
        """The trained VAE with its latents' per-channel statistics measured on training clips."""
        video, _ = batches.fresh_batch(_stats_config(self.cfg), 0, device=self.device)
        return normalise_latents(vae, video.float())  # (the run's config.json and state.json record its training)

    @staticmethod
    def load(folder) -> TinyVideoVAE:
        return TinyVideoVAE.from_pretrained(folder)


class LatentDiTFamily:
    """The diffusion transformer over a frozen VAE's latents, trained by flow matching on the unknown frames."""

    def __init__(self, cfg, device):
        self.cfg, self.device = cfg, torch.device(device)
        if cfg.vae is None:
            raise ValueError("family='latent_dit' needs a trained VAE: train one with --family vae, then pass its "
                             "folder's pipeline as --vae (e.g. runs/vae/pipeline)")
        self.vae = load_vae(cfg.vae).to(self.device).eval().requires_grad_(False)
        check(cfg, time_group(self.vae))
        self.scheduler = flow.scheduler(cfg.flow_shift)
        self.given = 1 + (cfg.context_frames - 1) // time_group(self.vae)  # latent frames the given frames fill

    def nets(self) -> tuple:
        from vidlab.denoiser import TinyTextEncoder

        width = self.cfg.dit_width
        transformer = SpacetimeDiT(latent_channels=self.vae.config.latent_channels, patch_size=self.cfg.patch,
                                   width=width, depth=self.cfg.dit_depth, heads=self.cfg.dit_heads,
                                   cond_dim=width if self.cfg.text else None)
        text = TinyTextEncoder(vocab=world.caption_vocabulary(), dim=width) if self.cfg.text else None
        return transformer, text

    def loss(self, transformer, text_encoder, video, captions, generator) -> torch.Tensor:
        """Flow matching on the latent frames after the given ones (a recipe of 5 steps)."""
        # 1. the clip's latents (the VAE is frozen), the noise and one noise level per clip
        with torch.no_grad():
            latents = encode_frames(self.vae, video)
        b, _, f = latents.shape[:3]
        noise = randn_tensor(latents.shape, generator=generator, device=latents.device, dtype=latents.dtype)
        sigmas, timesteps = flow.draw_sigmas(self.scheduler, b, generator, self.cfg.timestep_density)
        # 2. the given latent frames stay clean; the rest lie on the line from the latents to the noise
        mask = torch.zeros(b, f, device=latents.device, dtype=latents.dtype)
        mask[:, :self.given] = 1
        given = mask[:, None, :, None, None] > 0
        context = torch.where(given, latents, torch.zeros_like(latents))
        x = torch.where(given, latents, flow.noisy(latents, noise, sigmas))
        # 3. the caption, dropped at cond_dropout's rate for classifier-free guidance
        emb = None
        if text_encoder is not None:
            drop = torch.rand(b, generator=generator, device=generator.device) < self.cfg.cond_dropout
            emb = text_encoder(captions, drop=drop.to(latents.device))
        # 4. the velocity and its error on the frames to make
        velocity = transformer(x, timesteps.to(latents.device), context, mask, emb)
        return flow.loss(velocity, latents, noise, sigmas, 1 - mask, self.cfg.loss_weighting)

    def pipeline(self, transformer, text_encoder, training_config: dict):
        from vidlab.pipeline import LatentVideoPipeline

        return LatentVideoPipeline(vae=self.vae, transformer=transformer, scheduler=flow.scheduler(self.cfg.flow_shift),
                                   text_encoder=text_encoder, training_config=training_config)

    @staticmethod
    def load(folder):
        from vidlab.pipeline import read_folder

        return read_folder(folder)


def check(cfg, group: int) -> None:
    """Refuse frame counts a latent transformer cannot train on, naming the value and the fix (``group``: its
    VAE's frames per latent frame)."""
    for name in ("num_frames", "context_frames"):
        problem = frame_count_error(getattr(cfg, name), group)
        if problem:
            raise ValueError(f"{name}={getattr(cfg, name)}: {problem} (the VAE's latent frames)")
    if cfg.context_frames >= cfg.num_frames:
        raise ValueError(f"context_frames={cfg.context_frames}: must be fewer than num_frames={cfg.num_frames}")


def load_vae(path) -> TinyVideoVAE:
    """The trained VAE at ``path``: a run's ``pipeline`` folder of family ``"vae"``, a latent pipeline's folder
    (its ``vae``), or a shipped latent model's name (``"tiny-latent"``: the VAE vidlab ships); a clear error
    when there is none."""
    from vidlab.pipeline import SHIPPED_MODELS

    folder = SHIPPED_MODELS.get(str(path), Path(path))
    if not (folder / "config.json").is_file() and (folder / "vae" / "config.json").is_file():
        folder = folder / "vae"  # a whole latent pipeline: take its VAE
    if not (folder / "config.json").is_file():
        raise ValueError(f"vae={str(path)!r}: no trained VAE there (a folder with config.json and the weights); "
                         "train one with `python -m vidlab.train --family vae --output runs/vae` and pass "
                         "runs/vae/pipeline")
    return TinyVideoVAE.from_pretrained(folder)


def _stats_config(cfg):
    """``cfg`` drawing :data:`STATS_CLIPS` fresh training clips in one batch (for the latent statistics)."""
    import dataclasses

    return dataclasses.replace(cfg, batch_size=STATS_CLIPS)
