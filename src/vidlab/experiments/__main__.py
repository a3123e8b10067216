"""python -m vidlab.experiments NAME [--fast] [--device cpu]: run or resume one experiment.

    python -m vidlab.experiments NAME [NAME ...] --train --jobs 8 --steps 3500   # only train their models
    python -m vidlab.experiments NAME --seeds 1                                   # one training seed's share
    python -m vidlab.experiments NAME --trained-only       # measure what is trained while the rest trains
"""

import argparse
import json
import sys

from vidlab.experiments import EXPERIMENTS, run, train_models


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="the experiment(s); --list names them")
    ap.add_argument("--fast", action="store_true", help="seconds instead of an hour: checks the code path only")
    ap.add_argument("--device", default=None, help="cpu, cuda or mps; default: cuda, then mps, then cpu")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="only these training seeds")
    ap.add_argument("--steps", type=int, default=None,
                    help="train new models this many steps instead of fitting them to the mode's minutes here")
    ap.add_argument("--train", action="store_true", help="only train the models the experiments need")
    ap.add_argument("--trained-only", action="store_true",
                    help="measure only with models already trained; stop at the first one missing")
    ap.add_argument("--jobs", type=int, default=1, help="with --train: models trained at once")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list or not args.names:
        for name, fn in EXPERIMENTS.items():
            print(f"{name}: {(fn.__doc__ or '').strip().splitlines()[0]}")
        return
    try:
        if args.train:
            trained = train_models(args.names, args.fast, args.device, args.seeds, args.steps, args.jobs)
            print("\n".join(map(str, trained)) or "every model was already trained")
            return
        for name in args.names:
            summary = run(name, args.fast, args.device, seeds=args.seeds, steps=args.steps,
                          trained_only=args.trained_only)
            print(json.dumps(summary, indent=1))
    except ValueError as err:
        sys.exit(f"vidlab.experiments: {err}")


if __name__ == "__main__":
    main()
