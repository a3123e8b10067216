"""Public video diffusion models through diffusers (issue 12): what each model is and what it can take.

``registry`` holds one :class:`~vidlab.public.registry.Entry` per model: its Hub id, diffusers pipeline class,
kind, licence, whether it is gated, the model card's settings, small settings for each memory class, its
frame-count and resolution rules and its precision policy. Loading (``load``) and generation (``generate``),
with the offline tiny-component path for tests, are still to come.
"""

from vidlab.public.registry import MEMORY_CLASSES, REGISTRY, Entry, Settings, check_settings, choose_dtype, entry

__all__ = ["MEMORY_CLASSES", "REGISTRY", "Entry", "Settings", "check_settings", "choose_dtype", "entry"]
