"""Borrower sessions: an ordinary Locust user plays a sequence of borrowers
(so no id applies often enough to trip the cross-borrowing freeze), while
CrossBorrowerUser keeps one id and applies fast under its own request names."""

from __future__ import annotations

from collections import defaultdict

from harness.load.lending_endpoints import APPLY, QUOTA

from .scripted_server import ScriptedServer
from .test_borrower import LENDING_CLASSES, FakeLending


class RecordingLending(FakeLending):
    """FakeLending that also remembers which user ids each request id came with."""

    def __init__(self) -> None:
        super().__init__()
        self.users_of_request: dict[str, set[str]] = defaultdict(set)

    def _answer(self, method: str, path: str, data: dict):
        if path == "/v1/loans" and method == "POST":
            self.users_of_request[data["request_id"]].add(data["user_id"])
        return super()._answer(method, path, data)


def _run(load_run, **extra):
    fake = RecordingLending()
    with ScriptedServer(fake) as srv:
        run = load_run(hosts=[srv.url], locustfile="builtin:borrower", users=2, run_time_s=3, request_timeout_s=5,
                       pacing={"mode": "poisson", "interval_s": 0.05},
                       classification={"field": "code", "classes": LENDING_CLASSES},
                       retryable_codes=["DEFERRED"], **extra).start()
        assert run.wait(timeout=25) == 0, run.log_text()
    return fake, run


def test_a_user_moves_on_to_other_borrowers_and_retries_keep_their_id(load_run):
    fake, _ = _run(load_run, borrower={"population": 100000, "session_tasks": 3})
    # ~2 users x ~50 tasks, a new id every 3 tasks: far more borrowers than users
    assert len(fake.users) > 10
    # a deferred application retried after the session moved on still carries its first id
    assert fake.deferred and all(len(users) == 1 for users in fake.users_of_request.values())


def test_session_tasks_zero_keeps_one_borrower_per_user(load_run):
    fake, _ = _run(load_run, borrower={"population": 100000, "session_tasks": 0})
    assert 1 <= len(fake.users) <= 2


def test_cross_borrowers_keep_one_id_and_their_own_request_names(load_run):
    fake, run = _run(load_run, user_classes=["CrossBorrowerUser"])
    series, _ = run.series()
    assert series.window(0, 1e12, f"{APPLY} (cross-borrowing)").n > 0
    assert series.window(0, 1e12, APPLY).n == 0
    assert series.window(0, 1e12, f"{QUOTA} (cross-borrowing)").n > 0
    assert len(fake.users) == 2 and all(u.startswith("cross-borrower-") for u in fake.users)
