"""The environment a notebook runs in: library versions, the device and its precision, fast mode, the machine.

Every notebook's setup cell calls :func:`report`, which prints what is installed and picks the device
(cuda, then mps, then cpu). Every vidlab entry point that computes takes an optional ``device`` and falls
back on that same choice (:func:`resolve_device`). :func:`precision` decides, in this one place, which
number format training uses on the device. ``VIDLAB_FAST=1`` switches every notebook to a small workload.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path

LIBRARIES = ("vidlab", "numpy", "scipy", "scikit-image", "pymunk", "matplotlib", "torch", "diffusers",
             "accelerate", "ipywidgets")
COLAB_GPU_HINT = "in Colab: Runtime > Change runtime type > T4 GPU, then run all cells again"
PRECISIONS = ("fp32", "bf16", "fp16")
# Faster precisions measured to keep the tiny model's quality bar: {(device type, precision): evidence}.
# precision() picks the fastest native one listed here; anything not listed trains in fp32.
KEEPS_THE_BAR: dict = {
    ("cpu", "bf16"): "bf16 autocast measured to keep the bar: three 10-minute runs on 2 cores with AVX-512 BF16 "
                     "met it on 256 held-out clips (README, Speed)",
}


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


def repository_url() -> str:
    """The project's repository, from ``[project.urls] Repository`` in pyproject.toml (the one place it lives)."""
    try:
        urls = metadata.metadata("vidlab").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "repository":
            return url.strip().rstrip("/")
    raise ValueError("vidlab's repository URL is unknown: install vidlab with pip (pip install -e .)")


CHECKOUT = Path(__file__).resolve().parents[2]  # the repository root, when vidlab runs from a clone


def in_clone() -> bool:
    """True when vidlab runs from a clone of its repository (an editable install), not from site-packages."""
    return (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "src" / "vidlab").is_dir()


def workspace() -> Path:
    """Where vidlab writes what it makes (``results/``, ``runs/``): the checkout when it runs from a clone.

    Rooted at the checkout whatever the working folder is (a notebook's is ``notebooks/``), so that what an
    experiment writes is what :func:`repository_file` reads back. Elsewhere (a pip install, Colab) it is the
    working folder.
    """
    return CHECKOUT if in_clone() else Path.cwd()


def repository_file(path: str) -> Path:
    """A file of the repository that is not in the package (a training record, committed results), locally.

    From a clone it is read in place; elsewhere (a pip install on Colab) it is downloaded once from the
    repository into ``$VIDLAB_CACHE`` (default ``~/.cache/vidlab``). A clear error says what to do offline.
    """
    if (CHECKOUT / path).is_file():
        return CHECKOUT / path
    target = Path(os.environ.get("VIDLAB_CACHE", Path.home() / ".cache" / "vidlab")) / path
    if not target.is_file():
        url = f"{repository_url()}/raw/main/{path}"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = response.read()
        except OSError as err:
            raise ValueError(f"{path!r} is not in this installation and could not be downloaded from {url} "
                             f"({err}): connect to the internet, or clone the repository") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.with_suffix(".part").write_bytes(data)
        target.with_suffix(".part").replace(target)
    return target


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


def _as_device(device):
    """``device`` as a torch.device, None meaning :func:`pick_device`'s choice (no checks: meta is allowed)."""
    import torch

    return torch.device(device if device is not None else pick_device())


def device_type(device) -> str:
    """The kind of ``device``, however it is spelled: "cuda" for "cuda", "cuda:1" or torch.device("cuda", 1)."""
    return device.type if hasattr(device, "type") else str(device).split(":")[0]


def resolve_device(device=None):
    """``device`` as a torch.device; None means :func:`pick_device`'s choice. A missing GPU is named plainly."""
    import torch

    device = _as_device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r}: this machine has no usable CUDA GPU ({COLAB_GPU_HINT}); "
                         "use device='cpu' or device=None")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device={str(device)!r}: Apple's mps backend is not available here; use device='cpu'")
    return device


def cuda_capability(device=None) -> tuple | None:
    """(major, minor) compute capability of a CUDA device, e.g. (7, 5) for a T4; None off CUDA."""
    import torch

    device = _as_device(device)
    if device.type != "cuda":
        return None
    return torch.cuda.get_device_capability(device)


def native_formats(device=None) -> tuple:
    """Number formats the hardware computes natively (not emulated), fastest last.

    Decided by compute capability on CUDA: fp16 tensor cores from 7.0 (V100, T4), bf16 from 8.0 (A100,
    RTX 30xx, H100). ``torch.cuda.is_bf16_supported()`` is not used: it says True on a T4 through emulation.
    """

    device = _as_device(device)
    if device.type == "cuda":
        major, _ = cuda_capability(device)
        return ("fp32",) + (("fp16",) if major >= 7 else ()) + (("bf16",) if major >= 8 else ())
    if device.type == "mps":
        return ("fp32", "fp16")
    return ("fp32", "bf16") if device.type == "cpu" and cpu_has_bf16_units() else ("fp32",)


