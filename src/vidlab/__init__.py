"""vidlab: video diffusion at small scale, measured against exact physics.

Submodules are imported lazily so that ``import vidlab`` stays fast:
``vidlab.world`` (ground-truth 2-D physics clips), ``vidlab.probes`` (physics measured in any video),
``vidlab.show`` (inline looping videos) and ``vidlab.env`` (versions, device and fast mode).
"""

import importlib

__version__ = "0.1.0"
__all__ = ["env", "probes", "show", "world"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"vidlab.{name}")
    raise AttributeError(f"module 'vidlab' has no attribute {name!r}")
