"""Public video diffusion models through diffusers: what each model is, whether it fits, loading and generating.

- ``registry``: one :class:`~vidlab.public.registry.Entry` per model (Hub id, pipeline class, kind, licence,
  gating, the card's settings, small settings per memory class, frame and size rules, precision policy);
- ``architectures``: each model's parts at their real configuration, with random weights (parameter counts,
  counted FLOPs, the GPU benchmark);
- ``memory``: the memory and disk estimate made before any download, and the plan it picks;
- ``loading``: :func:`load`, through the same ``from_pretrained`` call a reader writes;
- ``generating``: :func:`generate`, with a record of the run and the latents of every step;
- ``tiny``: the random-weight stand-ins of every entry, for tests and fast mode (``tiny=True``);
- ``trials``: physics with exact truth, the first frames of a world clip continued by a model and measured;
- ``measures``: what the trials score, the shape of the motion, which needs no scale, and the refusals.
"""

from vidlab.public.generating import Generation, decode_latents, generate
from vidlab.public.loading import GatedModel, NeedsGPU, NoNetwork, PublicModel, load
from vidlab.public.memory import DoesNotFit, choose_plan, estimate
from vidlab.public.registry import (
                                    MEMORY_CLASSES,
                                    REGISTRY,
                                    Entry,
                                    Settings,
                                    check_settings,
                                    choose_dtype,
                                    conditioner_dtype,
                                    entry,
)
from vidlab.public.tiny import SMOKE_LABEL, TINY_SETTINGS

__all__ = ["MEMORY_CLASSES", "REGISTRY", "SMOKE_LABEL", "TINY_SETTINGS", "DoesNotFit", "Entry", "GatedModel",
           "Generation", "NeedsGPU", "NoNetwork", "PublicModel", "Settings", "check_settings", "choose_dtype",
           "choose_plan", "conditioner_dtype", "decode_latents", "entry", "estimate", "generate", "load"]
