"""payment-gateway: money movements keyed by an Idempotency-Key header.

The same key with the same body returns the original result and moves money
once; the same key with a different body is refused (409). A movement is
committed to SQLite (WAL, group commit) before it is acknowledged, so an
acknowledged payment survives kill -9. `GET /v1/{kind}/{key}` tells a caller whose call
timed out whether the money moved; `GET /v1/ledger` lists every movement
for the audit.

`POST /v1/{kind}/{key}/void` fences a key: it answers the movement if the
money already moved, else records the key as void, and any request with it
that arrives later (one held up in the network) is refused without moving
money. A caller that voids a key at one gateway before paying through
another can never pay twice, however late the first request lands; a plain
status check cannot promise that, since "not found" may only mean "not yet".
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from mock_services.group_commit import GroupCommit
from mock_services.runtime import (ConfigError, add_common_routes, base_parser, bind, event, fail,
                                   open_database, run_service, setup_logging)
from mock_services.web import Application, Request, Response, json_response

SCHEMA = """
CREATE TABLE IF NOT EXISTS movements (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    amount INTEGER NOT NULL,
    reference TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS voided (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    voided_at REAL NOT NULL
);
"""

KINDS = {"disbursements": "disbursement", "collections": "collection"}


class Gateway:
    def __init__(self, name: str, db: sqlite3.Connection) -> None:
        self.name = name
        self.db = db
        self.group = GroupCommit(db)
        self.registry = CollectorRegistry()
        self.moved = Counter("chaosdrill_gateway_movements_total", "Money movements",
                             ["kind", "result"], registry=self.registry)
        self.app = Application()
        add_common_routes(self.app, self.registry, lambda: True)
        for path_kind in KINDS:
            self.app.route("POST", f"/v1/{path_kind}")(self._make_create(path_kind))
            self.app.route("GET", f"/v1/{path_kind}/{{key}}")(self._make_lookup(path_kind))
            self.app.route("POST", f"/v1/{path_kind}/{{key}}/void")(self._make_void(path_kind))
        self.app.route("GET", "/v1/ledger")(self.ledger)

    def _movement(self, row: tuple) -> dict[str, Any]:
        key, kind, amount, reference, created_at = row
        return {"key": key, "kind": kind, "amount": amount, "reference": reference,
                "status": "succeeded", "provider": self.name, "created_at": created_at}

    def _make_create(self, path_kind: str):
        kind = KINDS[path_kind]

        async def create(request: Request) -> Response:
            key = request.headers.get("idempotency-key", "").strip()
            if not key:
                return json_response(400, {"error": "missing_idempotency_key", "message": "Idempotency-Key header is required"})
            try:
                body = request.json()
                amount = body["amount"]
                reference = str(body["reference"])
                if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                    raise ValueError("amount must be a positive integer")
            except (ValueError, KeyError, TypeError) as exc:
                return json_response(400, {"error": "invalid_request", "message": f"bad body: {exc}"})
            body_hash = hashlib.sha256(json.dumps([kind, amount, reference]).encode()).hexdigest()
            row = self.db.execute("SELECT key, kind, amount, reference, created_at, body_hash FROM movements WHERE key=?",
                                  (key,)).fetchone()
            if row is None and self._is_void(key):
                self.moved.labels(kind, "voided").inc()
                await self.group.durable()  # the void may still be in the open group transaction
                return json_response(409, {"error": "idempotency_key_voided",
                                           "message": f"key {key} was voided; nothing moved"})
            if row is not None:
                if row[5] != body_hash:
                    self.moved.labels(kind, "conflict").inc()
                    return json_response(409, {"error": "idempotency_key_conflict",
                                               "message": f"key {key} was used with a different request"})
                self.moved.labels(kind, "replayed").inc()
                await self.group.durable()  # the original may still be in the open group transaction
                return json_response(200, {**self._movement(row[:5]), "replayed": True})
            created_at = time.time()
            self.group.write("INSERT INTO movements (key, kind, amount, reference, body_hash, created_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (key, kind, amount, reference, body_hash, created_at))
            await self.group.durable()  # acknowledged only once committed
            self.moved.labels(kind, "created").inc()
            return json_response(201, {**self._movement((key, kind, amount, reference, created_at)), "replayed": False})

        return create

    def _make_lookup(self, path_kind: str):
        kind = KINDS[path_kind]

        async def lookup(request: Request, key: str) -> Response:
            await self.group.durable()  # never report a movement that is not committed yet
            row = self.db.execute("SELECT key, kind, amount, reference, created_at FROM movements WHERE key=? AND kind=?",
                                  (key, kind)).fetchone()
            if row is None:
                return json_response(404, {"error": "not_found", "key": key, "message": f"no {kind} with key {key}"})
            return json_response(200, self._movement(row))

        return lookup

    def _is_void(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM voided WHERE key=?", (key,)).fetchone() is not None

    def _make_void(self, path_kind: str):
        kind = KINDS[path_kind]

        async def void(request: Request, key: str) -> Response:
            row = self.db.execute("SELECT key, kind, amount, reference, created_at FROM movements WHERE key=?",
                                  (key,)).fetchone()
            if row is not None:  # too late: it moved (durable before anyone hears of it)
                await self.group.durable()
                return json_response(200, self._movement(row))
            self.group.write("INSERT OR IGNORE INTO voided (key, kind, voided_at) VALUES (?, ?, ?)",
                             (key, kind, time.time()))  # voiding again keeps the first time
            await self.group.durable()  # the fence holds across kill -9 once acknowledged
            return json_response(200, {"key": key, "kind": kind, "status": "voided", "provider": self.name})

        return void

    async def ledger(self, request: Request) -> Response:
        await self.group.durable()
        rows = self.db.execute("SELECT key, kind, amount, reference, created_at FROM movements ORDER BY seq").fetchall()
        movements = [self._movement(row) for row in rows]
        totals = {"disbursed": sum(m["amount"] for m in movements if m["kind"] == "disbursement"),
                  "collected": sum(m["amount"] for m in movements if m["kind"] == "collection")}
        return json_response(200, {"provider": self.name, "movements": movements, "totals": totals})


def main() -> None:
    parser = base_parser("payment-gateway", "Mock payment gateway: idempotent disbursements and collections.")
    parser.add_argument("--name", default="primary", help="provider name (primary, backup)")
    args = parser.parse_args()
    logger = setup_logging(f"payment-gateway-{args.name}", args.log_level)
    try:
        db = open_database(args.db, SCHEMA)
        sock = bind(args.host, args.port)
    except ConfigError as exc:
        fail(f"payment-gateway-{args.name}", str(exc))
    gateway = Gateway(args.name, db)
    event(logger, "starting", db=args.db)

    async def stop() -> None:
        db.close()

    run_service(f"payment-gateway-{args.name}", args.host, sock, gateway.app, stop=stop)


if __name__ == "__main__":
    main()
