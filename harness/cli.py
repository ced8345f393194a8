"""The `chaosdrill` command line.

Each subcommand lives in its own module under harness.commands and exposes
`register(subparsers)`; this module only dispatches and turns every known
failure into one clear line and its exit code (2 bad input, 3 harness
failure), so a user never sees a traceback for a mistake they can fix.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from typing import Iterator, Sequence


def _interrupted() -> int:
    print("chaosdrill: interrupted", file=sys.stderr)
    return 130


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """A Ctrl-C meanwhile waits, blocked, and is raised as KeyboardInterrupt
    when the block ends. Raised inside an import instead, it can be swallowed
    ("Exception ignored in ...") or crash an extension module's start-up."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


# Ctrl-C while Python loads chaosdrill (this module here, the command modules
# in main()) is one line and exit 130, never a traceback.
try:
    with _sigint_held():
        import argparse
        import importlib

        from harness import __version__
        from harness.errors import ChaosdrillError
except KeyboardInterrupt:
    sys.exit(_interrupted())

# Order is the order shown in --help.
COMMAND_MODULES = [
    "run",
    "validate",
    "schema",
    "gate",
    "matrix",
    "gameday",
    "stack",
    "proxy_server",
    "report",
    "compare",
    "history",
    "cleanup",
    "worker",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2, one line
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chaosdrill",
        description="Chaos and resilience drills: real services, real traffic, real faults.",
    )
    parser.add_argument("--version", action="version", version=f"chaosdrill {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"harness.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        with _sigint_held():  # build_parser() imports every command module: most of the start-up time
            parser = build_parser()
            args = parser.parse_args(argv)
            for module in getattr(args, "preload", ()):
                importlib.import_module(module)
        if not getattr(args, "func", None):
            parser.print_help()
            print("chaosdrill: error: name a command (the list is above)", file=sys.stderr)
            return 2
        return int(args.func(args) or 0)
    except ChaosdrillError as exc:
        print(f"chaosdrill: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return _interrupted()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
