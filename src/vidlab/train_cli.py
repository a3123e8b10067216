"""A command line from a config dataclass: one option per field, typed by the field's annotation.

``python -m vidlab.train`` builds its options from :class:`vidlab.train.TrainConfig` with
:func:`config_arguments`, so every field, and every field added later, parses to its type:

    python -m vidlab.train --output runs/tiny --steps 3561 --prediction-type v_prediction \\
        --noise-schedule cosine_zero_snr --snapshot-steps 1000

(This module imports nothing from vidlab, so the training module can use it.)
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing


def _optional(kind):
    """An argparse type for ``kind | None``: "none" gives None (the field's "off"), anything else ``kind``."""
    def parse(text: str):
        return None if text.lower() == "none" else kind(text)
    parse.__name__ = f"{kind.__name__} or none"  # argparse names the type in its error message
    return parse


def config_arguments(parser: argparse.ArgumentParser, config_class) -> None:
    """One option per field of the dataclass ``config_class`` (``--context-noise 0.2``), typed by its annotation.

    ``tuple[X, ...]`` takes any number of values (``--scenarios projectile uniform``, ``--snapshot-minutes``
    with none for ()); ``bool`` has ``--x`` and ``--no-x``; ``X | None`` takes "none". (transformers'
    HfArgumentParser does this for lists but not tuples, and rewrites the dataclass's fields while it reads them.)
    """
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        hint, flag = hints[field.name], f"--{field.name.replace('_', '-')}"
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=field.default)
        elif origin is tuple:
            parser.add_argument(flag, nargs="*", type=args[0], default=field.default)
        elif origin in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2:
            parser.add_argument(flag, type=_optional(next(a for a in args if a is not type(None))),
                                default=field.default)
        elif hint in (int, float, str):
            parser.add_argument(flag, type=hint, default=field.default)
        else:
            raise TypeError(f"{config_class.__name__}.{field.name}: {hint} has no command-line form; use int, float, "
                            "str, "
                            "bool, tuple[X, ...] or X | None")
