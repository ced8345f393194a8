"""The built-in borrower against a fake lending API that defers some
applications (with Retry-After) and acknowledges the rest: every loan the
service acknowledged must be in the acknowledgements file, exactly."""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import Counter

import pytest

from harness.load.lending_endpoints import APPLY, QUOTA, REPAY, STATUS

from .scripted_server import ScriptedServer

LENDING_CLASSES = {"success": ["QUOTA_OK", "APPROVED", "LOAN_FOUND", "REPAID"],
                   "degraded": ["DEFERRED", "PENDING_RECONCILIATION"], "rejected": ["NOT_FOUND"]}


class FakeLending:
    """Defers every 4th new application (Retry-After: 1) once; answers every
    7th PENDING_RECONCILIATION (without Retry-After); approves the rest."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.loans: dict[str, dict] = {}
        self.by_request: dict[str, str] = {}
        self.deferred: set[str] = set()
        self.acked: dict[str, tuple[str, str]] = {}
        self.applications: Counter[str] = Counter()
        self.users: set[str] = set()
        self.endpoints: Counter[str] = Counter()

    def __call__(self, method: str, path: str, body: bytes):
        with self.lock:
            return self._answer(method, path, json.loads(body) if body else {})

    @staticmethod
    def _json(status: int, payload: dict, headers: dict | None = None):
        return status, json.dumps(payload, separators=(",", ":")).encode(), headers or {}

    def _answer(self, method: str, path: str, data: dict):
        if m := re.fullmatch(r"/v1/users/([^/]+)/quota", path):
            self.endpoints[QUOTA] += 1
            self.users.add(m.group(1))
            return self._json(200, {"code": "QUOTA_OK", "message": "ok", "available": 1000})
        if path == "/v1/loans" and method == "POST":
            self.endpoints[APPLY] += 1
            rid = data["request_id"]
            self.users.add(data["user_id"])
            self.applications[rid] += 1
            n = len(self.applications)
            if rid not in self.by_request:
                if n % 4 == 0 and rid not in self.deferred:
                    self.deferred.add(rid)
                    return self._json(503, {"code": "DEFERRED", "message": "later"}, {"Retry-After": "1"})
                loan_id = f"L{next(self.ids)}"
                pending = n % 7 == 0
                self.loans[loan_id] = {"outstanding": data["amount"],
                                       "state": "PENDING_RECONCILIATION" if pending else "DISBURSED"}
                self.by_request[rid] = loan_id
                self.acked[rid] = (loan_id, "PENDING_RECONCILIATION" if pending else "APPROVED")
            loan_id = self.by_request[rid]
            code = self.acked[rid][1]
            return self._json(202 if code == "PENDING_RECONCILIATION" else 201, {"code": code, "loan_id": loan_id})
        if m := re.fullmatch(r"/v1/loans/([^/]+)", path):
            self.endpoints[STATUS] += 1
            loan = self.loans[m.group(1)]
            return self._json(200, {"code": "LOAN_FOUND", "loan_id": m.group(1), **loan})
        if m := re.fullmatch(r"/v1/loans/([^/]+)/repayments", path):
            self.endpoints[REPAY] += 1
            loan = self.loans[m.group(1)]
            assert 0 < data["amount"] <= loan["outstanding"] and loan["state"] == "DISBURSED"
            loan["outstanding"] -= data["amount"]
            return self._json(200, {"code": "REPAID", "outstanding": loan["outstanding"]})
        return self._json(404, {"code": "NOT_FOUND"})


@pytest.fixture
def lending():
    fake = FakeLending()
    with ScriptedServer(fake) as srv:
        yield fake, srv


def test_borrower_acknowledgements_and_endpoints_match_the_service(lending, load_run):
    fake, srv = lending
    run = load_run(hosts=[srv.url], locustfile="builtin:borrower", users=8, run_time_s=4, request_timeout_s=5,
                   pacing={"mode": "poisson", "interval_s": 0.1},
                   borrower={"population": 5, "weights": {"quota": 1, "apply": 3, "status": 2, "repay": 2}},
                   classification={"field": "code", "classes": LENDING_CLASSES},
                   retryable_codes=["DEFERRED", "PENDING_RECONCILIATION"]).start()
    assert run.wait(timeout=25) == 0, run.log_text()
    series, _ = run.series()
    for name in (QUOTA, APPLY, STATUS, REPAY):
        assert series.window(0, 1e12, name).n == fake.endpoints[name] > 0, name
    total = series.window(0, 1e12)
    assert total.ungraceful == 0
    # the fake sends no Retry-After with PENDING_RECONCILIATION: each one is counted
    assert total.retry_after_missing == total.codes["PENDING_RECONCILIATION"] > 0
    assert series.window(0, 1e12, APPLY).codes.get("DEFERRED", 0) == len(fake.deferred) > 0
    acks = run.acks()
    assert sorted((a["request_id"], a["loan_id"], a["code"]) for a in acks) == \
        sorted((rid, loan, code) for rid, (loan, code) in fake.acked.items())
    # deferred applications came back with the same request id once Retry-After had passed
    retried = {rid for rid, n in fake.applications.items() if n > 1}
    assert retried and retried <= fake.deferred and retried <= set(fake.acked)
    assert len(fake.users) <= 5  # ids drawn from the population: borrowers return
