"""The registry of public video models: one entry per model, with the facts a loader needs.

Sources: the model cards and diffusers' pipeline defaults (REFERENCES.md, "Public video models": wan21, ltx,
cogvideox, modelscope, svd, animatediff, t4-precision). Settings marked
small are this project's choice for each memory class, to be measured on readers' GPUs; they are not a model
card's.

Frame and resolution rules follow from each model's VAE and patch size: a causal video VAE keeps the first
frame and folds every next ``t`` frames into one latent frame, so the frame count is ``t·k + 1``; the width and
height must be a multiple of the VAE's spatial factor times the transformer's patch size.
"""

from __future__ import annotations

import dataclasses

from vidlab import env

# Memory classes a reader can be in: GPU memory in GiB (None: no GPU), and the system RAM assumed.
MEMORY_CLASSES = {
    "cpu": {"gpu_gib": None, "ram_gib": 16, "about": "no GPU: the smallest settings, minutes to hours per clip"},
    "8gb": {"gpu_gib": 8, "ram_gib": 16, "about": "a laptop or older desktop GPU"},
    "t4": {"gpu_gib": 16, "ram_gib": 12.7, "about": "free Colab: a T4, compute capability 7.5 (no native bf16)"},
    "24gb": {"gpu_gib": 24, "ram_gib": 32, "about": "an RTX 3090/4090 or an A10"},
    "40gb": {"gpu_gib": 40, "ram_gib": 64, "about": "an A100, H100 or larger"},
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """One way to run a model: frame size, frame count, denoising steps, guidance scale and frame rate."""

    width: int
    height: int
    num_frames: int
    steps: int
    guidance: float
    fps: int


@dataclasses.dataclass(frozen=True)
class Entry:
    """A public video model: what it is, what it was made for, and what it can take."""

    name: str
    hub_id: str
    pipeline: str  # the diffusers class that loads it
    kind: tuple  # "text-to-video", "image-to-video"
    licence: str
    gated: bool  # the Hub asks for terms to be accepted (and a token) before download
    recommended: Settings  # the model card's settings
    small: dict  # memory class -> Settings: this project's small-scale settings
    frames_per_latent: int  # frames folded into one latent frame after the first (1: any count)
    fixed_frames: int | None  # a frame count the model only takes (None: any that fits the rule)
    size_multiple: int  # width and height must be multiples of this
    trained_in: str  # "bf16" or "fp16": the precision it was trained in, or (where unknown) its card runs it in
    on_t4: str  # precision on a GPU without native bf16: "fp16", "fp16-checked" (NaN check, fp32 fallback), "fp32"
    text_tokens: int | None = None  # prompt length its text encoder takes (for prompt_embeds)
    note: str = ""


def _small(cpu, gpu8, t4, gpu24, gpu40) -> dict:
    return dict(zip(MEMORY_CLASSES, (cpu, gpu8, t4, gpu24, gpu40), strict=True))


S = Settings
REGISTRY = {e.name: e for e in (
    Entry("wan2.1-t2v-1.3b", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "WanPipeline", ("text-to-video",), "Apache-2.0",
          False, S(832, 480, 81, 50, 5.0, 16),
          _small(S(320, 192, 17, 20, 5.0, 16), S(480, 320, 33, 30, 5.0, 16), S(480, 320, 49, 30, 5.0, 16),
                 S(832, 480, 81, 50, 5.0, 16), S(832, 480, 81, 50, 5.0, 16)),
          frames_per_latent=4, fixed_frames=None, size_multiple=16, trained_in="bf16", on_t4="fp16-checked",
          text_tokens=512, note="the 2025 open model; flow matching; VAE kept in fp32"),
    Entry("ltx-video", "Lightricks/LTX-Video", "LTXPipeline", ("text-to-video", "image-to-video"),
          "check the version's licence on its model card", False, S(704, 512, 161, 50, 3.0, 25),
          _small(S(352, 224, 25, 20, 3.0, 25), S(512, 352, 65, 30, 3.0, 25), S(704, 480, 97, 40, 3.0, 25),
                 S(704, 512, 161, 50, 3.0, 25), S(768, 512, 161, 50, 3.0, 25)),
          frames_per_latent=8, fixed_frames=None, size_multiple=32, trained_in="bf16", on_t4="fp32",
          text_tokens=128, note="the fastest; fp16 shows artefacts, so its transformer runs fp32 on a T4"),
    Entry("cogvideox-2b", "THUDM/CogVideoX-2b", "CogVideoXPipeline", ("text-to-video",), "Apache-2.0", False,
          S(720, 480, 49, 50, 6.0, 8),
          _small(S(720, 480, 49, 10, 6.0, 8), S(720, 480, 49, 30, 6.0, 8), S(720, 480, 49, 50, 6.0, 8),
                 S(720, 480, 49, 50, 6.0, 8), S(720, 480, 49, 50, 6.0, 8)),
          frames_per_latent=4, fixed_frames=49, size_multiple=16, trained_in="fp16", on_t4="fp16",
          text_tokens=226, note="trained in fp16: the safest fp16 model on a T4"),
    Entry("modelscope-1.7b", "damo-vilab/text-to-video-ms-1.7b", "TextToVideoSDPipeline", ("text-to-video",),
          "CC-BY-NC-4.0", False, S(256, 256, 16, 50, 9.0, 8),
          _small(S(256, 256, 16, 25, 9.0, 8), S(256, 256, 16, 25, 9.0, 8), S(256, 256, 16, 50, 9.0, 8),
                 S(256, 256, 16, 50, 9.0, 8), S(256, 256, 16, 50, 9.0, 8)),
          frames_per_latent=1, fixed_frames=None, size_multiple=8, trained_in="fp16", on_t4="fp16",
          note="the 2023 generation; deprecated in diffusers (importable, no longer tested upstream)"),
    Entry("svd-xt", "stabilityai/stable-video-diffusion-img2vid-xt", "StableVideoDiffusionPipeline",
          ("image-to-video",), "stable-video-diffusion-community (accept the terms on the Hub)", True,
          S(1024, 576, 25, 25, 3.0, 7),
          _small(S(512, 320, 14, 10, 3.0, 7), S(1024, 576, 14, 25, 3.0, 7), S(1024, 576, 25, 25, 3.0, 7),
                 S(1024, 576, 25, 25, 3.0, 7), S(1024, 576, 25, 25, 3.0, 7)),
          frames_per_latent=1, fixed_frames=None, size_multiple=8, trained_in="fp16", on_t4="fp16",
          note="the classic image-to-video model, scored by Physics-IQ (14.8); guidance rises from 1 to 3 over "
               "the frames (the pipeline's defaults)"),
    Entry("animatediff-sd1.5", "guoyww/animatediff-motion-adapter-v1-5-2", "AnimateDiffPipeline", ("text-to-video",),
          "adapter Apache-2.0; the SD 1.5 base's own licence applies", False, S(512, 512, 16, 50, 7.5, 8),
          _small(S(256, 256, 16, 20, 7.5, 8), S(512, 512, 16, 25, 7.5, 8), S(512, 512, 16, 25, 7.5, 8),
                 S(512, 512, 16, 50, 7.5, 8), S(512, 512, 16, 50, 7.5, 8)),
          frames_per_latent=1, fixed_frames=None, size_multiple=8, trained_in="fp16", on_t4="fp16",
          text_tokens=77, note="motion modules on a Stable Diffusion 1.5 base, trained on 16-frame clips"),
)}


def entry(name: str) -> Entry:
    """The registry entry of a public model, or a ValueError naming the models that are registered."""
    if name not in REGISTRY:
        raise ValueError(f"unknown public model {name!r}; registered: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def check_settings(name: str, width: int, height: int, num_frames: int) -> None:
    """Raise a ValueError naming the value and the nearest ones the model takes, if it cannot take them."""
    e = entry(name)
    if e.fixed_frames is not None and num_frames != e.fixed_frames:
        raise ValueError(f"{name} takes only {e.fixed_frames} frames, not num_frames={num_frames}")
    t = e.frames_per_latent
    if num_frames < 1 or (t > 1 and (num_frames - 1) % t):
        below = max(1, (num_frames - 1) // t * t + 1)
        raise ValueError(f"{name} takes {t}k+1 frames (its VAE folds {t} frames into one latent after the first): "
                         f"num_frames={num_frames}; use {below} or {below + t}")
    for side, value in (("width", width), ("height", height)):
        if value < e.size_multiple or value % e.size_multiple:
            below = max(e.size_multiple, value // e.size_multiple * e.size_multiple)
            raise ValueError(f"{name} needs {side} a multiple of {e.size_multiple}: {side}={value}; "
                             f"use {below} or {below + e.size_multiple}")


def choose_dtype(name: str, device: str, capability: tuple | None = None) -> str:
    """The precision to run ``name`` in: "float32", "float16" or "bfloat16" ("float16-checked": fp16 with a NaN
    check and an fp32 fallback).

    Most of these models were trained in bf16, and fp16 overflows them into NaN or black frames, so fp16 is
    used only where the model was made in it (or checked). bf16 needs compute capability 8 or more
    (``torch.cuda.get_device_capability()``): a T4 (7.5) only emulates it, several times slower. On a CPU,
    fp32. On Apple's mps, the model's own precision if that is fp16, else fp32.
    """
    e = entry(name)
    kind = env.device_type(device)  # "cuda:1" and torch.device("cuda") are CUDA too
    if kind == "cpu":
        return "float32"
    if kind == "mps":
        return "float16" if e.trained_in == "fp16" else "float32"
    if kind != "cuda":
        raise ValueError(f"device={str(device)!r}: expected 'cpu', 'cuda' (or 'cuda:N') or 'mps'")
    if capability is not None and capability[0] >= 8:
        return "bfloat16" if e.trained_in == "bf16" else "float16"
    return {"fp16": "float16", "fp16-checked": "float16-checked", "fp32": "float32"}[e.on_t4]


def conditioner_dtype(name: str, device: str, dtype: str) -> str:
    """The precision of the text (or image) encoder, which may differ from the denoiser's.

    T5 and UMT5 were trained in bf16 and transformers keeps their fp16 activations in range (it clamps them),
    so on a GPU the big encoders run in 16 bits even where the denoiser needs fp32 (LTX on a T4): in fp32
    the 4.8-5.7 B parameter encoders alone would fill a T4. On a CPU they run in bf16 (half the RAM of fp32).
    The small CLIP encoders keep the denoiser's precision.
    """
    big = entry(name).text_tokens is not None and entry(name).text_tokens > 77
    on_cpu = env.device_type(device) == "cpu"
    if not big:
        return "float32" if on_cpu else dtype.replace("-checked", "")
    if on_cpu:
        return "bfloat16"
    return "float16" if dtype in ("float32", "float16-checked") else dtype
