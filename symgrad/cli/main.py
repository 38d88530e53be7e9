"""The ``symgrad`` command line."""

from __future__ import annotations

import argparse
import os
import sys

from .._version import __version__
from ..errors import SymgradError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symgrad",
        description="Exact symbolic gradients of SymPy models, as readable programs.",
    )
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="walk through the lecture notes' worked examples",
        description="Differentiate the lecture notes' worked examples exactly and explain them.",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.command == "demo":
            from .demo import run

            run()
    except BrokenPipeError:
        # The reader went away (e.g. `symgrad demo | head`): not an error.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except SymgradError as error:
        if args.debug:
            raise
        print(f"symgrad: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
