"""The U-Net's family: DDPM on pixels (notebooks 01-05). Its noise schedules, the network it builds, the loss of
one batch and the pipeline it saves; ``vidlab.train``'s loop trains it as it trains the latent families
(:mod:`vidlab.families.latent`), through the same four members (``PixelDiffusion``). ``cfg`` is always a
``vidlab.train.TrainConfig``.

The names stay importable from ``vidlab.train`` (``train.loss_on_batch``, ``train.training_scheduler``...).
"""

from __future__ import annotations

import torch
from diffusers import DDPMScheduler
from diffusers.training_utils import compute_snr
from diffusers.utils.torch_utils import randn_tensor

from vidlab import world
from vidlab.denoiser import TinyTextEncoder, VideoDenoiser
from vidlab.pipeline import VidlabPipeline, default_sampler, read_folder

# Noise schedules by name (diffusers' settings). "cosine": ᾱ at t = 999 is 2.4e-9, so sampling from t = 999
# recovers x̂0 from an ε prediction by dividing by √ᾱ ≈ 4.9e-5. "cosine_zero_snr": the same rescaled to ᾱ = 0
# at t = 999 (Lin et al. 2024), where ε is undefined: use it with v or the clean clip. "scaled_linear": Stable
# Diffusion 1-2's schedule, trained with ε; its √ᾱ at t = 999 is 0.068. Every sampler reads them from the config.
NOISE_SCHEDULES = {"cosine": {"beta_schedule": "squaredcos_cap_v2"},
                   "cosine_zero_snr": {"beta_schedule": "squaredcos_cap_v2", "rescale_betas_zero_snr": True},
                   "scaled_linear": {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012}}


def training_scheduler(cfg) -> DDPMScheduler:
    """The noise schedule ``cfg`` trains with (``cfg.noise_schedule``); its config is the sampler's too."""
    if cfg.noise_schedule not in NOISE_SCHEDULES:
        raise ValueError(f"noise_schedule={cfg.noise_schedule!r}: expected one of {sorted(NOISE_SCHEDULES)}")
    settings = NOISE_SCHEDULES[cfg.noise_schedule]
    if settings.get("rescale_betas_zero_snr") and cfg.prediction_type == "epsilon":
        raise ValueError(f"noise_schedule={cfg.noise_schedule!r} with prediction_type='epsilon': at zero terminal "
                         "SNR the noise cannot be told from the clip at t = 999; use 'v_prediction' or 'sample'")
    return DDPMScheduler(num_train_timesteps=1000, prediction_type=cfg.prediction_type, clip_sample=False,
                         **settings)


def build(cfg):
    denoiser = VideoDenoiser(channels=cfg.channels, mults=tuple(cfg.mults), depth=cfg.depth,
                             max_frames=max(64, cfg.num_frames), temporal=cfg.temporal,
                             frame_index=cfg.frame_index, given_frames=cfg.given_frames)
    text = TinyTextEncoder(vocab=world.caption_vocabulary(), dim=denoiser.config.cond_dim) if cfg.text else None
    return denoiser, text


def min_snr_weights(scheduler, steps: torch.Tensor, prediction_type: str, gamma: float) -> torch.Tensor:
    """Min-SNR-gamma loss weight of each clip's timestep (Hang et al. 2023), for the given prediction target.

    The paper weights the noise-prediction loss by min(SNR, gamma) / SNR; the same weighting of the other
    targets' losses is min(SNR, gamma) for the clean clip and min(SNR, gamma) / (SNR + 1) for v. SNR comes
    from diffusers' ``compute_snr``. At high noise (SNR << 1) the clean-clip and v losses are scaled down.
    """
    if gamma <= 0:
        raise ValueError(f"snr_gamma={gamma}: must be positive (5 is the paper's choice), or None for no weighting")
    snr = compute_snr(scheduler, steps).clamp(min=1e-8)
    clipped = snr.clamp(max=gamma)
    weights = {"sample": clipped, "epsilon": clipped / snr, "v_prediction": clipped / (snr + 1)}
    if prediction_type not in weights:
        raise ValueError(f"prediction_type={prediction_type!r}: expected one of {sorted(weights)}")
    return weights[prediction_type]


def loss_on_batch(denoiser, text_encoder, scheduler, cfg, video, captions, generator, steps=None):
    """Noise the unknown frames, predict, and return the mean squared error over those frames.

    ``steps`` [B]: the noise level (timestep) of each clip; random when None, as in training. Every tensor is
    made on ``video``'s device; random draws come from ``generator`` (a CPU generator gives the same draws
    on every device).
    """
    b, t = video.shape[:2]
    device = video.device
    noise = randn_tensor(video.shape, generator=generator, device=device, dtype=video.dtype)
    if steps is None:  # uniform, or tilted towards high noise, where the ball's path is decided
        u = torch.rand(b, generator=generator, device=generator.device) ** (1 / cfg.high_noise_bias)
        steps = (u * scheduler.config.num_train_timesteps).long().clamp(max=scheduler.config.num_train_timesteps - 1)
    steps = steps.to(device)
    noisy = scheduler.add_noise(video, noise, steps)
    mask = torch.zeros(b, t, device=device)
    mask[:, :cfg.context_frames] = 1
    context = video * mask[:, :, None, None, None]
    if cfg.context_noise > 0:  # noise augmentation: each clip's given frames get a noise level from 0 to context_noise
        level = torch.rand(b, generator=generator, device=generator.device).to(device) * cfg.context_noise
        jitter = randn_tensor(video.shape, generator=generator, device=device, dtype=video.dtype)
        context = context + jitter * (level[:, None] * mask)[:, :, None, None, None]
    noisy = torch.where(mask[:, :, None, None, None] > 0, context, noisy)
    emb = None
    if text_encoder is not None:
        drop = torch.rand(b, generator=generator, device=generator.device) < cfg.cond_dropout
        emb = text_encoder(captions, drop=drop.to(device))
    pred = denoiser(noisy, steps, context, mask, emb)
    target = {"epsilon": noise, "sample": video}.get(cfg.prediction_type)
    if target is None:
        target = scheduler.get_velocity(video, noise, steps)
    err = (pred - target).pow(2).mean(dim=(2, 3, 4))
    if cfg.snr_gamma is not None:
        err = err * min_snr_weights(scheduler, steps, cfg.prediction_type, cfg.snr_gamma)[:, None]
    return (err * (1 - mask)).sum() / (1 - mask).sum()


class PixelDiffusion:
    """The U-Net's family (``family="unet"``): DDPM on pixels, saved as a :class:`VidlabPipeline` with a DDIM
    sampler on the training schedule. Its members are those of every family (``vidlab.families``)."""

    def __init__(self, cfg, device=None):
        self.cfg, self.scheduler = cfg, training_scheduler(cfg)

    def nets(self) -> tuple:
        return build(self.cfg)

    def loss(self, denoiser, text_encoder, video, captions, generator) -> torch.Tensor:
        return loss_on_batch(denoiser, text_encoder, self.scheduler, self.cfg, video, captions, generator)

    def pipeline(self, denoiser, text_encoder, training_config: dict) -> VidlabPipeline:
        return VidlabPipeline(denoiser=denoiser, scheduler=default_sampler(self.scheduler.config),
                              text_encoder=text_encoder, training_config=training_config)

    @staticmethod
    def load(folder) -> VidlabPipeline:
        return read_folder(folder)
