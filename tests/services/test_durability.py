"""kill -9 of lending and the primary gateway in the middle of a burst of loans.

After both come back: every loan acknowledged to a client is in the
database, disbursed, and paid exactly once; no money moved for a loan the
database does not know.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter

import requests

from .conftest import Api, code_of, ledger


def test_sigkill_mid_burst_loses_no_acknowledged_loan_and_pays_none_twice(make_stack) -> None:
    stack = make_stack(["--deadline", "1s", "--dependency-timeout", "300ms"])
    lending, primary = stack.lending(), stack.gateway("primary")
    url = lending.url
    acknowledged: dict[str, str] = {}  # request id -> loan id, for every APPROVED answer
    errors = Counter()
    stop = threading.Event()
    lock = threading.Lock()

    def borrower(worker: int) -> None:
        session = requests.Session()
        n = 0
        while not stop.is_set():
            n += 1
            request_id = f"w{worker}-{n}"
            try:
                answer = session.post(url + "/v1/loans", timeout=3,
                                      json={"request_id": request_id, "user_id": f"user-{worker}-{n}", "amount": 100})
            except requests.RequestException as exc:
                errors[type(exc).__name__] += 1
                time.sleep(0.01)
                continue
            if code_of(answer) in {"APPROVED", "PENDING_RECONCILIATION"}:
                with lock:
                    acknowledged[request_id] = answer.json()["loan_id"]

    workers = [threading.Thread(target=borrower, args=(i,)) for i in range(6)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(1.0)
        lending.signal(signal.SIGKILL)
        primary.signal(signal.SIGKILL)
        lending.kill()
        primary.kill()
        acked_before_kill = len(acknowledged)
        primary.start()  # same port, same database
        lending.start()
        time.sleep(0.5)
    finally:
        stop.set()
        for worker in workers:
            worker.join(10)
    assert acked_before_kill > 20 and errors, (acked_before_kill, errors)

    api = Api(url)
    for _ in range(10):
        if api.call("POST", "/v1/admin/reconcile").json()["still_pending"] == 0:
            break
        time.sleep(0.3)
    loans = {entry["loan_id"]: entry for entry in api.call("GET", "/v1/audit").json()["loans"]}
    movements = [m for m in ledger(primary.url) + ledger(stack.gateway("backup").url) if m["kind"] == "disbursement"]
    paid = Counter(m["reference"] for m in movements)

    missing = [loan_id for loan_id in acknowledged.values() if loan_id not in loans]
    assert not missing, f"acknowledged loans lost: {missing[:5]}"
    assert all(loans[loan_id]["state"] == "DISBURSED" for loan_id in acknowledged.values())
    assert not [ref for ref, n in paid.items() if n > 1], "a loan was paid twice"
    assert set(paid) <= set(loans), "money moved for a loan the database does not know"
    disbursed = {loan_id for loan_id, entry in loans.items() if entry["state"] == "DISBURSED"}
    assert disbursed == set(paid)
    assert not [e for e in loans.values() if e["state"] in {"PENDING_PAYMENT", "PENDING_RECONCILIATION"}]
