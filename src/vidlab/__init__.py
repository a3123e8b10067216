"""vidlab: video diffusion at small scale, measured against exact physics.

Submodules are imported lazily so that ``import vidlab`` stays fast:
``vidlab.world`` (ground-truth 2-D physics clips), ``vidlab.probes`` (physics measured in any video),
``vidlab.check`` (the probes against ground truth), ``vidlab.show`` (inline looping videos), ``vidlab.env``
(versions, device, precision and fast mode), ``vidlab.denoiser`` (the tiny denoiser network), ``vidlab.pipeline`` (it as
a diffusers pipeline), ``vidlab.train`` (training) and ``vidlab.evaluate`` (metrics on held-out clips).
"""

import importlib

__version__ = "0.1.0"
__all__ = ["check", "denoiser", "env", "evaluate", "pipeline", "pixels", "probes", "show", "train", "world"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"vidlab.{name}")
    raise AttributeError(f"module 'vidlab' has no attribute {name!r}")
