"""Command line of the benchmark harness; see ``python -m benchmarks --help``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import harness, workloads


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time symgrad against baselines; print tables, write JSON and Markdown results.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="one repeat and a 10 s baseline cap (defaults: 3 repeats, 60 s)")
    parser.add_argument("--only", metavar="NAME", action="append", choices=workloads.available(),
                        help="run only this workload (repeatable); choices: %(choices)s")
    parser.add_argument("--repeat", metavar="N", type=int, help="timed runs per measurement")
    parser.add_argument("--cap", metavar="SECONDS", type=float, help="stop a baseline after this long")
    parser.add_argument("--seed", type=int, default=harness.Settings.seed,
                        help="seed of the random points answers are compared at")
    parser.add_argument("--out", metavar="DIR", type=Path, default=harness.DEFAULT_OUT,
                        help="where to write results (default: benchmarks/results/)")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.cap is not None and args.cap <= 0:
        parser.error("--cap must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    settings = harness.Settings.for_mode(args.quick, args.repeat, args.cap, seed=args.seed)
    outcome = harness.run(args.only or workloads.available(), settings, args.out)
    return 0 if outcome.answers_equal else 1


if __name__ == "__main__":
    sys.exit(main())
