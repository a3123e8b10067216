"""Will it fit? Memory and disk estimates for a public model, made before any download, and the plan they pick.

The estimate adds up the weights of each part (parameters counted at the real configuration, times the bytes
of the precision it runs in), the denoiser's activations (grow with the tokens) and the VAE's decode peak
(grows with pixels x frames, unless tiled or sliced), calibrated on the project's H100 measurements
(``vidlab.architectures.ARCH``). It is an estimate, meant to refuse what clearly cannot fit and to pick the memory
measures that are needed; a margin is kept for what it leaves out.

Plans, cheapest first (diffusers' own memory tools, docs "optimization/memory"):

1. ``gpu``: every part on the GPU;
2. ``model_offload``: each part moves to the GPU only while it runs (``enable_model_cpu_offload``);
3. ``model_offload+tiling``: and the VAE decodes in tiles or slices;
4. ``group_offload+tiling``: the denoiser streams to the GPU block by block (``enable_group_offload``).

``encode_first`` (when the parts do not fit in RAM together): the prompt is encoded with the text encoder
alone, the encoder is freed, then the rest loads with ``text_encoder=None`` and takes ``prompt_embeds``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil

from vidlab import env
from vidlab.public import architectures
from vidlab.public.architectures import parameter_counts
from vidlab.public.registry import MEMORY_CLASSES, Settings, check_settings, conditioner_dtype, entry

GIB = 2**30
SHARD_GIB = 5e9 / GIB  # the Hub's default largest weight file
PLANS = ("gpu", "model_offload", "model_offload+tiling", "group_offload+tiling")
GPU_MARGIN, RAM_MARGIN = 0.9, 0.8  # CUDA context and fragmentation; the OS, Python and the notebook
_BYTES = {"float32": 4, "float16": 2, "float16-checked": 2, "bfloat16": 2}


class DoesNotFit(MemoryError):
    """The chosen settings need more memory or disk than was found; the message says which setting fits."""


@dataclasses.dataclass(frozen=True)
class Estimate:
    """What a run needs, in GiB: the GPU peak under each plan, host RAM, and the download."""

    gpu_gib: dict  # plan -> peak GPU memory (empty on a CPU)
    ram_gib: float  # peak host RAM with the parts loaded side by side
    ram_encode_first_gib: float  # peak host RAM when the text encoder is freed before the rest loads
    disk_gib: float  # weights to download, at 2 bytes per parameter (fp16/bf16 files)
    tokens: int


def estimate(name: str, settings: Settings, dtype: str, on_gpu: bool = True) -> Estimate:
    """Estimate the memory of generating one clip of ``name`` at ``settings`` in ``dtype``."""
    arch = architectures.ARCH[entry(name).name]
    check_settings(name, settings.width, settings.height, settings.num_frames)
    size = _BYTES[dtype]
    counts = parameter_counts(name)
    vae_bytes = 4 if name.startswith("wan") else size  # Wan's VAE stays in fp32 (its docs)
    cond_bytes = _BYTES[conditioner_dtype(name, "cuda" if on_gpu else "cpu", dtype)]
    w_cond, w_den = counts["conditioner"] * cond_bytes / GIB, counts["denoiser"] * size / GIB
    w_vae = counts["vae"] * vae_bytes / GIB
    tokens = architectures.latent_tokens(name, settings)
    act = arch.act_factor * tokens * arch.hidden * size / GIB
    pixels = settings.width * settings.height * settings.num_frames
    decode = arch.decode_gib_per_px * pixels * vae_bytes / arch.decode_bytes
    # Tiling keeps about a 256 x 256 tile of every frame in flight; 2-D VAEs slice one frame at a time.
    per_frame_px = settings.width * settings.height
    tiled = decode * min(1.0, 256 * 256 / per_frame_px) if arch.temporal > 1 else decode / settings.num_frames
    encode = w_cond + 0.5  # the encoder's own activations are small next to its weights
    gpu = {
        "gpu": w_cond + w_den + w_vae + max(act, decode),
        "model_offload": max(encode, w_den + act, w_vae + decode),
        "model_offload+tiling": max(encode, w_den + act, w_vae + tiled),
        "group_offload+tiling": max(0.5, 0.15 * w_den + act, w_vae + tiled),
    } if on_gpu else {}
    cpu_extra = 0 if on_gpu else act + tiled  # on a CPU the activations live in RAM too (the VAE always tiles)
    ram = w_cond + w_den + w_vae + cpu_extra
    # Encoding first, a GPU takes the encoder straight from disk one shard (at most 5 GB) at a time.
    ram_first = max(min(w_cond, SHARD_GIB) if on_gpu else w_cond, w_den + w_vae + cpu_extra)
    disk = sum(counts.values()) * 2 / GIB
    return Estimate(gpu, ram, ram_first, disk, tokens)


@dataclasses.dataclass(frozen=True)
class Budget:
    """The memory found (or assumed for a memory class), in GiB; ``gpu_gib`` None means no GPU."""

    gpu_gib: float | None
    ram_gib: float
    disk_gib: float
    source: str  # "found on this machine" or "memory class 't4'"


def class_budget(memory: str, disk_gib: float = 1000.0) -> Budget:
    """The budget a memory class promises (see ``MEMORY_CLASSES``)."""
    if memory not in MEMORY_CLASSES:
        raise ValueError(f"memory={memory!r}: expected one of {', '.join(MEMORY_CLASSES)}")
    c = MEMORY_CLASSES[memory]
    return Budget(c["gpu_gib"], c["ram_gib"], disk_gib, f"memory class {memory!r}")


def machine_budget(device, cache_dir: str | None = None) -> Budget:
    """The memory this machine has: the total of ``device``'s GPU (on CUDA: "cuda", "cuda:1" or a torch.device),
    physical RAM and free disk where the Hub cache lies."""
    import torch

    gpu = None
    if env.device_type(device) == "cuda":
        gpu = torch.cuda.mem_get_info(torch.device(device))[1] / GIB
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB if hasattr(os, "sysconf") else 16.0
    folder = cache_dir or os.environ.get("HF_HOME") or os.path.expanduser("~")
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    return Budget(gpu, ram, shutil.disk_usage(folder).free / GIB, "found on this machine")


@dataclasses.dataclass(frozen=True)
class Plan:
    """The memory measures a run takes, with the estimate behind them."""

    measures: str  # one of PLANS, or "cpu"
    encode_first: bool
    estimate: Estimate
    budget: Budget

    def describe(self) -> str:
        gpu = self.estimate.gpu_gib.get(self.measures)
        gpu_text = f"GPU peak about {gpu:.1f} GiB of {self.budget.gpu_gib:.1f}; " if gpu is not None else ""
        ram = self.estimate.ram_encode_first_gib if self.encode_first else self.estimate.ram_gib
        return (f"{self.measures}{' (prompt encoded first)' if self.encode_first else ''}: {gpu_text}"
                f"RAM about {ram:.1f} of {self.budget.ram_gib:.1f} GiB; download about "
                f"{self.estimate.disk_gib:.1f} GiB ({self.budget.source})")


def choose_plan(name: str, settings: Settings, dtype: str, budget: Budget) -> Plan:
    """The cheapest plan that fits ``budget``, or :class:`DoesNotFit` naming what was found and what fits."""
    plan, problems = _fit(name, settings, dtype, budget)
    if problems:
        raise DoesNotFit(f"{name} at {_text(settings)} ({dtype}) does not fit: {'; '.join(problems)} "
                         f"({budget.source}). {_what_fits(name, dtype, budget)}")
    return plan


def _fit(name: str, settings: Settings, dtype: str, budget: Budget) -> tuple:
    """(the cheapest plan, the reasons it does not fit: empty if it does)."""
    on_gpu = budget.gpu_gib is not None
    est = estimate(name, settings, dtype, on_gpu)
    problems = []
    if est.disk_gib > budget.disk_gib:
        problems.append(f"the download needs about {est.disk_gib:.1f} GiB of disk, {budget.disk_gib:.1f} free")
    encode_first = est.ram_gib > RAM_MARGIN * budget.ram_gib
    ram = est.ram_encode_first_gib if encode_first else est.ram_gib
    if ram > RAM_MARGIN * budget.ram_gib:
        problems.append(f"it needs about {ram:.1f} GiB of RAM, {budget.ram_gib:.1f} GiB found")
    measures = "cpu"
    if on_gpu:
        fitting = [p for p in PLANS if est.gpu_gib[p] <= GPU_MARGIN * budget.gpu_gib]
        if not fitting:
            least = min(est.gpu_gib.values())
            problems.append(f"even with group offload and VAE tiling the GPU peak is about {least:.1f} GiB, "
                            f"{budget.gpu_gib:.1f} GiB found")
        measures = fitting[0] if fitting else PLANS[-1]
    return Plan(measures, encode_first, est, budget), problems


def _text(s: Settings) -> str:
    return f"{s.width}x{s.height}, {s.num_frames} frames"


def _what_fits(name: str, dtype: str, budget: Budget) -> str:
    """Name the largest of the registry's small settings that fits the budget, from a class no larger than it."""
    def no_larger(c):  # a card's usable memory reads a little under its nominal size (a T4: 14.7 of 16 GiB)
        gpu = MEMORY_CLASSES[c]["gpu_gib"]
        return gpu is None if budget.gpu_gib is None else gpu is not None and gpu <= 1.15 * budget.gpu_gib

    unlimited_disk = dataclasses.replace(budget, disk_gib=float("inf"))
    for memory in reversed([c for c in MEMORY_CLASSES if no_larger(c)]):
        s = entry(name).small[memory]
        if not _fit(name, s, dtype, unlimited_disk)[1]:
            return f"Fix: the {memory!r} settings fit ({_text(s)}): load({name!r}, memory={memory!r})."
    return "Fix: none of its registered settings fits; try a smaller model, or tiny=True for the offline smoke test."
