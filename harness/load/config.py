"""The load process's configuration file (CONFIG.json), read and checked once.

The orchestrator writes this file and never imports Locust; the load process
(and, through the master, every worker) reads it here. Pure Python: no gevent,
so the orchestrator and tests may import it. Every error names the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.errors import UsageError
from harness.metrics.series import OUTCOME_CLASSES
from harness.schema.durations import parse_duration
from harness.schema.suggest import unknown_name

BUILTIN_BORROWER = "builtin:borrower"
DEFAULT_REQUEST_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class LoadStage:
    """From `start_s` (seconds after the load started) run `users` users."""

    start_s: float
    users: int
    spawn_rate: float | None


@dataclass(frozen=True)
class Pacing:
    """How long a user waits between tasks; None in LoadConfig keeps the class's own."""

    mode: str  # "poisson" | "constant"
    interval_s: float


@dataclass
class LoadConfig:
    hosts: list[str]
    host_names: list[str]  # the instance behind each host ("lending#1"): metrics per instance
    locustfile: str
    user_classes: list[str] | None
    users: int
    spawn_rate: float
    stages: list[LoadStage]
    processes: int
    metrics_path: str
    acks_path: str | None
    control_path: str | None
    classification_field: str
    code_classes: dict[str, str]
    retryable_codes: frozenset[str]
    request_timeout_s: float
    run_time_s: float
    pacing: Pacing | None
    borrower: dict[str, Any] = field(default_factory=dict)
    master_bind_host: str = "127.0.0.1"
    master_port: int = 0
    expect_workers: int = 0
    worker_join_timeout_s: float = 30.0
    raw: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The config as given (what the master sends to its workers)."""
        return dict(self.raw)

    def targets(self) -> dict[str, str]:
        """host:port of each host -> its instance name, for metrics per instance."""
        return {host_port(h): n for h, n in zip(self.hosts, self.host_names)}


def host_port(url: str) -> str:
    """"127.0.0.1:8080" of "http://127.0.0.1:8080/v1/x": how request URLs are matched to hosts."""
    return url.split("://", 1)[-1].split("/", 1)[0]


def seconds(value: Any, where: str) -> float:
    """Seconds from a number or "500ms" / "20s" / "2m", as scenario files write them."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"load config {where}: {exc}") from None


