"""A small space-time denoiser for video diffusion, sized to train on a laptop CPU.

Factorised: each block mixes space with 2-D convolutions inside every frame and mixes time with attention
across frames at every spatial position; at the coarsest level of a small U-Net, attention spans all
space-time tokens. Frames are cut into 4x4 patches first (pixel-unshuffle in, pixel-shuffle out), which
makes the network cheap at 32x32 px: most of the work is dense convolution.

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


def denoiser_inputs(sample: torch.Tensor, context: torch.Tensor, context_mask: torch.Tensor,
                    given_frames: int = 1) -> torch.Tensor:
    """Every frame's input channels: noisy frame, clean context (or zeros), context mask, last known frame(s).

    ``sample`` and ``context`` [B, T, C, H, W], ``context_mask`` [B, T] -> [B, T, (2 + g)C + 1, H, W] with
    g = ``given_frames``. Giving the last known frame to every frame lets a net copy the scene and predict only
    what moved; giving the last g known frames (oldest first) shows even a frame denoised on its own how the
    scene was moving.
    """
    b, t, c, h, w = sample.shape
    mask = context_mask.to(sample.dtype)
    last_known = (mask * torch.arange(t, device=mask.device)).argmax(1)
    rows = torch.arange(b, device=context.device)
    anchors = [context[rows, (last_known - back).clamp(min=0)][:, None].expand(b, t, c, h, w)
               for back in range(given_frames - 1, -1, -1)]
    return torch.cat([sample, context, mask[:, :, None, None, None].expand(b, t, 1, h, w), *anchors], dim=2)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product attention, ``[S, heads, N, d]`` each. torch's fused kernel, except in bf16 on a CPU.

    On a CPU, torch's fused (flash) kernel is slow in bf16 at this model's sizes (sequences of 16 frames, heads
    of 8 to 32 channels): 1.7 to 4.5 times slower than in fp32 (README, Speed), while the plain matrix-product
    form runs on the CPU's bf16 units. Both compute the same softmax(q k^T / sqrt(d)) v.
    """
    if q.device.type == "cpu" and q.dtype == torch.bfloat16:
        weights = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
        return weights.softmax(-1) @ v
    return F.scaled_dot_product_attention(q, k, v)


class ResBlock(nn.Module):
    """Residual 2-D conv block applied to every frame, modulated by the conditioning vector (FiLM)."""

    def __init__(self, c_in: int, c_out: int, cond_dim: int, groups: int = 8):
        super().__init__()
        self.norm1, self.norm2 = nn.GroupNorm(groups, c_in), nn.GroupNorm(groups, c_out)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.film = nn.Linear(cond_dim, 2 * c_out)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:  # x [N, C, h, w], cond [N, D]
        scale, shift = self.film(cond)[..., None, None].chunk(2, dim=1)
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.norm2(h) * (1 + scale) + shift
        return self.skip(x) + self.conv2(F.silu(h))


