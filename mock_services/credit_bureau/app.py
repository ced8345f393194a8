"""credit-bureau: `GET /v1/reports/{user_id}` -> score, multi-lending, overdue.

Reports are a pure function of (seed, user id) so drills are reproducible
and two replicas agree; a configurable share of users is high-risk (low
score plus at least one of the multi-lending / overdue flags). Each report
is recorded in SQLite the first time it is served (the bureau's "issued
reports" table), then answered from memory.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from mock_services.runtime import (ConfigError, add_common_routes, base_parser, bind, event, fail,
                                   open_database, run_service, setup_logging)
from mock_services.web import Application, Request, Response, json_response

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    user_id TEXT PRIMARY KEY,
    score INTEGER NOT NULL,
    multi_lending INTEGER NOT NULL,
    overdue INTEGER NOT NULL,
    issued_at REAL NOT NULL
);
"""


def credit_report(user_id: str, high_risk_share: float, seed: str = "chaosdrill") -> dict[str, Any]:
    """The report for a user: deterministic, high-risk for about `high_risk_share` of ids."""
    digest = hashlib.blake2b(f"{seed}:{user_id}".encode(), digest_size=24).digest()
    u1, u2, u3 = (int.from_bytes(digest[i:i + 8], "big") / 2**64 for i in (0, 8, 16))
    high_risk = u1 < high_risk_share
    if high_risk:
        score = 300 + int(u2 * 250)  # 300..549
        multi_lending = u3 < 0.6
        overdue = u3 >= 0.4
    else:
        score = 560 + int(u2 * 291)  # 560..850
        multi_lending = overdue = False
    return {"user_id": user_id, "score": score, "multi_lending": multi_lending, "overdue": overdue}


class Bureau:
    def __init__(self, name: str, db: sqlite3.Connection, high_risk_share: float, seed: str) -> None:
        self.name = name
        self.db = db
        self.high_risk_share = high_risk_share
        self.seed = seed
        self.cache: dict[str, dict[str, Any]] = {}
        self.registry = CollectorRegistry()
        self.served = Counter("chaosdrill_bureau_reports_total", "Credit reports served",
                              ["high_risk"], registry=self.registry)
        self.app = Application()
        add_common_routes(self.app, self.registry, lambda: True)
        self.app.route("GET", "/v1/reports/{user_id}")(self.report)

    async def report(self, request: Request, user_id: str) -> Response:
        report = self.cache.get(user_id)
        if report is None:
            report = credit_report(user_id, self.high_risk_share, self.seed)
            report["bureau"] = self.name
            report["high_risk"] = report["score"] < 550
            self.db.execute("INSERT OR IGNORE INTO reports VALUES (?, ?, ?, ?, ?)",
                            (user_id, report["score"], report["multi_lending"], report["overdue"], time.time()))
            self.cache[user_id] = report
        self.served.labels("true" if report["high_risk"] else "false").inc()
        return json_response(200, report)


def main() -> None:
    parser = base_parser("credit-bureau", "Mock credit bureau: deterministic credit reports per user id.")
    parser.add_argument("--name", default="credit-bureau", help="replica name, shown in reports and logs")
    parser.add_argument("--high-risk-share", type=float, default=0.1, help="share of users that are high-risk (0..1)")
    parser.add_argument("--seed", default="chaosdrill", help="report seed: same seed, same reports")
    args = parser.parse_args()
    if not 0.0 <= args.high_risk_share <= 1.0:
        fail(parser.prog, f"--high-risk-share must be within 0..1, got {args.high_risk_share}")
    logger = setup_logging(args.name, args.log_level)
    try:
        db = open_database(args.db, SCHEMA)
        sock = bind(args.host, args.port)
    except ConfigError as exc:
        fail(args.name, str(exc))
    bureau = Bureau(args.name, db, args.high_risk_share, args.seed)
    event(logger, "starting", high_risk_share=args.high_risk_share, db=args.db)

    async def stop() -> None:
        db.close()

    run_service(args.name, args.host, sock, bureau.app, stop=stop)


if __name__ == "__main__":
    main()
