"""The ``symgrad`` command line.

Exit status: 0 on success, 1 on an error in the input (reported on stderr in
one line; ``--debug`` shows the traceback) or a failed check, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys

from .._version import __version__
from ..errors import SymgradError
from . import derivatives, models, pictures

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symgrad",
        description="Exact symbolic gradients of SymPy models, compiled and trained.",
        epilog="Run 'symgrad COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="walk through the lecture notes' worked examples",
        description="Differentiate the lecture notes' worked examples exactly, explain them, and train.",
    )
    demo.set_defaults(run=_demo)
    derivatives.register(commands)
    models.register(commands)
    pictures.register(commands)
    bench = commands.add_parser(
        "bench", help="run the benchmarks (from a source checkout)",
        description="Run the benchmark harness (python -m benchmarks) of a source checkout; "
                    "arguments after 'bench' are passed on, e.g. symgrad bench --quick.",
        add_help=False)
    bench.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    bench.set_defaults(run=_bench)
    return parser


def _demo(args, out) -> None:
    from .demo import run

    run(out)


def _bench(args, out) -> int:
    try:
        from benchmarks.__main__ import main as bench_main
    except ImportError:
        print("symgrad: error: the benchmarks ship with the source repository; run 'symgrad bench' "
              "from a checkout of it (python -m benchmarks --help)", file=sys.stderr)
        return 1
    return bench_main(args.rest)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # options after "bench" belong to the benchmark harness, not to this parser
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "bench":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "bench":
        args.rest = [*unknown, *args.rest]
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status = args.run(args, sys.stdout)
    except BrokenPipeError:
        # The reader went away (e.g. `symgrad demo | head`): not an error.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except (SymgradError, OSError, ImportError) as error:
        if args.debug:
            raise
        message = str(error) if not isinstance(error, OSError) or not error.filename else \
            f"{error.filename}: {error.strerror}"
        print(f"symgrad: error: {message}", file=sys.stderr)
        return 1
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
