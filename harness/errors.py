"""The two ways chaosdrill refuses to go on, each mapped to one exit code.

Every user-facing failure is raised as one of these and printed as a single
line by the CLI, so no traceback ever reaches a user for a known failure.
"""

from __future__ import annotations


class ChaosdrillError(Exception):
    """Base class: carries the exit code the CLI returns."""

    exit_code = 3


class UsageError(ChaosdrillError):
    """Bad input: a broken scenario, an unknown link, a port in use (exit 2)."""

    exit_code = 2


class HarnessError(ChaosdrillError):
    """The harness itself failed: a service never became healthy (exit 3)."""

    exit_code = 3
