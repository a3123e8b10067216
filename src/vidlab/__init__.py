"""vidlab: video diffusion at small scale, measured against exact physics.

Submodules are imported lazily so that ``import vidlab`` stays fast:
- measuring: ``world`` (ground-truth 2-D physics clips), ``probes`` (physics measured in any video),
  ``check`` (the probes against ground truth), ``evaluate`` (a model's metrics on held-out clips);
- the tiny model: ``denoiser`` (the network), ``pipeline`` (it as a diffusers pipeline), ``train`` (the
  training loop), ``batches`` (the clips each step trains on), ``runs`` (a run's checkpoints, resume and
  processes);
- public models: ``public`` (the registry of public video models through diffusers; reserved, empty for now);
- around them: ``env`` (versions, device, precision, fast mode), ``pixels`` (video arrays in and out),
  ``show`` (inline looping videos).
"""

import importlib

__version__ = "0.1.0"
__all__ = ["batches", "check", "denoiser", "env", "evaluate", "pipeline", "pixels", "probes", "public", "runs", "show",
           "train", "world"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"vidlab.{name}")
    raise AttributeError(f"module 'vidlab' has no attribute {name!r}")
