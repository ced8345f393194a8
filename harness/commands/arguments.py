"""Argument types shared by the subcommands, so a bad value is argparse's one line and exit 2."""

from __future__ import annotations

import argparse

# Modules a command loads while Ctrl-C is held back (harness/cli.py): the scenario and stack
# models, whose pydantic schemas take a third of a second to build and which turn a
# Ctrl-C arriving mid-build into a SchemaError traceback rather than a KeyboardInterrupt.
MODEL_MODULES = ("harness.scenario",)


def port_number(text: str) -> int:
    """A TCP port 0-65535 (0: any free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: ports are 0-65535")
    return port


def port_or_off(text: str) -> int:
    """A port as above, or -1 for "do not listen at all" (gameday --web-port)."""
    return -1 if text.strip() == "-1" else port_number(text)
