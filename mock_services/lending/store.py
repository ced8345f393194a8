"""lending's durable state: loans, repayments, settings (maintenance).

One SQLite file in WAL mode, shared by every lending instance of a stack (a
gray release runs two). Calls are synchronous on the event loop: with
synchronous=NORMAL a commit is a WAL append without fsync, cheaper than
handing it to a thread.

Writes go through a group commit (mock_services.group_commit): a handler
`await store.durable()` before it answers or pays.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any

from mock_services.group_commit import GroupCommit

SCHEMA = """
CREATE TABLE IF NOT EXISTS loans (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    outstanding INTEGER NOT NULL,
    state TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    degraded INTEGER NOT NULL DEFAULT 0,
    gateway TEXT,
    keys TEXT NOT NULL DEFAULT '[]',
    instance TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    acked_at REAL
);
CREATE INDEX IF NOT EXISTS loans_user ON loans (user_id, created_at);
CREATE INDEX IF NOT EXISTS loans_state ON loans (state);
CREATE TABLE IF NOT EXISTS repayments (
    loan_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    state TEXT NOT NULL,
    code TEXT NOT NULL,
    gateway TEXT,
    keys TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    acked_at REAL,
    PRIMARY KEY (loan_id, request_id)
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# loan states
PENDING_PAYMENT = "PENDING_PAYMENT"  # decided, row written, money not yet known to have moved
DISBURSED = "DISBURSED"
PENDING_RECONCILIATION = "PENDING_RECONCILIATION"
PAYMENT_FAILED = "PAYMENT_FAILED"  # no gateway took it; a retry of the request tries again
REJECTED = "REJECTED"
REPAID = "REPAID"
# repayment states
COLLECTED = "COLLECTED"
PENDING_COLLECTION = "PENDING_COLLECTION"

LOAN_COLUMNS = ("id, request_id, user_id, amount, outstanding, state, code, message, reasons, degraded, "
                "gateway, keys, instance, created_at, updated_at, acked_at")


@dataclass
class Loan:
    id: str
    request_id: str
    user_id: str
    amount: int
    outstanding: int
    state: str
    code: str
    message: str
    reasons: list[str]
    degraded: bool
    gateway: str | None
    keys: list[str]
    instance: str
    created_at: float
    updated_at: float
    acked_at: float | None

    @classmethod
    def from_row(cls, row: tuple) -> "Loan":
        values = list(row)
        values[8] = json.loads(values[8])
        values[9] = bool(values[9])
        values[11] = json.loads(values[11])
        return cls(*values)

    def public(self) -> dict[str, Any]:
        return {"loan_id": self.id, "request_id": self.request_id, "user_id": self.user_id,
                "amount": self.amount, "outstanding": self.outstanding, "state": self.state,
                "reasons": self.reasons, "degraded": self.degraded, "gateway": self.gateway}

    def audit(self) -> dict[str, Any]:
        return {**self.public(), "id": self.id, "code": self.code, "idempotency_keys": self.keys,
                "instance": self.instance, "created_at": self.created_at, "updated_at": self.updated_at,
                "acknowledged": self.acked_at is not None, "acknowledged_at": self.acked_at}


class Store:
    def __init__(self, db: sqlite3.Connection, instance: str) -> None:
        self.db = db
        self.instance = instance
        self.group = GroupCommit(db)
        self._write = self.group.write
        self.durable = self.group.durable

    def loan(self, loan_id: str) -> Loan | None:
        row = self.db.execute(f"SELECT {LOAN_COLUMNS} FROM loans WHERE id=?", (loan_id,)).fetchone()
        return Loan.from_row(row) if row else None

    def loan_by_request(self, request_id: str) -> Loan | None:
        row = self.db.execute(f"SELECT {LOAN_COLUMNS} FROM loans WHERE request_id=?", (request_id,)).fetchone()
        return Loan.from_row(row) if row else None

    def user_exposure(self, user_id: str, since: float) -> tuple[int, int]:
        """(loans taken since `since`, outstanding balance) for risk and quota."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(created_at >= ? AND state != 'REJECTED'), 0), "
            "COALESCE(SUM(CASE WHEN state IN ('DISBURSED', 'PENDING_PAYMENT', 'PENDING_RECONCILIATION') "
            "THEN outstanding ELSE 0 END), 0) FROM loans WHERE user_id=?", (since, user_id)).fetchone()
        return int(row[0]), int(row[1])

    def create_loan(self, request_id: str, user_id: str, amount: int, state: str, code: str, message: str,
                    reasons: list[str], degraded: bool, acked: bool) -> Loan | None:
        """Insert a decided loan; None when the request id is already taken (a concurrent duplicate)."""
        now = time.time()
        loan = Loan(f"L{uuid.uuid4().hex[:20]}", request_id, user_id, amount,
                    amount if state != REJECTED else 0, state, code, message, reasons, degraded, None, [],
                    self.instance, now, now, now if acked else None)
        try:
            self._write(f"INSERT INTO loans ({LOAN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                            (loan.id, request_id, user_id, amount, loan.outstanding, state, code, message,
                             json.dumps(reasons), int(degraded), None, "[]", self.instance, now, now, loan.acked_at))
        except sqlite3.IntegrityError:
            return None
        return loan

    def update_loan(self, loan: Loan, **changes: Any) -> None:
        """Write changed fields of a loan in one transaction (acked: set acked_at now)."""
        if changes.pop("acked", False) and loan.acked_at is None:
            changes["acked_at"] = time.time()
        changes["updated_at"] = time.time()
        for name, value in changes.items():
            setattr(loan, name, value)
        encoded = {k: (json.dumps(v) if k in ("keys", "reasons") else int(v) if k == "degraded" else v)
                   for k, v in changes.items()}
        assignments = ", ".join(f"{name}=?" for name in encoded)
        self._write(f"UPDATE loans SET {assignments} WHERE id=?", (*encoded.values(), loan.id))

    def claim_loan_keys(self, loan: Loan, labels: list[str]) -> tuple[bool, list[str]]:
        won, keys = self._claim_keys("loans", "id=?", (loan.id,), labels)
        loan.keys = keys
        return won, keys

    def unresolved_loans(self, stale_before: float) -> list[Loan]:
        """Loans whose payment outcome must be found: pending reconciliation, or
        a PENDING_PAYMENT row left by a request that died (crash, deadline)."""
        rows = self.db.execute(
            f"SELECT {LOAN_COLUMNS} FROM loans WHERE state=? OR (state=? AND updated_at < ?)",
            (PENDING_RECONCILIATION, PENDING_PAYMENT, stale_before)).fetchall()
        return [Loan.from_row(row) for row in rows]

    def all_loans(self) -> list[Loan]:
        rows = self.db.execute(f"SELECT {LOAN_COLUMNS} FROM loans ORDER BY created_at").fetchall()
        return [Loan.from_row(row) for row in rows]

    # repayments

    def repayment(self, loan_id: str, request_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT loan_id, request_id, amount, state, code, gateway, keys, created_at, acked_at "
                              "FROM repayments WHERE loan_id=? AND request_id=?", (loan_id, request_id)).fetchone()
        return _repayment(row) if row else None

    def create_repayment(self, loan_id: str, request_id: str, amount: int) -> bool:
        now = time.time()
        try:
            self._write("INSERT INTO repayments (loan_id, request_id, amount, state, code, keys, created_at, updated_at) "
                            "VALUES (?, ?, ?, ?, ?, '[]', ?, ?)",
                            (loan_id, request_id, amount, PENDING_COLLECTION, PENDING_RECONCILIATION, now, now))
        except sqlite3.IntegrityError:
            return False
        return True

    def claim_repayment_keys(self, loan_id: str, request_id: str, labels: list[str]) -> tuple[bool, list[str]]:
        return self._claim_keys("repayments", "loan_id=? AND request_id=?", (loan_id, request_id), labels)

    def _claim_keys(self, table: str, where: str, args: tuple, labels: list[str]) -> tuple[bool, list[str]]:
        """Add payment keys to a row only if nobody has changed its keys since they were read: (won, keys now).

        Lending instances share this database: two of them may finish with the
        same key at the same moment (a retried request and reconciliation) and
        both want its next generation. The UPDATE compares under SQLite's write
        lock, so exactly one of them starts the generation as never sent.
        """
        row = self.db.execute(f"SELECT keys FROM {table} WHERE {where}", args).fetchone()
        if row is None:
            return False, []
        current = json.loads(row[0])
        if set(labels) <= set(current):
            return False, current  # claimed already
        wanted = json.dumps(sorted(set(current) | set(labels)))
        won = self._write(f"UPDATE {table} SET keys=? WHERE {where} AND keys=?", (wanted, *args, row[0])).rowcount == 1
        if won:
            return True, json.loads(wanted)
        again = self.db.execute(f"SELECT keys FROM {table} WHERE {where}", args).fetchone()
        return False, json.loads(again[0]) if again else current

    def finish_repayment(self, loan: Loan, request_id: str, amount: int, state: str, code: str,
                         gateway: str | None, keys: list[str]) -> None:
        """Record a repayment outcome; a collected one lowers the loan's balance in the same transaction."""
        now = time.time()
        existing = self.repayment(loan.id, request_id)
        keys = sorted(set(existing["idempotency_keys"] if existing else []) | set(keys))  # every key ever sent
        # both in the same group transaction: repayment row and loan balance move together.
        # A collected repayment is final: a second resolution of it (the reconciler and a
        # retried request both finding it paid, or another lending instance) changes
        # nothing, so the balance is lowered exactly once.
        changed = self._write("UPDATE repayments SET state=?, code=?, gateway=?, keys=?, updated_at=?, acked_at=? "
                              "WHERE loan_id=? AND request_id=? AND state != ?",
                              (state, code, gateway, json.dumps(keys), now, now, loan.id, request_id, COLLECTED)).rowcount
        if state == COLLECTED and changed:
            self._write("UPDATE loans SET outstanding = outstanding - ?, "
                        "state = CASE WHEN outstanding - ? <= 0 THEN 'REPAID' ELSE state END, updated_at=? "
                        "WHERE id=?", (amount, amount, now, loan.id))
        if state == COLLECTED and changed:
            loan.outstanding -= amount
            if loan.outstanding <= 0:
                loan.state = REPAID

    def pending_repayments(self, stale_before: float) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT loan_id, request_id, amount, state, code, gateway, keys, created_at, acked_at "
                               "FROM repayments WHERE state=? AND updated_at < ?",
                               (PENDING_COLLECTION, stale_before)).fetchall()
        return [_repayment(row) for row in rows]

    def repayments_by_loan(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for row in self.db.execute("SELECT loan_id, request_id, amount, state, code, gateway, keys, created_at, acked_at "
                                   "FROM repayments ORDER BY created_at"):
            out.setdefault(row[0], []).append(_repayment(row))
        return out

    # settings

    def setting(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def set_setting(self, name: str, value: str | None) -> None:
        if value is None:
            self._write("DELETE FROM settings WHERE name=?", (name,))
        else:
            self._write("INSERT INTO settings (name, value) VALUES (?, ?) "
                            "ON CONFLICT(name) DO UPDATE SET value=excluded.value", (name, value))


def _repayment(row: tuple) -> dict[str, Any]:
    loan_id, request_id, amount, state, code, gateway, keys, created_at, acked_at = row
    return {"loan_id": loan_id, "request_id": request_id, "amount": amount, "state": state, "code": code,
            "gateway": gateway, "idempotency_keys": json.loads(keys), "created_at": created_at,
            "acknowledged": acked_at is not None, "acknowledged_at": acked_at}