def _number(data: dict, key: str, default: Any = None, minimum: float = 0.0, integer: bool = False) -> Any:
    value = data.get(key, default)
    if value is None:
        raise UsageError(f"load config: '{key}' is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise UsageError(f"load config {key}: expected {'an integer' if integer else 'a number'}, got {value!r}")
    if value < minimum:
        raise UsageError(f"load config {key}: must be >= {minimum:g}, got {value!r}")
    return int(value) if integer else float(value)


def _stages(raw: Any, users: int) -> list[LoadStage]:
    """Stages in order: `at_s` (or `at`) starts a stage at that offset; otherwise a
    stage starts where the previous one's `duration` ended."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        raise UsageError(f"load config stages: expected a list, got {raw!r}")
    out: list[LoadStage] = []
    cursor = 0.0
    for i, item in enumerate(raw):
        where = f"stages[{i}]"
        if not isinstance(item, dict):
            raise UsageError(f"load config {where}: expected an object, got {item!r}")
        at = item.get("at_s", item.get("at"))
        start = seconds(at, f"{where}.at_s") if at is not None else cursor
        dur = item.get("duration_s", item.get("duration"))
        cursor = start + (seconds(dur, f"{where}.duration") if dur is not None else 0.0)
        stage_users = _number(item, "users", integer=True) if "users" in item else users
        rate = item.get("spawn_rate")
        if rate is not None:
            rate = _number(item, "spawn_rate", minimum=1e-9)
        out.append(LoadStage(start, stage_users, rate))
    return sorted(out, key=lambda s: s.start_s)


def _pacing(raw: Any) -> Pacing | None:
    if raw in (None, "", "none"):
        return None
    if isinstance(raw, str):
        raw = {"mode": raw}
    if not isinstance(raw, dict):
        raise UsageError(f"load config pacing: expected an object like {{\"mode\": \"poisson\", \"interval_s\": 1}}, got {raw!r}")
    mode = raw.get("mode", "poisson")
    if mode not in ("poisson", "constant"):
        raise UsageError(f"load config pacing.mode: expected 'poisson' or 'constant', got {mode!r}")
    interval = seconds(raw.get("interval_s", raw.get("interval", 1.0)), "pacing.interval_s")
    if interval <= 0:
        raise UsageError("load config pacing.interval_s: must be > 0")
    return Pacing(mode, interval)


def _classification(raw: Any) -> tuple[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise UsageError("load config: 'classification' is required ({\"field\": ..., \"classes\": {...}})")
    fld = raw.get("field", "code")
    classes = raw.get("classes")
    if not isinstance(fld, str) or not fld:
        raise UsageError(f"load config classification.field: expected a field name, got {fld!r}")
    if not isinstance(classes, dict):
        raise UsageError("load config classification.classes: expected {\"success\": [...], ...}")
    code_classes: dict[str, str] = {}
    for cls, codes in classes.items():
        if cls not in OUTCOME_CLASSES:
            raise UsageError(f"load config classification.classes.{cls}: unknown class; known: "
                             f"{', '.join(OUTCOME_CLASSES)} (a code in no list is ungraceful)")
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise UsageError(f"load config classification.classes.{cls}: expected a list of codes")
        for code in codes:
            if code in code_classes and code_classes[code] != cls:
                raise UsageError(f"load config classification.classes.{cls}: code {code!r} "
                                 f"is already in {code_classes[code]}")
            code_classes[code] = cls
    return fld, code_classes


def _bind_host(value: Any) -> str:
    """Loopback unless the config explicitly names another address (remote workers)."""
    if value is None:
        return "127.0.0.1"
    if not isinstance(value, str) or not value:
        raise UsageError(f"load config master_bind_host: expected an address, got {value!r}")
    return value


# Every key of CONFIG.json (docs/load.md): a misspelt one is refused, not silently left at its default.
KEYS = frozenset({
    "hosts", "host", "host_names", "locustfile", "user_classes", "users", "spawn_rate", "stages", "processes",
    "metrics_path", "acks_path", "control_path", "classification", "retryable_codes", "request_timeout_s",
    "run_time_s", "pacing", "borrower", "master_bind_host", "master_port", "expect_workers",
    "worker_join_timeout_s",
})


def _is_base_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def parse_config(data: Any) -> LoadConfig:
    if not isinstance(data, dict):
        raise UsageError("load config: expected a JSON object")
    for key in data:
        if key not in KEYS:
            raise UsageError(f"load config: {unknown_name('key', key, KEYS)}")
    hosts = data.get("hosts", data.get("host"))
    if isinstance(hosts, str):
        hosts = [hosts]
    if not hosts or not isinstance(hosts, list) or not all(_is_base_url(h) for h in hosts):
        raise UsageError(f"load config hosts: expected a list of base URLs (http://HOST:PORT), got {hosts!r}")
    host_names = data.get("host_names") or []
    if not isinstance(host_names, list) or (host_names and len(host_names) != len(hosts)) \
            or not all(isinstance(n, str) and n for n in host_names):
        raise UsageError(f"load config host_names: expected one name per host, got {host_names!r}")
    locustfile = data.get("locustfile") or BUILTIN_BORROWER
    user_classes = data.get("user_classes")
    if user_classes is not None and (not isinstance(user_classes, list)
                                     or not all(isinstance(c, str) for c in user_classes)):
        raise UsageError(f"load config user_classes: expected a list of class names, got {user_classes!r}")
    users = _number(data, "users", integer=True)
    metrics_path = data.get("metrics_path")
    if not isinstance(metrics_path, str) or not metrics_path:
        raise UsageError("load config: 'metrics_path' is required")
    fld, code_classes = _classification(data.get("classification"))
    retryable = data.get("retryable_codes") or []
    if not isinstance(retryable, list):
        raise UsageError(f"load config retryable_codes: expected a list of codes, got {retryable!r}")
    timeout = seconds(data.get("request_timeout_s") or DEFAULT_REQUEST_TIMEOUT_S, "request_timeout_s")
    if "run_time_s" not in data:
        raise UsageError("load config: 'run_time_s' is required (the load process must always stop by itself)")
    borrower = data.get("borrower") or {}
    if not isinstance(borrower, dict):
        raise UsageError(f"load config borrower: expected an object, got {borrower!r}")
    return LoadConfig(
        hosts=[h.rstrip("/") for h in hosts],
        host_names=list(host_names),
        locustfile=str(locustfile),
        user_classes=user_classes or None,
        users=users,
        spawn_rate=_number(data, "spawn_rate", default=max(users, 1), minimum=1e-9),
        stages=_stages(data.get("stages"), users),
        processes=_number(data, "processes", default=0, integer=True),
        metrics_path=metrics_path,
        acks_path=data.get("acks_path") or None,
        control_path=data.get("control_path") or None,
        classification_field=fld,
        code_classes=code_classes,
        retryable_codes=frozenset(str(c) for c in retryable),
        request_timeout_s=timeout,
        run_time_s=seconds(data["run_time_s"], "run_time_s"),
        pacing=_pacing(data.get("pacing")),
        borrower=borrower,
        master_bind_host=_bind_host(data.get("master_bind_host")),
        master_port=_number(data, "master_port", default=0, integer=True),
        expect_workers=_number(data, "expect_workers", default=0, integer=True),
        worker_join_timeout_s=seconds(data.get("worker_join_timeout_s", 30.0), "worker_join_timeout_s"),
        raw=data,
    )


def load_config(path: str | Path) -> LoadConfig:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"load config {path}: cannot read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"load config {path}: not JSON ({exc})") from None
    return parse_config(data)
