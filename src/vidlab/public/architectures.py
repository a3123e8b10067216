"""The real configurations of each registry entry's parts, to build with random weights.

Compute time and memory depend on the architecture, the shapes and the dtype, not on the weight values, so a
part built here at its real configuration (on the ``meta`` device, it costs nothing) gives true parameter
counts, and on a GPU true step times (``benchmarks/public_models_cost.py``). Nothing here says anything about
output quality.

The configurations are those of diffusers' conversion scripts and the models' ``config.json`` files, as the
project recorded them (REFERENCES.md#h100-architectures); where the
constructor's defaults are the real model they are used as they are. ModelScope's VAE is Stable Diffusion
1.x's; its text encoder is OpenCLIP ViT-H/14's text tower; SVD's image encoder is CLIP ViT-H/14's vision tower.
"""

from __future__ import annotations

import dataclasses
import functools
import time

import torch

from vidlab.public.registry import Settings, entry

_SD_VAE = dict(block_out_channels=(128, 256, 512, 512), in_channels=3, out_channels=3, latent_channels=4,
               down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
               layers_per_block=2, sample_size=512)
_T5_XXL = dict(vocab_size=32128, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
               feed_forward_proj="gated-gelu")


def denoiser(name: str):
    """The denoiser (transformer or UNet) of ``name`` at its real configuration, random weights."""
    import diffusers as d

    entry(name)
    if name == "wan2.1-t2v-1.3b":
        return d.WanTransformer3DModel(num_attention_heads=12, attention_head_dim=128, ffn_dim=8960, num_layers=30)
    if name == "ltx-video":
        return d.LTXVideoTransformer3DModel()
    if name == "cogvideox-2b":
        return d.CogVideoXTransformer3DModel()
    if name == "modelscope-1.7b":
        return d.UNet3DConditionModel(sample_size=32)
    if name == "svd-xt":
        return d.UNetSpatioTemporalConditionModel(sample_size=96)
    unet = d.UNet2DConditionModel(sample_size=64, cross_attention_dim=768)  # SD 1.5
    verbosity = d.utils.logging.get_verbosity()
    d.utils.logging.set_verbosity_error()  # from_unet2d casts with .to(), and warns about it: nothing to act on
    try:
        return d.UNetMotionModel.from_unet2d(unet, d.MotionAdapter())
    finally:
        d.utils.logging.set_verbosity(verbosity)


def vae(name: str):
    """The VAE of ``name`` at its real configuration, random weights."""
    import diffusers as d

    entry(name)
    if name == "wan2.1-t2v-1.3b":
        return d.AutoencoderKLWan()
    if name == "ltx-video":
        return d.AutoencoderKLLTXVideo()
    if name == "cogvideox-2b":
        return d.AutoencoderKLCogVideoX()
    if name == "svd-xt":
        return d.AutoencoderKLTemporalDecoder(**{k: _SD_VAE[k] for k in (
            "block_out_channels", "in_channels", "out_channels", "latent_channels", "down_block_types",
            "layers_per_block")})
    return d.AutoencoderKL(**_SD_VAE)


def conditioner(name: str):
    """The text (or, for SVD, image) encoder of ``name`` at its real configuration, random weights."""
    import transformers as t

    entry(name)
    if name == "wan2.1-t2v-1.3b":  # UMT5-XXL: T5-XXL's shape with a 256k vocabulary
        return t.UMT5EncoderModel(t.UMT5Config(**{**_T5_XXL, "vocab_size": 256384}))
    if name in ("ltx-video", "cogvideox-2b"):
        return t.T5EncoderModel(t.T5Config(**_T5_XXL))
    if name == "svd-xt":
        return t.CLIPVisionModelWithProjection(t.CLIPVisionConfig(
            hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16,
            patch_size=14, image_size=224, projection_dim=1024, hidden_act="gelu"))
    if name == "modelscope-1.7b":
        return t.CLIPTextModel(t.CLIPTextConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=23,
                                                num_attention_heads=16, projection_dim=1024, hidden_act="gelu"))
    return t.CLIPTextModel(t.CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                            num_attention_heads=12, projection_dim=768))  # SD 1.5: CLIP ViT-L/14


@functools.cache
def parameter_counts(name: str) -> dict:
    """Parameters of each part of ``name`` ({"conditioner", "denoiser", "vae"}), counted on the meta device."""
    with torch.device("meta"):
        parts = {"conditioner": conditioner(name), "denoiser": denoiser(name), "vae": vae(name)}
    return {part: sum(p.numel() for p in module.parameters()) for part, module in parts.items()}


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


