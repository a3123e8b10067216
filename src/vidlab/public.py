"""Public video diffusion models through diffusers: the file is reserved, the registry is still empty.

This is where the registry of public text-to-video and image-to-video models will live (issue 12): for each
model its Hub id, diffusers pipeline class, licence, recommended and small-scale settings per memory class,
frame-count and resolution rules and dtype policy, with ``load(name, memory=...)`` and ``generate(...)``.
Adding a model will be one entry of ``REGISTRY``. Until then the registry is empty and ``entry`` says so.
"""

from __future__ import annotations

REGISTRY: dict = {}


def entry(name: str):
    """The registry entry of a public model, or a ValueError naming the models that are registered."""
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY)) or "none yet: the public-model registry is still empty"
        raise ValueError(f"unknown public model {name!r}; registered: {known}")
    return REGISTRY[name]
