"""Load the user classes a config names and fit them to the run.

Imports Locust (gevent): only the load process uses this module. Fitting
means: each user instance gets a base URL round-robin over `hosts`,
FastHttpUser classes get the client deadline as their socket timeouts
(unless the class sets its own), and a `pacing` in the config replaces the
classes' wait_time.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from locust import User
from locust.contrib.fasthttp import FastHttpUser
from locust.util.load_locustfile import load_locustfile

from harness.errors import UsageError
from harness.load.config import BUILTIN_BORROWER, LoadConfig
from harness.load.pacing import pacing_wait

_DEFAULT_FAST_TIMEOUT = FastHttpUser.network_timeout


def locustfile_source(locustfile: str) -> str | None:
    """The text of a user-given locustfile (sent to workers); None for built-ins."""
    if locustfile.startswith("builtin:"):
        return None
    try:
        return Path(locustfile).read_text()
    except OSError as exc:
        raise UsageError(f"load config locustfile: cannot read {locustfile} ({exc.strerror})") from None


def materialise_locustfile(locustfile: str, source: str | None) -> str:
    """A local path with the master's locustfile text: the same file when it is
    here unchanged (local workers), else a copy in a temporary folder."""
    if source is None or locustfile.startswith("builtin:"):
        return locustfile
    try:
        if Path(locustfile).read_text() == source:
            return locustfile
    except OSError:
        pass
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"chaosdrill-locustfile-{digest}"
    folder.mkdir(exist_ok=True)
    path = folder / Path(locustfile).name
    path.write_text(source)
    return str(path)


def load_user_classes(locustfile: str, names: list[str] | None) -> list[type[User]]:
    if locustfile == BUILTIN_BORROWER:
        from harness.load.borrower import BorrowerUser, CrossBorrowerUser

        if not names:
            return [BorrowerUser]
        available: dict[str, type[User]] = {"BorrowerUser": BorrowerUser, "CrossBorrowerUser": CrossBorrowerUser}
    elif locustfile.startswith("builtin:"):
        raise UsageError(f"load config locustfile: unknown built-in {locustfile!r}; known: {BUILTIN_BORROWER}")
    else:
        if not os.path.isfile(locustfile):
            raise UsageError(f"load config locustfile: no such file {locustfile}")
        available, _shapes = load_locustfile(locustfile)
        available = {k: v for k, v in available.items() if not getattr(v, "abstract", False)}
    if names:
        unknown = [n for n in names if n not in available]
        if unknown:
            raise UsageError(f"load config user_classes: {', '.join(unknown)} not in {locustfile}; "
                             f"known: {', '.join(sorted(available)) or 'none'}")
        return [available[n] for n in names]
    if not available:
        raise UsageError(f"load config locustfile: {locustfile} defines no User class")
    return list(available.values())


def fit_user_classes(classes: list[type[User]], config: LoadConfig, first_user: int = 0) -> None:
    hosts = config.hosts
    counter = itertools.count(first_user)
    for cls in classes:
        if issubclass(cls, FastHttpUser) and cls.network_timeout == _DEFAULT_FAST_TIMEOUT:
            cls.network_timeout = config.request_timeout_s
            cls.connection_timeout = config.request_timeout_s
        if config.pacing is not None:
            cls.wait_time = pacing_wait(config.pacing)
        if getattr(cls, "_chaosdrill_fitted", False):
            continue
        original_init = cls.__init__

        def __init__(self: Any, *args: Any, _orig: Callable = original_init, **kwargs: Any) -> None:
            self.host = hosts[next(counter) % len(hosts)]
            _orig(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[method-assign]
        cls._chaosdrill_fitted = True  # type: ignore[attr-defined]
        if cls.host is None:
            cls.host = hosts[0]


def prepare_user_classes(config: LoadConfig, locustfile: str | None = None, first_user: int = 0) -> list[type[User]]:
    """Load, fit and (for the built-in borrower) configure the run's user classes."""
    locustfile = locustfile or config.locustfile
    classes = load_user_classes(locustfile, config.user_classes)
    if locustfile == BUILTIN_BORROWER:
        from harness.load.borrower import configure

        configure(config.borrower)
    fit_user_classes(classes, config, first_user)
    return classes


def stop_timeout(config: LoadConfig) -> float:
    """How long stopping waits for in-flight tasks: one request deadline and a
    margin, so every request the service saw is counted before the last flush."""
    return config.request_timeout_s + 1.0
