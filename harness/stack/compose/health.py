"""A Compose healthcheck as a stack's health: an HTTP GET of a path, or a TCP connect.

chaosdrill checks health from outside the container (it runs no command
inside), so only a check that GETs a URL of the service itself can be
carried over as such: `curl -f http://localhost:8000/healthz` or
`wget -q --spider http://localhost/healthz` becomes `health.path`. Any other
test (`pg_isready`, `redis-cli ping`, a script) becomes a TCP connect to the
service's port, and the import says so. Its timing becomes the time the
service is given to get healthy at start.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from harness.stack.compose.values import duration, seconds_text, text

LOCAL_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]")
START_TIMEOUT_MIN = 20.0  # the stack's default: a container starting on a busy machine needs it
# What Compose uses for a healthcheck key not given.
DEFAULTS = {"interval": 30.0, "timeout": 30.0, "retries": 3, "start_period": 0.0}
_SHELL_OPERATORS = {"||", "&&", ";", "|", "&"}
_CURL_NOT_GET = {"-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "-F", "--form", "-T",
                 "--upload-file", "--json"}
_WGET_NOT_GET = ("--post-data", "--post-file", "--body-data", "--body-file")


@dataclass
class HealthGuess:
    """What the import makes of a healthcheck."""

    path: str | None = None  # None: a TCP connect
    port: int | None = None  # the port its URL names: where the service listens
    timeout: str | None = None  # None: the stack's default (20s)
    http: bool = False  # it GETs a URL: the service answers HTTP


Warn = Callable[[tuple, str], None]  # (loc below the healthcheck, message)


def map_healthcheck(check: Any, own_names: set[str], warn: Warn) -> HealthGuess:
    """The stack's health for a service's `healthcheck` (None: no healthcheck: a TCP connect)."""
    if check is None:
        return HealthGuess()
    if not isinstance(check, dict):
        warn((), "not carried over (expected a mapping with test, interval, ...): a TCP check instead")
        return HealthGuess()
    guess = HealthGuess(timeout=_start_timeout(check, warn))
    if check.get("disable") is True:
        return HealthGuess()
    for key in check:
        if key not in ("test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"):
            warn((key,), "not carried over (not a healthcheck key chaosdrill knows)")
    words = _words(check.get("test"))
    if words is None:
        warn(("test",), "not carried over (expected a list like [CMD, ...] or a shell command): "
                        "a TCP check on the service's port instead")
        return guess
    if words == ["NONE"] or not words:
        return HealthGuess()
    url, why = _http_get_url(words)
    if url is not None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme == "http" and (host in LOCAL_HOSTS or host in own_names):
            guess.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            guess.port = parts.port or 80
            guess.http = True
            return guess
        why = (f"it asks {url}, not the service itself over plain HTTP" if parts.scheme == "http"
               else f"it asks {url} over {parts.scheme}, and chaosdrill checks plain HTTP")
    shown = " ".join(words)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    warn(("test",), f"{shown!r} is not an HTTP GET of the service's own URL ({why}): carried over as a TCP "
                    "check (a connection to the service's port is accepted)")
    return guess


def _words(test: Any) -> list[str] | None:
    """The check's command words: [CMD, ...] as is, [CMD-SHELL, "..."] and a string split as a shell would."""
    try:
        if isinstance(test, str):
            return shlex.split(test, posix=True)
        if isinstance(test, list) and test and all(isinstance(w, (str, int, float)) for w in test):
            words = [text(w) for w in test]
            if words[0] == "CMD":
                return words[1:]
            if words[0] == "CMD-SHELL":
                return shlex.split(" ".join(words[1:]), posix=True)
            if words[0] == "NONE":
                return ["NONE"]
    except ValueError:
        return None
    return None


def _http_get_url(words: list[str]) -> tuple[str | None, str]:
    """The URL a curl/wget GET asks, from the first command (`|| exit 1` and what follows ignored)."""
    command: list[str] = []
    for word in words:
        if word in _SHELL_OPERATORS:
            break
        command.append(word)
    if not command:
        return None, "no command"
    tool = command[0].rsplit("/", 1)[-1]
    if tool not in ("curl", "wget"):
        return None, f"it runs {tool}"
    args = command[1:]
    for i, arg in enumerate(args):
        if tool == "curl":
            if arg in _CURL_NOT_GET or any(arg.startswith(f + "=") for f in _CURL_NOT_GET if f.startswith("--")):
                return None, f"curl {arg} sends a body"
            method = args[i + 1] if arg in ("-X", "--request") and i + 1 < len(args) else (
                arg[2:] if arg.startswith("-X") and len(arg) > 2 else None)
            if method is not None and method.upper() not in ("GET", "HEAD"):
                return None, f"curl asks with {method.upper()}"
        elif arg.startswith(_WGET_NOT_GET) or (arg.startswith("--method") and "GET" not in arg.upper()):
            return None, f"wget {arg} is not a GET"
    urls = [a for a in args if "://" in a]
    if not urls:
        return None, f"{tool} names no URL"
    return urls[0], ""


def _start_timeout(check: dict[str, Any], warn: Warn) -> str | None:
    """How long Compose would take to call the service unhealthy: start_period + retries x (interval +
    timeout), Compose's defaults for interval, retries and start_period when not given, and a timeout
    only when given (a check at start mostly fails at once, refused); at least the stack's 20 s.
    None when the healthcheck gives no timing at all."""
    if not any(k in check for k in DEFAULTS):
        return None
    values = {**DEFAULTS, "timeout": 0.0}
    for key in DEFAULTS:
        if key not in check:
            continue
        try:
            if key == "retries":
                values[key] = int(check[key])
                if values[key] < 0:
                    raise ValueError
            else:
                values[key] = duration(check[key])
        except (TypeError, ValueError):
            warn((key,), f"{check[key]!r} is not a {'count' if key == 'retries' else 'duration'}: "
                         f"Compose's default used ({DEFAULTS[key]:g}{'' if key == 'retries' else 's'})")
    total = values["start_period"] + values["retries"] * (values["interval"] + values["timeout"])
    return seconds_text(max(START_TIMEOUT_MIN, round(total, 3)))
