"""The `lettrage` command. Each subcommand lives in `lettrage/commands/<name>.py` and exposes
`add_parser(subparsers)`, which registers it and sets `func(args) -> int`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Subcommand modules, in the order `lettrage --help` lists them.
COMMANDS = [
    "demo", "generate", "read", "match", "explain", "decide", "backfill", "bench",
    "links", "mail_sink", "serve", "psp_simulator", "payments", "users",
]


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit 2, never a traceback."""

    def error(self, message: str):  # noqa: D102
        self.exit(2, f"{self.prog}: error: {message}\n")


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit code 2 (bad input) unless given."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="lettrage", description="Card reconciliation and payment links for hotels.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"lettrage.commands.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DISABLE_PANDERA_IMPORT_WARNING", "True")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except CommandError as exc:
        print(f"lettrage {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
