"""The `sandkasse` command. Each subcommand lives in its own module under sandbox/commands/
and registers itself with `register(subparsers)`; this file only finds and dispatches them."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from sandbox import commands


class UsageError(Exception):
    """A clear error about the user's options: printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sandkasse",
                                     description="Vendor conformance sandbox for the municipal journal platform.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as error:
        print(f"sandkasse {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