# Measured for this project on one H100 80GB (torch 2.11, CUDA 13, diffusers 0.42.1), random weights at the real
# configurations, bf16 (ModelScope fp16), SDPA, no offload: seconds per guided step, VAE decode seconds and peak
# GiB (denoiser, VAE) at the settings given (REFERENCES.md#h100-architectures).
H100_MEASURED = {
    "wan2.1-t2v-1.3b": {"settings": Settings(832, 480, 81, 50, 5.0, 16), "step_s": 1.256, "decode_s": 2.08,
                        "peak_gib": (4.19, 4.67)},
    "cogvideox-2b": {"settings": Settings(720, 480, 49, 50, 6.0, 8), "step_s": 0.644, "decode_s": 2.30,
                     "peak_gib": (4.82, 15.19)},
    "ltx-video": {"settings": Settings(704, 480, 161, 50, 3.0, 25), "step_s": 0.214, "decode_s": 0.34,
                  "peak_gib": (4.47, 6.89)},
    "modelscope-1.7b": {"settings": Settings(256, 256, 16, 25, 9.0, 8), "step_s": 0.0644, "decode_s": 0.079,
                        "peak_gib": (3.33, 2.19)},
}


def latent_shape(name: str, settings) -> tuple:
    """(channels, latent frames, latent height, latent width) of one clip at ``settings``."""
    channels, spatial, temporal = {"wan2.1-t2v-1.3b": (16, 8, 4), "ltx-video": (128, 32, 8),
                                   "cogvideox-2b": (16, 8, 4)}.get(entry(name).name, (4, 8, 1))
    frames = settings.num_frames if temporal == 1 else (settings.num_frames - 1) // temporal + 1
    return channels, frames, settings.height // spatial, settings.width // spatial


def denoiser_inputs(name: str, settings, batch: int = 2, device="cpu", dtype=torch.float32) -> dict:
    """Random inputs of one denoiser call at ``settings``, shaped as the pipeline passes them.

    ``batch=2`` is one step with classifier-free guidance (both passes in one batch, as the pipelines run it).
    """
    c, f, h, w = latent_shape(name, settings)

    def rand(*shape):
        return torch.randn(*shape, device=device, dtype=dtype)

    t = torch.full((batch,), 500.0, device=device)
    if name == "wan2.1-t2v-1.3b":
        return dict(hidden_states=rand(batch, c, f, h, w), timestep=t, encoder_hidden_states=rand(batch, 512, 4096))
    if name == "ltx-video":
        return dict(hidden_states=rand(batch, f * h * w, c), encoder_hidden_states=rand(batch, 128, 4096),
                    timestep=t, encoder_attention_mask=torch.ones(batch, 128, device=device), num_frames=f,
                    height=h, width=w)
    if name == "cogvideox-2b":
        return dict(hidden_states=rand(batch, f, c, h, w), encoder_hidden_states=rand(batch, 226, 4096), timestep=t)
    if name == "svd-xt":
        return dict(sample=rand(batch, f, 8, h, w), timestep=t, encoder_hidden_states=rand(batch, 1, 1024),
                    added_time_ids=rand(batch, 3))
    if name == "modelscope-1.7b":
        return dict(sample=rand(batch, c, f, h, w), timestep=t, encoder_hidden_states=rand(batch, 77, 1024))
    # AnimateDiff's pipeline repeats the prompt once per frame before its UNet sees it
    return dict(sample=rand(batch, c, f, h, w), timestep=t, encoder_hidden_states=rand(batch * f, 77, 768))


def decode_random(name: str, vae_module, settings, device="cpu", dtype=torch.float32):
    """Decode random latents of one clip at ``settings`` with ``vae_module``, as the pipeline shapes them."""
    c, f, h, w = latent_shape(name, settings)
    if name in ("wan2.1-t2v-1.3b", "ltx-video", "cogvideox-2b"):  # video VAEs: [B, C, F, H, W]
        return vae_module.decode(torch.randn(1, c, f, h, w, device=device, dtype=dtype), return_dict=False)[0]
    z = torch.randn(f, c, h, w, device=device, dtype=dtype)  # image VAEs decode the frames as a batch
    if name == "svd-xt":
        return vae_module.decode(z, num_frames=f, return_dict=False)[0]
    return vae_module.decode(z, return_dict=False)[0]


# The SVD UNet does not run on the meta device (it makes a helper tensor on the CPU), so its FLOPs are
# ModelScope's UNet's per latent position, scaled by parameters: the same Stable Diffusion UNet family.
_COUNTED_LIKE = {"svd-xt": "modelscope-1.7b"}


@functools.lru_cache(maxsize=64)
def counted_step_flops(name: str, settings) -> float:
    """FLOPs of one guided denoising step at ``settings``, counted by torch's FlopCounterMode on the meta device."""
    from torch.utils.flop_counter import FlopCounterMode

    if name in _COUNTED_LIKE:
        like = _COUNTED_LIKE[name]
        params = parameter_counts(name)["denoiser"] / parameter_counts(like)["denoiser"]
        return counted_step_flops(like, settings) * params

    with torch.device("meta"):
        net = denoiser(name)
    # The default device stays meta during the call too: some blocks make helper tensors with no device.
    with torch.device("meta"), FlopCounterMode(display=False) as counter, torch.no_grad():
        net(**denoiser_inputs(name, settings, device="meta"), return_dict=False)
    return float(counter.get_total_flops())


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
    rate = flops_per_second or measure_cpu_flops()
    return settings.steps * counted_step_flops(name, settings) / (0.5 * rate)
