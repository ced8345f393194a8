"""lending's flags: addresses, limits, and one switch per resilience mechanism.

Each `--no-X` switch turns exactly one mechanism off, so a drill can prove
the harness notices when that mechanism is missing. Every flag also reads
an environment variable: CHAOSDRILL_<FLAG> (e.g. CHAOSDRILL_NO_BREAKER=1).
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_services.runtime import ServiceArgumentParser, base_parser, duration, integer, switch

MECHANISMS = {
    "fallback": "cached credit report fallback (APPROVED_DEGRADED / QUOTA_DEGRADED) and explicit "
                "CREDIT_UNAVAILABLE/DEFERRED; off: a bureau failure is a bare 500",
    "breaker": "a circuit breaker per dependency; off: every call waits for its timeout",
    "deadline": "a deadline on every request and timeouts on every dependency call; off: hangs as long as a dependency does",
    "retries": "retries with exponential backoff and jitter (tenacity) within the deadline; off: one attempt",
    "failover": "the second bureau replica and the backup gateway; off: one replica per request, primary gateway only",
    "idempotency-check": "stable idempotency keys, voided at a gateway before failing over from it; off: fresh key per attempt, no check (double payments)",
    "admission-control": "OVERLOADED 429 beyond --max-concurrency; off: requests queue without bound",
    "maintenance-readonly": "announced maintenance with reads and repayments working; off: maintenance is an unannounced outage (bare 503 for everything)",
    "risk-reasons": "RISK_REJECTED / QUOTA_FROZEN with reasons; off: a generic failure without code or reason",
}


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    db: str
    instance_id: str
    bureau_urls: list[str]
    gateway_primary_url: str
    gateway_backup_url: str
    deadline: float
    dependency_timeout: float
    retry_attempts: int
    max_concurrency: int
    breaker_failures: int
    breaker_reset: float
    report_ttl: float
    freeze_after: int
    freeze_window: float
    reconcile_interval: float
    upstream_check: bool
    upstream_wait: float
    log_level: str
    enabled: dict[str, bool]

    def on(self, mechanism: str) -> bool:
        return self.enabled[mechanism]


def build_parser() -> ServiceArgumentParser:
    parser = base_parser("lending", "Mock lending service: quota, loans, repayments, maintenance, audit.")
    parser.add_argument("--instance-id", default=parser.env("instance-id", "lending"), help="name of this instance in logs, metrics and the audit")
    parser.add_argument("--bureau-url", action="append", default=None,
                        help="credit-bureau replica URL; repeat or comma-separate (replicas a, b, ...)")
    parser.add_argument("--gateway-primary-url", default=parser.env("gateway-primary-url", None))
    parser.add_argument("--gateway-backup-url", default=parser.env("gateway-backup-url", None))
    parser.add_argument("--deadline", type=duration, default=parser.env("deadline", duration("2s"), duration),
                        help="answer every request within this budget (default 2s)")
    parser.add_argument("--dependency-timeout", type=duration, default=parser.env("dependency-timeout", duration("400ms"), duration),
                        help="timeout of one dependency call attempt, capped by the remaining deadline")
    parser.add_argument("--retry-attempts", type=int, default=parser.env("retry-attempts", 3, integer))
    parser.add_argument("--max-concurrency", type=int, default=parser.env("max-concurrency", 256, integer),
                        help="admission control: requests in progress beyond this get OVERLOADED 429")
    parser.add_argument("--breaker-failures", type=int, default=parser.env("breaker-failures", 5, integer),
                        help="consecutive failures that open a dependency's breaker")
    parser.add_argument("--breaker-reset", type=duration, default=parser.env("breaker-reset", duration("2s"), duration),
                        help="how long a breaker stays open before a half-open trial")
    parser.add_argument("--report-ttl", type=duration, default=parser.env("report-ttl", duration("600s"), duration),
                        help="how old a cached credit report may be to serve as a fallback")
    parser.add_argument("--freeze-after", type=int, default=parser.env("freeze-after", 5, integer),
                        help="QUOTA_FROZEN when a user already has this many loans within --freeze-window")
    parser.add_argument("--freeze-window", type=duration, default=parser.env("freeze-window", duration("60s"), duration))
    parser.add_argument("--reconcile-interval", type=duration, default=parser.env("reconcile-interval", duration("2s"), duration),
                        help="how often PENDING_RECONCILIATION payments are resolved")
    parser.add_argument("--no-upstream-check", action="store_true", default=parser.env("no-upstream-check", False, switch),
                        help="start even when an upstream does not accept connections")
    parser.add_argument("--upstream-wait", type=duration, default=parser.env("upstream-wait", duration("3s"), duration),
                        help="how long to wait at start for each upstream to accept connections")
    for mechanism, meaning in MECHANISMS.items():
        parser.add_argument(f"--no-{mechanism}", action="store_true", default=parser.env(f"no-{mechanism}", False, switch),
                            help=f"turn off: {meaning}")
    return parser


def parse_settings(argv: list[str] | None = None) -> Settings:
    parser = build_parser()
    args = parser.parse_args(argv)
    raw_bureaus = args.bureau_url or [parser.env("bureau-url", "")]
    bureau_urls = [u.strip() for item in raw_bureaus for u in str(item).split(",") if u.strip()]
    if not bureau_urls:
        parser.error("at least one --bureau-url is required")
    if not args.gateway_primary_url or not args.gateway_backup_url:
        parser.error("--gateway-primary-url and --gateway-backup-url are required")
    for name in ("deadline", "dependency_timeout", "breaker_reset"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    for name in ("retry_attempts", "max_concurrency", "breaker_failures", "freeze_after"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    enabled = {m: not getattr(args, "no_" + m.replace("-", "_")) for m in MECHANISMS}
    return Settings(
        host=args.host, port=args.port, db=args.db, instance_id=args.instance_id,
        bureau_urls=bureau_urls, gateway_primary_url=args.gateway_primary_url,
        gateway_backup_url=args.gateway_backup_url, deadline=args.deadline,
        dependency_timeout=args.dependency_timeout, retry_attempts=args.retry_attempts,
        max_concurrency=args.max_concurrency, breaker_failures=args.breaker_failures,
        breaker_reset=args.breaker_reset, report_ttl=args.report_ttl, freeze_after=args.freeze_after,
        freeze_window=args.freeze_window, reconcile_interval=args.reconcile_interval,
        upstream_check=not args.no_upstream_check, upstream_wait=args.upstream_wait, log_level=args.log_level, enabled=enabled,
    )


