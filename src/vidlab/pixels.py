"""Video arrays in and out: checking them, converting between pixels and model space, and degrading them.

Two layouts meet in vidlab:
- **pixels**: numpy ``[T, H, W, 3]`` (or a batch ``[B, T, H, W, 3]``), uint8 or float in [0, 1], as the world
  renders, the probes read and a GIF shows;
- **model space**: torch ``[..., T, 3, H, W]`` float in [-1, 1], channels first, as the denoiser sees them.

Every conversion between the two lives here, so pixel value 0 is -1 and 255 is +1 everywhere.
"""

from __future__ import annotations

import io

import numpy as np


def as_float_video(video) -> np.ndarray:
    """Validate and convert to float32 ``[T, H, W, C]`` in [0, 1] (C = 3, or 1 for grayscale)."""
    arr = np.asarray(video)
    expected = "expected a video [T, H, W, 3] (RGB) or [T, H, W] (grayscale), uint8 or float in [0, 1]"
    if arr.size == 0:
        raise ValueError(f"empty video with shape {arr.shape}: {expected}")
    if arr.ndim == 3:
        arr = arr[..., None]
    elif not (arr.ndim == 4 and arr.shape[-1] in (1, 3)):
        raise ValueError(f"video has shape {arr.shape}: {expected}")
    if arr.shape[0] < 2:
        raise ValueError(f"video has {arr.shape[0]} frame(s): motion needs at least 2 frames; {expected}")
    if min(arr.shape[1:3]) < 8:
        raise ValueError(f"frames of {arr.shape[1]}x{arr.shape[2]} px are too small: expected at least 8x8")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"video dtype {arr.dtype}: {expected}")
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"video has {bad} NaN or infinite value(s): {expected}")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -1e-3 or hi > 1 + 1e-3:
        raise ValueError(f"float video spans [{lo:.3g}, {hi:.3g}]: expected [0, 1] (divide 0-255 data by 255)")
    return np.clip(arr, 0, 1).astype(np.float32)


def to_model_space(video):
    """Pixels (uint8, or float in [0, 1]) ``[..., T, H, W, 3]`` -> torch float32 ``[..., T, 3, H, W]`` in [-1, 1].

    ``video``: numpy, or a torch tensor (the result stays on its device).
    """
    import torch

    x = video if isinstance(video, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(np.asarray(video)))
    if x.ndim < 4 or x.shape[-1] != 3:
        raise ValueError(f"video has shape {tuple(x.shape)}: expected RGB frames [..., T, H, W, 3]")
    x = x.float() / 127.5 - 1 if x.dtype == torch.uint8 else x.float() * 2 - 1
    return x.movedim(-1, -3)


def to_unit_pixels(x):
    """Model space ``[..., T, 3, H, W]`` -> torch float ``[..., T, H, W, 3]`` in [0, 1], on the same device."""
    return ((x.clamp(-1, 1) + 1) / 2).movedim(-3, -1)


def from_model_space(x) -> np.ndarray:
    """A model's frames (torch on any device, or numpy; ``[T, 3, H, W]`` in [-1, 1]) as uint8 ``[T, H, W, 3]``."""
    x = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    return ((np.clip(x, -1, 1) + 1) * 127.5).round().astype(np.uint8).transpose(0, 2, 3, 1)


def degrade(video: np.ndarray, blur: float = 0.0, noise: float = 0.0, jpeg_quality: int | None = None,
            grayscale: bool = False, seed: int = 0) -> np.ndarray:
    """Make a clean clip look like a camera or codec made it, to test that the probes still work.

    Args:
        video: uint8 ``[T, H, W, 3]``.
        blur: Gaussian blur sigma in px (scipy.ndimage), applied per frame.
        noise: sensor-like Gaussian noise, standard deviation as a fraction of full scale (new every frame).
        jpeg_quality: if set, each frame goes through JPEG at this quality (Pillow).
        grayscale: return ``[T, H, W]`` luma.
        seed: seed of the noise.

    Returns:
        uint8 ``[T, H, W, 3]``, or ``[T, H, W]`` when ``grayscale``.
    """
    from PIL import Image
    from scipy import ndimage

    out = np.asarray(video, np.float32) / 255
    if blur > 0:
        out = ndimage.gaussian_filter(out, sigma=(0, blur, blur, 0))
    if noise > 0:
        out = out + np.random.default_rng(seed).normal(0, noise, out.shape).astype(np.float32)
    out = np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        frames = []
        for frame in out:
            buf = io.BytesIO()
            Image.fromarray(frame).save(buf, format="JPEG", quality=int(jpeg_quality))
            frames.append(np.asarray(Image.open(buf).convert("RGB")))
        out = np.stack(frames)
    if grayscale:
        out = np.rint(out.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)
    return out


def temporal_squeeze(video: np.ndarray, factor: int = 4, mode: str = "blur") -> np.ndarray:
    """What folding ``factor`` frames into one does to motion, at its crudest: a causal video VAE keeps the
    first frame and then holds one latent per ``factor`` frames.

    ``mode="blur"``: each group of frames after the first is replaced by its average (a fast ball smears into a
    streak); ``"skip"``: by its last frame (positions in between are skipped, so the ball jumps). The frame
    count is kept, so the result can be measured against the truth frame by frame.
    """
    v = np.asarray(video)
    if mode not in ("blur", "skip"):
        raise ValueError(f"mode={mode!r}: expected 'blur' or 'skip'")
    if factor < 1 or (len(v) - 1) % factor:
        raise ValueError(f"{len(v)} frames with factor={factor}: expected factor * k + 1 frames")
    out = v.copy()
    for start in range(1, len(v), factor):
        group = v[start:start + factor]
        held = group.mean(0) if mode == "blur" else group[-1]
        out[start:start + factor] = np.round(held).astype(v.dtype) if v.dtype == np.uint8 else held
    return out