class Attention(nn.Module):
    """Pre-norm self-attention over a token sequence plus a small MLP, with learned frame positions.

    ``space_time=False``: each spatial position attends across frames only (cheap, used at every level).
    ``space_time=True``: every token of the clip attends to every other (used at the coarsest level, where
    there are few tokens), so the net can relate where the ball was to where it goes.
    """

    def __init__(self, channels: int, heads: int, max_frames: int, space_time: bool = False):
        super().__init__()
        self.heads, self.space_time = heads, space_time
        self.norm = nn.LayerNorm(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)
        self.pos = nn.Parameter(torch.zeros(max_frames, channels))
        self.mlp = nn.Sequential(nn.LayerNorm(channels), nn.Linear(channels, 2 * channels), nn.GELU(),
                                 nn.Linear(2 * channels, channels))

    def forward(self, x: torch.Tensor, b: int, t: int) -> torch.Tensor:  # x [B*T, C, h, w]
        _, c, hh, ww = x.shape
        seq = x.view(b, t, c, hh * ww).permute(0, 3, 1, 2) + self.pos[:t]  # [B, hw, T, C]
        seq = seq.reshape(b, hh * ww * t, c) if self.space_time else seq.reshape(b * hh * ww, t, c)
        s, n, _ = seq.shape
        q, k, v = self.qkv(self.norm(seq)).view(s, n, 3, self.heads, c // self.heads).unbind(2)
        attn = attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        seq = seq + self.proj(attn.transpose(1, 2).reshape(s, n, c))
        seq = seq + self.mlp(seq)
        return seq.reshape(b, hh * ww, t, c).permute(0, 2, 3, 1).reshape(b * t, c, hh, ww)


class VideoDenoiser(ModelMixin, ConfigMixin):
    """Predicts noise (or v, or the clean clip) for a whole clip at once, given its known context frames.

    A small U-Net over frames cut into ``patch`` x ``patch`` patches: each level has 2-D residual blocks
    (space) followed by attention across frames (time); the coarsest level attends over all space-time
    tokens. ``temporal=False`` removes all mixing across frames: each frame is then denoised on its own
    (notebook 01 shows what that does to a clip). Every frame's input carries (noisy frame, clean context
    or zeros, context mask, last known frame), so the net knows which frames are given and can copy the
    scene from the last one. Two options separate what a frame denoised on its own lacks (notebook 01):
    ``frame_index=True`` adds each frame's position in the clip to its conditioning, and ``given_frames=g``
    hands every frame the last g known frames instead of only the last.

    Input ``sample`` [B, T, 3, H, W] in about [-1, 1]; ``timestep`` [B] or a scalar; ``context`` [B, T, 3, H, W]
    holding the clean known frames (zeros elsewhere); ``context_mask`` [B, T] (1 where a frame is known);
    optional ``text_embedding`` [B, cond_dim].
    """

    @register_to_config
    def __init__(self, channels: int = 64, mults: tuple | list = (1, 2, 4), depth: int = 1, patch: int = 4,
                 heads: int = 4, max_frames: int = 64, in_channels: int = 3, cond_dim: int = 256,
                 temporal: bool = True, frame_index: bool = False, given_frames: int = 1):
        super().__init__()
        if given_frames < 1:
            raise ValueError(f"given_frames={given_frames}: every frame sees at least the last known frame (1)")
        widths = [channels * m for m in mults]
        self.stem = nn.Conv2d(((2 + given_frames) * in_channels + 1) * patch * patch, widths[0], 3, padding=1)
        self.time_mlp = nn.Sequential(nn.Linear(cond_dim, cond_dim), nn.SiLU(), nn.Linear(cond_dim, cond_dim))
        self.frame_mlp = nn.Linear(cond_dim, cond_dim) if frame_index else None
        self.down, self.down_attn, self.downsample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        c_prev = widths[0]
        for i, w in enumerate(widths):
            last = i == len(widths) - 1
            for _ in range(depth):
                self.down.append(ResBlock(c_prev, w, cond_dim))
                self.down_attn.append(Attention(w, heads, max_frames, space_time=last)
                                      if temporal else nn.Identity())
                c_prev = w
            self.downsample.append(nn.Identity() if last else nn.Conv2d(w, widths[i + 1], 3, stride=2, padding=1))
            c_prev = w if last else widths[i + 1]
        self.up, self.up_attn, self.upsample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i, w in reversed(list(enumerate(widths))):
            for _ in range(depth):
                self.up.append(ResBlock(c_prev + w, w, cond_dim))
                self.up_attn.append(Attention(w, heads, max_frames, space_time=i == len(widths) - 1)
                                    if temporal else nn.Identity())
                c_prev = w
            self.upsample.append(nn.Identity() if i == 0 else nn.Sequential(
                nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(w, widths[i - 1], 3, padding=1)))
            c_prev = w if i == 0 else widths[i - 1]
        self.out_norm = nn.GroupNorm(8, widths[0])
        self.out = nn.Conv2d(widths[0], in_channels * patch * patch, 3, padding=1)

    def forward(self, sample, timestep, context, context_mask, text_embedding=None):
        b, t, c, h, w = sample.shape
        p, levels = self.config.patch, len(self.config.mults)
        if h % (p * 2 ** (levels - 1)) or w % (p * 2 ** (levels - 1)):
            raise ValueError(f"frame size {h}x{w}: expected multiples of {p * 2 ** (levels - 1)} "
                             f"(patch {p}, {levels} levels)")
        g = self.config.given_frames
        x = denoiser_inputs(sample, context, context_mask, g).reshape(b * t, (2 + g) * c + 1, h, w)
        x = self.stem(F.pixel_unshuffle(x, p))  # [B*T, C, h/p, w/p]
        timestep = torch.as_tensor(timestep, device=sample.device).reshape(-1).expand(b)
        cond = timestep_embedding(timestep, self.config.cond_dim)
        if text_embedding is not None:
            cond = cond + text_embedding
        cond = self.time_mlp(cond).repeat_interleave(t, dim=0)
        if self.frame_mlp is not None:  # each frame's position in the clip: 0, 1, ..., T-1
            position = timestep_embedding(torch.arange(t, device=sample.device), self.config.cond_dim)
            cond = cond + self.frame_mlp(position).repeat(b, 1)
        depth, skips = self.config.depth, []
        for i, down in enumerate(self.downsample):
            for j in range(i * depth, (i + 1) * depth):
                x = self._mix(self.down_attn[j], self.down[j](x, cond), b, t)
                skips.append(x)
            x = down(x)
        for i, up in enumerate(self.upsample):
            for j in range(i * depth, (i + 1) * depth):
                x = self._mix(self.up_attn[j], self.up[j](torch.cat([x, skips.pop()], dim=1), cond), b, t)
            x = up(x)
        out = F.pixel_shuffle(self.out(F.silu(self.out_norm(x))), p)
        return out.view(b, t, c, h, w)

    @staticmethod
    def _mix(attention, x, b, t):
        return x if isinstance(attention, nn.Identity) else attention(x, b, t)


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
