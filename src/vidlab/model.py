"""A small space-time denoiser for video diffusion, sized to train on a laptop CPU.

Factorised: each block mixes space with 2-D convolutions inside every frame and mixes time with attention
across frames at every spatial position. Frames are cut into 4x4 patches first (pixel-unshuffle in,
pixel-shuffle out), which makes the network cheap at 32x32 px: most of the work is dense convolution.

Conditioning:
- context frames: the first k frames are given clean; every frame's input carries (noisy frame, clean
  context or zeros, a context mask), so the net knows which frames are known;
- timestep: sinusoidal embedding and an MLP, applied as a scale and shift (FiLM) in every block;
- optional prompt: :class:`TinyTextEncoder` turns a caption into a vector that is added to the timestep
  embedding (a learned null vector stands for "no prompt", for classifier-free guidance).

Both classes are diffusers ``ModelMixin`` + ``ConfigMixin``, so they save and load with safetensors through
``save_pretrained`` / ``from_pretrained`` like any diffusers model.
"""

from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of (possibly fractional) timesteps, shape [B] -> [B, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class SpaceBlock(nn.Module):
    """Residual 2-D conv block applied to every frame, modulated by the conditioning vector."""

    def __init__(self, channels: int, cond_dim: int, groups: int = 8):
        super().__init__()
        self.norm1, self.norm2 = nn.GroupNorm(groups, channels), nn.GroupNorm(groups, channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.film = nn.Linear(cond_dim, 2 * channels)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:  # x [N, C, h, w], cond [N, D]
        scale, shift = self.film(cond)[..., None, None].chunk(2, dim=1)
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.norm2(h) * (1 + scale) + shift
        return x + self.conv2(F.silu(h))


class TimeBlock(nn.Module):
    """Pre-norm self-attention across frames at every spatial position, plus a small MLP."""

    def __init__(self, channels: int, heads: int, max_frames: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)
        self.pos = nn.Parameter(torch.zeros(max_frames, channels))
        self.mlp = nn.Sequential(nn.LayerNorm(channels), nn.Linear(channels, 2 * channels), nn.GELU(),
                                 nn.Linear(2 * channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x [S, T, C]: S sequences of T frames
        s, t, c = x.shape
        q, k, v = self.qkv(self.norm(x + self.pos[:t])).view(s, t, 3, self.heads, c // self.heads).unbind(2)
        attn = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        x = x + self.proj(attn.transpose(1, 2).reshape(s, t, c))
        return x + self.mlp(x)


class VideoDenoiser(ModelMixin, ConfigMixin):
    """Predicts noise (or v, or the clean clip) for a whole clip at once, given its known context frames.

    Input ``sample`` [B, T, 3, H, W] in about [-1, 1]; ``timestep`` [B] or a scalar; ``context`` [B, T, 3, H, W]
    holding the clean known frames (zeros elsewhere); ``context_mask`` [B, T] (1 where a frame is known);
    optional ``text_embedding`` [B, cond_dim].
    """

    @register_to_config
    def __init__(self, channels: int = 128, depth: int = 6, patch: int = 4, heads: int = 4,
                 max_frames: int = 64, in_channels: int = 3, cond_dim: int = 256):
        super().__init__()
        per_frame = (2 * in_channels + 1) * patch * patch
        self.stem = nn.Conv2d(per_frame, channels, 3, padding=1)
        self.time_mlp = nn.Sequential(nn.Linear(cond_dim, cond_dim), nn.SiLU(), nn.Linear(cond_dim, cond_dim))
        self.space = nn.ModuleList(SpaceBlock(channels, cond_dim) for _ in range(depth))
        self.time = nn.ModuleList(TimeBlock(channels, heads, max_frames) for _ in range(depth))
        self.out_norm = nn.GroupNorm(8, channels)
        self.out = nn.Conv2d(channels, in_channels * patch * patch, 3, padding=1)

    def forward(self, sample, timestep, context, context_mask, text_embedding=None):
        b, t, c, h, w = sample.shape
        p = self.config.patch
        if h % p or w % p:
            raise ValueError(f"frame size {h}x{w}: expected multiples of the patch size {p}")
        mask = context_mask.to(sample.dtype)[:, :, None, None, None].expand(b, t, 1, h, w)
        x = torch.cat([sample, context, mask], dim=2).reshape(b * t, 2 * c + 1, h, w)
        x = self.stem(F.pixel_unshuffle(x, p))  # [B*T, C, h/p, w/p]
        timestep = torch.as_tensor(timestep, device=sample.device).reshape(-1).expand(b)
        cond = timestep_embedding(timestep, self.config.cond_dim)
        if text_embedding is not None:
            cond = cond + text_embedding
        cond = self.time_mlp(cond).repeat_interleave(t, dim=0)
        hh, ww = x.shape[-2:]
        for space, time in zip(self.space, self.time, strict=True):
            x = space(x, cond)
            seq = x.view(b, t, -1, hh * ww).permute(0, 3, 1, 2).reshape(b * hh * ww, t, -1)
            x = time(seq).view(b, hh * ww, t, -1).permute(0, 2, 3, 1).reshape(b * t, -1, hh, ww)
        out = F.pixel_shuffle(self.out(F.silu(self.out_norm(x))), p)
        return out.view(b, t, c, h, w)


class TinyTextEncoder(ModelMixin, ConfigMixin):
    """A bag-of-words caption encoder trained with the denoiser. Its vocabulary is part of its config."""

    @register_to_config
    def __init__(self, vocab: list | tuple = (), dim: int = 256):
        super().__init__()
        self.index = {w: i + 1 for i, w in enumerate(vocab)}  # 0 is padding
        self.embed = nn.EmbeddingBag(len(vocab) + 1, dim, mode="mean", padding_idx=0)
        self.null = nn.Parameter(torch.zeros(dim))  # "no prompt", for classifier-free guidance

    @staticmethod
    def words(text: str) -> list:
        return re.findall(r"[a-z0-9]+", text.lower())

    def unknown_words(self, prompts) -> list:
        return sorted({w for p in prompts for w in self.words(p) if w not in self.index})

    def forward(self, prompts: list, drop: torch.Tensor | None = None) -> torch.Tensor:
        """Embed prompts ([B] strings, None for no prompt); ``drop`` [B] bool swaps in the null vector."""
        missing = self.unknown_words([p for p in prompts if p])
        if missing:
            raise ValueError(f"prompt words outside the vocabulary: {missing}; the model knows {len(self.index)} "
                             "words from the world's captions (pipe.text_encoder.config.vocab)")
        ids = [[self.index[w] for w in self.words(p)] or [0] if p else [0] for p in prompts]
        flat = torch.tensor([i for seq in ids for i in seq], dtype=torch.long, device=self.null.device)
        offsets = torch.tensor([0] + [len(s) for s in ids[:-1]], device=self.null.device).cumsum(0)
        out = self.embed(flat, offsets)
        none = torch.tensor([not p for p in prompts], device=out.device)
        if drop is not None:
            none = none | drop.to(out.device)
        return torch.where(none[:, None], self.null.expand_as(out), out)