def cpu_has_bf16_units() -> bool:
    """True when the CPU multiplies bf16 in hardware: AVX-512 BF16 or AMX (Linux flags in /proc/cpuinfo).

    Elsewhere (older x86, Apple and other Arm CPUs) oneDNN would emulate bf16, which is slower than fp32.
    """
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@dataclasses.dataclass(frozen=True)
class Precision:
    """The number format training uses: ``name`` (fp32, bf16, fp16), Accelerate's word for it, and why."""

    name: str
    reason: str

    @property
    def accelerate(self) -> str:
        """The ``mixed_precision`` argument of ``accelerate.Accelerator``."""
        return "no" if self.name == "fp32" else self.name

    @property
    def dtype(self):
        """The torch dtype of the format (torch.float32, torch.bfloat16 or torch.float16)."""
        return torch_dtype(self.name)


def torch_dtype(name: str):
    """The torch dtype of a precision name: "fp32", "bf16" or "fp16"."""
    import torch

    if name not in PRECISIONS:
        raise ValueError(f"precision {name!r}: expected one of {PRECISIONS}")
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


def precision(device=None) -> Precision:
    """The precision to train in on ``device``: fp32 unless a faster one was measured to keep the quality bar.

    ``VIDLAB_PRECISION`` (fp32, bf16, fp16) overrides the choice, to measure a precision; asking for one that
    the hardware lacks natively (bf16 on a T4) raises a ValueError that says so.
    """

    device = _as_device(device)
    native = native_formats(device)
    asked = os.environ.get("VIDLAB_PRECISION", "").strip().lower()
    if asked:
        if asked not in PRECISIONS:
            raise ValueError(f"VIDLAB_PRECISION={asked!r}: expected one of {PRECISIONS}")
        if asked not in native:
            raise ValueError(f"VIDLAB_PRECISION={asked}: {device.type} here computes natively only in "
                             f"{', '.join(native)}; unset VIDLAB_PRECISION or pick one of those")
        return Precision(asked, "asked for by VIDLAB_PRECISION")
    for name in reversed(native):  # fastest first
        if (device.type, name) in KEEPS_THE_BAR:
            return Precision(name, KEEPS_THE_BAR[device.type, name])
    faster = [f for f in native if f != "fp32"]
    why = (f"{' and '.join(faster)} native here, but not yet measured to keep the quality bar" if faster
           else "no faster format is native here")
    return Precision("fp32", why)


def describe_device(device=None) -> dict:
    """What a record should say about the device: its type, GPU model and compute capability, precision."""
    import torch

    device = _as_device(device)
    info = {"device": device.type}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["compute_capability"] = ".".join(map(str, cuda_capability(device)))
    elif device.type == "cpu":
        info["torch_threads"] = torch.get_num_threads()
    info["precision"] = precision(device).name
    return info


def device_label(device=None) -> str:
    """One line for tables and notes, e.g. "cuda (Tesla T4, fp32)" or "cpu (2 threads, fp32)"."""
    d = describe_device(device)
    where = d.get("gpu") or (f"{d['torch_threads']} threads" if "torch_threads" in d else d["device"])
    return f"{d['device']} ({where}, {d['precision']})"


def machine(device=None) -> dict:
    """What an experiment ran on, to store beside its results: platform, CPU count, device, GPU, precision."""
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "fast_mode": fast_mode()}
    try:
        info.update(describe_device(device))
    except ImportError:  # no torch: a CPU
        info["device"] = "cpu"
    return info


def synchronize(device) -> None:
    """Wait for queued GPU work on ``device`` (timings are wrong without it); nothing on a CPU."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def peak_rss_gib() -> float:
    """This process's peak resident memory so far, in GiB; NaN where it cannot be read (Windows).

    ``ru_maxrss`` is in kilobytes on Linux but in bytes on macOS.
    """
    try:
        import resource
    except ImportError:  # Windows has no resource module
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**30 if sys.platform == "darwin" else peak / 2**20


def matmul_peak(device=None, size: int = 2048, repeats: int = 5, dtype=None) -> float:
    """Measured matmul rate of ``device`` in FLOP/s: best of ``repeats`` products of two size x size matrices.

    ``dtype``: torch.float32 (default) or e.g. torch.bfloat16. A training rate is only compared with the peak
    of the device that trained.
    """
    import torch

    device = resolve_device(device)
    dtype = dtype or torch.float32
    a, b = (torch.randn(size, size, device=device, dtype=dtype) for _ in range(2))
    a @ b  # warm up
    best = float("inf")
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def report() -> str:
    """Print library versions, the device and its precision, fast mode and whether this is Colab; return the device."""
    device = pick_device()
    vers = versions()
    width = max(map(len, vers))
    for name, version in vers.items():
        print(f"{name:<{width}}  {version or 'not installed'}")
    where = "Google Colab" if in_colab() else platform.system()
    gpu = describe_device(device).get("gpu") if vers["torch"] else None
    print(f"{'device':<{width}}  {device}{f' ({gpu})' if gpu else ''} ({where}, {os.cpu_count()} CPU cores)")
    if vers["torch"]:
        chosen = precision(device)
        print(f"{'precision':<{width}}  {chosen.name} ({chosen.reason})")
    print(f"{'fast mode':<{width}}  {'on (VIDLAB_FAST=1): small workloads' if fast_mode() else 'off'}")
    return device


def gpu_available(part: str) -> bool:
    """True if a CUDA GPU is present; otherwise say plainly that ``part`` is skipped and how to get one."""
    if pick_device() == "cuda":
        return True
    print(f"Skipped: {part} needs an NVIDIA GPU, and this runtime has none ({COLAB_GPU_HINT}).")
    return False
