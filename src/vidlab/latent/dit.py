"""A diffusion transformer over spacetime latent patches: the denoiser of Sora's report and of the public video
models of this series (Wan 2.1, CogVideoX, LTX-Video, HunyuanVideo), at tiny scale.

    latents [B, C, F, H, W]  (the noisy clip, the given frames as clean latents, and their mask: Wan's image-to-video
                              input, channels stacked)
      -> patchify: every (pt, ph, pw) block of the latent grid becomes one token  [B, N, C_in * pt * ph * pw]
      -> a linear embedding                                                       [B, N, width]
      -> ``depth`` blocks, each: AdaLN-Zero -> self-attention over all N tokens, 3-D rotary positions
                                 AdaLN-Zero -> MLP
      -> a final adaptive LayerNorm and a linear layer, zero at the start
      -> unpatchify                                                               [B, C, F, H, W]: the velocity

AdaLN-Zero (Peebles & Xie 2023): the timestep (and a caption, if any) sets a shift, a scale and a gate for each
sub-layer's input; the gates start at zero, so every block starts as the identity. The rotary positions are Wan
2.1's own (``diffusers``' ``WanRotaryPosEmbed``: the head's dimensions split between frame, row and column).
Attention is torch's ``scaled_dot_product_attention`` over every token of the clip: full spacetime attention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps, apply_rotary_emb
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.transformers.transformer_wan import WanRotaryPosEmbed
from torch import nn


def patchify(latents: torch.Tensor, patch: tuple[int, int, int]) -> torch.Tensor:
    """[B, C, F, H, W] -> [B, N, C * pt * ph * pw]: one token per patch, in frame, row, column order."""
    b, c, f, h, w = latents.shape
    pt, ph, pw = patch
    if f % pt or h % ph or w % pw:
        raise ValueError(f"latents of {f} frames x {h} x {w} do not split into patches of {patch}: each size must "
                         "be a multiple of the patch's")
    x = latents.reshape(b, c, f // pt, pt, h // ph, ph, w // pw, pw)
    return x.permute(0, 2, 4, 6, 1, 3, 5, 7).reshape(b, (f // pt) * (h // ph) * (w // pw), c * pt * ph * pw)


def unpatchify(tokens: torch.Tensor, patch: tuple[int, int, int], grid: tuple[int, int, int]) -> torch.Tensor:
    """The inverse of :func:`patchify`: [B, N, C * pt * ph * pw] -> [B, C, F, H, W] for a grid of (F, H, W)
    latent frames, rows and columns."""
    b, n, d = tokens.shape
    pt, ph, pw = patch
    f, h, w = grid
    c = d // (pt * ph * pw)
    x = tokens.reshape(b, f // pt, h // ph, w // pw, c, pt, ph, pw)
    return x.permute(0, 4, 1, 5, 2, 6, 3, 7).reshape(b, c, f, h, w)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """AdaLN: a normalised input, scaled and shifted per clip ([B, 1, D]) by the conditioning."""
    return x * (1 + scale) + shift


class DiTBlock(nn.Module):
    """Self-attention and an MLP, each behind an AdaLN-Zero (shift, scale, gate) set by the conditioning."""

    def __init__(self, width: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, int(width * mlp_ratio)), nn.GELU(approximate="tanh"),
                                 nn.Linear(int(width * mlp_ratio), width))
        self.modulation = nn.Linear(width, 6 * width)
        nn.init.zeros_(self.modulation.weight)  # "Zero": every gate starts at 0, the block at the identity
        nn.init.zeros_(self.modulation.bias)

    def attention(self, x: torch.Tensor, rotary: tuple) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # [B, h, N, hd]
        q, k = (apply_rotary_emb(t, rotary, use_real=True, use_real_unbind_dim=-1) for t in (q, k))
        return self.out(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d))

    def forward(self, x: torch.Tensor, cond: torch.Tensor, rotary: tuple) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(F.silu(cond))[:, None].chunk(6, dim=-1)
        x = x + gate1 * self.attention(modulate(self.norm1(x), shift1, scale1), rotary)
        return x + gate2 * self.mlp(modulate(self.norm2(x), shift2, scale2))


class SpacetimeDiT(ModelMixin, ConfigMixin):
    """The velocity of a noisy latent clip, given its clean given frames, the noise level and (optionally) a caption.

    ``forward(latents, timestep, context, mask, text_emb=None)``: ``latents`` and ``context`` [B, C, F, H, W]
    (``context`` holds the given latent frames, zero elsewhere), ``mask`` [B, F] (1 on given frames),
    ``timestep`` [B] or a scalar (flow matching's sigma times 1,000), ``text_emb`` [B, cond_dim] or None.
    """

    @register_to_config
    def __init__(self, latent_channels: int = 8, patch_size: tuple[int, int, int] = (1, 2, 2), width: int = 128,
                 depth: int = 4, heads: int = 4, mlp_ratio: float = 4.0, cond_dim: int | None = None,
                 max_positions: int = 64):
        super().__init__()
        if width % heads or (width // heads) % 2:
            raise ValueError(f"width={width} with heads={heads}: each head's width must be a whole, even number")
        patch_size = tuple(patch_size)
        self.embed = nn.Linear((2 * latent_channels + 1) * patch_size[0] * patch_size[1] * patch_size[2], width)
        self.rotary = WanRotaryPosEmbed(width // heads, patch_size, max_positions)
        self.time_proj = Timesteps(256, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embed = TimestepEmbedding(256, width)
        self.text_embed = nn.Linear(cond_dim, width) if cond_dim else None
        self.blocks = nn.ModuleList(DiTBlock(width, heads, mlp_ratio) for _ in range(depth))
        self.norm_out = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.modulation_out = nn.Linear(width, 2 * width)
        self.proj_out = nn.Linear(width, latent_channels * patch_size[0] * patch_size[1] * patch_size[2])
        for layer in (self.modulation_out, self.proj_out):  # the output starts at zero velocity
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def conditioning(self, timestep: torch.Tensor, batch: int, text_emb: torch.Tensor | None, dtype) -> torch.Tensor:
        """[B, width]: the timestep's sinusoidal embedding through an MLP, plus the caption's, if any."""
        timestep = torch.as_tensor(timestep, device=self.device).reshape(-1).expand(batch)
        cond = self.time_embed(self.time_proj(timestep).to(dtype))
        if text_emb is not None:
            if self.text_embed is None:
                raise ValueError("this transformer was built without captions (cond_dim=None): pass text_emb=None")
            cond = cond + self.text_embed(text_emb.to(dtype))
        return cond

    def forward(self, latents, timestep, context, mask, text_emb=None) -> torch.Tensor:
        # 1. the input: noisy latents, clean given latents and the mask, stacked as channels (Wan's image-to-video)
        b, c, f, h, w = latents.shape
        if c != self.config.latent_channels:
            raise ValueError(f"latents have {c} channels: this transformer takes {self.config.latent_channels}")
        mask_channel = mask.to(latents.dtype)[:, None, :, None, None].expand(b, 1, f, h, w)
        x = torch.cat([latents, context.to(latents.dtype), mask_channel], dim=1)
        # 2. tokens, their 3-D rotary positions and the conditioning
        patch = tuple(self.config.patch_size)
        tokens = self.embed(patchify(x, patch))
        cos, sin = self.rotary(x)
        rotary = (cos[0, :, 0].to(tokens.dtype), sin[0, :, 0].to(tokens.dtype))  # [N, head width] each
        cond = self.conditioning(timestep, b, text_emb, tokens.dtype)
        # 3. the transformer blocks: full attention over every spacetime token
        for block in self.blocks:
            tokens = block(tokens, cond, rotary)
        # 4. out: adaptive LayerNorm, a linear layer, and the tokens back into a latent clip
        shift, scale = self.modulation_out(F.silu(cond))[:, None].chunk(2, dim=-1)
        return unpatchify(self.proj_out(modulate(self.norm_out(tokens), shift, scale)), patch, (f, h, w))
