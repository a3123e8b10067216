"""The environment a notebook runs in: library versions, the device, fast mode, the machine.

Every notebook's setup cell calls :func:`report`, which prints what is installed and picks the device
(cuda, then mps, then cpu). ``VIDLAB_FAST=1`` switches every notebook to a small workload (:func:`fast_mode`).
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

LIBRARIES = ("vidlab", "numpy", "scipy", "scikit-image", "pymunk", "matplotlib", "torch", "diffusers",
             "accelerate", "ipywidgets")
COLAB_GPU_HINT = "in Colab: Runtime > Change runtime type > T4 GPU, then run all cells again"


def fast_mode() -> bool:
    """True when the environment variable ``VIDLAB_FAST`` is 1 (tests and CI): shrink every workload."""
    return os.environ.get("VIDLAB_FAST", "").strip().lower() in ("1", "true", "yes")


def in_colab() -> bool:
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def versions(names=LIBRARIES) -> dict:
    """Installed versions of ``names`` (None where a library is missing)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def pick_device() -> str:
    """"cuda" if a CUDA GPU is usable, else "mps" (Apple silicon), else "cpu" (also without torch)."""
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def machine() -> dict:
    """What an experiment ran on, to store beside its results."""
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "device": pick_device(), "fast_mode": fast_mode()}
    if info["device"] == "cuda":
        import torch

        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def report() -> str:
    """Print library versions, the device, fast mode and whether this is Colab; return the device."""
    device = pick_device()
    vers = versions()
    width = max(map(len, vers))
    for name, version in vers.items():
        print(f"{name:<{width}}  {version or 'not installed'}")
    where = "Google Colab" if in_colab() else platform.system()
    print(f"{'device':<{width}}  {device} ({where}, {os.cpu_count()} CPU cores)")
    print(f"{'fast mode':<{width}}  {'on (VIDLAB_FAST=1): small workloads' if fast_mode() else 'off'}")
    return device


def gpu_available(part: str) -> bool:
    """True if a CUDA GPU is present; otherwise say plainly that ``part`` is skipped and how to get one."""
    if pick_device() == "cuda":
        return True
    print(f"Skipped: {part} needs an NVIDIA GPU, and this runtime has none ({COLAB_GPU_HINT}).")
    return False
