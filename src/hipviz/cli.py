"""The `hipviz` command. Each subcommand lives in hipviz.commands.<name> with
`register(subparsers)`, importing its heavy dependencies only when it runs."""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules, in the order `hipviz --help` lists them.
COMMANDS = [
    "hipviz.commands.serve",
    "hipviz.commands.atlas",
    "hipviz.commands.render",
    "hipviz.commands.ddx",
    "hipviz.commands.conditions",
    "hipviz.commands.report",
    "hipviz.commands.export",
    "hipviz.commands.import_bundle",
    "hipviz.commands.clinic",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hipviz",
        description="3D anatomy and referred-pain visualizer for the hip and buttock (educational, not a diagnosis).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


class UsageError(Exception):
    """Bad input from the user: printed as one line on stderr, exit status 2."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except UsageError as e:
        print(f"hipviz {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Run through the package module so UsageError is the same class the commands raise.
    from hipviz.cli import main as _main

    sys.exit(_main())
