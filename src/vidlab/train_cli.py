"""``python -m vidlab.train``'s command line: one option per :class:`vidlab.train.TrainConfig` field, typed by
the field's annotation, plus ``--output``, ``--device`` and ``--fit-minutes``.

    python -m vidlab.train --output runs/tiny --steps 3561 --prediction-type v_prediction \\
        --noise-schedule cosine_zero_snr --snapshot-steps 1000
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import types
import typing
from pathlib import Path

from vidlab.train import TrainConfig, fit_to_minutes, train


def _optional(kind):
    """An argparse type for ``kind | None``: "none" gives None (the field's "off"), anything else ``kind``."""
    def parse(text: str):
        return None if text.lower() == "none" else kind(text)
    parse.__name__ = f"{kind.__name__} or none"  # argparse names the type in its error message
    return parse


def config_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field (``--context-noise 0.2``), typed by the field's annotation.

    ``tuple[X, ...]`` takes any number of values (``--scenarios projectile uniform``, ``--snapshot-minutes``
    with none for ()); ``bool`` has ``--x`` and ``--no-x``; ``X | None`` takes "none". (transformers'
    HfArgumentParser does this for lists but not tuples, and rewrites the dataclass's fields while it reads them.)
    """
    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
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
            raise TypeError(f"TrainConfig.{field.name}: {hint} has no command-line form; use int, float, str, "
                            "bool, tuple[X, ...] or X | None")


def parse_args(argv=None) -> tuple[TrainConfig, dict]:
    """The command line as a TrainConfig, and the options that are not config fields (output, device,
    fit_minutes)."""
    ap = argparse.ArgumentParser(description="Train the tiny video model (resumes from --output if present).")
    ap.add_argument("--output", required=True)
    ap.add_argument("--device", default=None, help="cpu, cuda or mps; default: cuda, then mps, then cpu")
    ap.add_argument("--fit-minutes", type=float, default=None,
                    help="set --steps to what fits in this many minutes here (timed first), and stop then")
    config_arguments(ap)
    args = vars(ap.parse_args(argv))
    run = {name: args.pop(name) for name in ("output", "device", "fit_minutes")}
    return TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}), run


def main(argv=None):
    try:
        cfg, run = parse_args(argv)
    except ValueError as err:  # a config that cannot be (a ClipSpec check, say): say which and how to fix it
        sys.exit(f"vidlab.train: {err}")
    output, device, fit_minutes = run["output"], run["device"], run["fit_minutes"]
    Path(output).mkdir(parents=True, exist_ok=True)
    if int(os.environ.get("RANK", "0")) == 0:  # the main process of torchrun or accelerate launch, or the only one
        processes = int(os.environ.get("WORLD_SIZE", "1"))
        launched = f"  # in each of {processes} processes (torchrun or accelerate launch)" if processes > 1 else ""
        command = " ".join(["python -m vidlab.train", *(argv or sys.argv[1:])])
        (Path(output) / "command.txt").write_text(command + launched + "\n")
    try:
        if fit_minutes is not None:  # a resumed run keeps the steps it was planned with
            cfg = fit_to_minutes(cfg, fit_minutes, output, device)
            print(f"vidlab.train: {cfg.steps} steps planned for {fit_minutes:g} minutes here", flush=True)
        train(cfg, output, device=device)
    except ValueError as err:  # bad settings: say which and how to fix them, without a traceback
        sys.exit(f"vidlab.train: {err}")
