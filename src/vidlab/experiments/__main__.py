"""python -m vidlab.experiments NAME [--fast] [--device cpu]: run or resume one experiment."""

import argparse
import json
import sys

from vidlab.experiments import EXPERIMENTS, run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", nargs="?", help="the experiment; --list names them")
    ap.add_argument("--fast", action="store_true", help="seconds instead of an hour: checks the code path only")
    ap.add_argument("--device", default=None, help="cpu, cuda or mps; default: cuda, then mps, then cpu")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list or not args.name:
        for name, fn in EXPERIMENTS.items():
            print(f"{name}: {(fn.__doc__ or '').strip().splitlines()[0]}")
        return
    try:
        summary = run(args.name, fast=args.fast, device=args.device)
    except ValueError as err:
        sys.exit(f"vidlab.experiments: {err}")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
