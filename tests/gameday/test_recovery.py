"""The measured recovery of a game day: against the error rate before the incident."""

from __future__ import annotations


from harness.events import EventBus
from harness.gameday.live import LiveModel
from harness.gameday.recovery import RecoveryWatch


def _second(t: int, degraded: int, n: int = 10) -> dict:
    hist = {"n": n, "sum_us": 1000 * n, "max_us": 1000, "b": {}}
    return {"v": 1, "worker": "local", "second": t, "endpoints": {"GET /x": {
        "n": n, "classes": {"success": n - degraded, "degraded": degraded, "rejected": 0, "ungraceful": 0},
        "codes": {}, "retry_after_missing": 0, "hist": hist}}}


def test_a_fault_applied_while_recovering_keeps_the_pre_incident_baseline() -> None:
    """A fault added before the recovery was seen re-measured the baseline over the last 30 s,
    i.e. over the incident itself: 'recovered' then accepted a third of all answers degraded."""
    now = [0.0]
    model = LiveModel("lending", clock=lambda: now[0])
    model.t0 = 0.0
    logged: list[tuple] = []
    events = EventBus(lambda event: logged.append((event.kind, event.message)))
    book = RecoveryWatch(model, events, faults_on=lambda: False)

    for t in range(0, 30):
        now[0] = t
        model.ingest([_second(t, 0)])
    now[0] = 30.5
    book.fault_applied()  # first fault: nothing degraded before it
    assert book.recovery_threshold() == 0.01
    for t in range(30, 40):
        model.ingest([_second(t, 5)])  # the incident: half the answers degraded
    now[0] = 40.5
    book.faults_cleared()
    assert model.recovery and model.recovery["state"] == "recovering"
    now[0] = 41.5
    book.fault_applied()  # a second fault before the recovery was seen: the same incident
    assert book.recovery_threshold() == 0.01
    for t in range(40, 45):
        model.ingest([_second(t, 5)])
    now[0] = 45.5
    book.faults_cleared()
    for t in range(45, 52):
        model.ingest([_second(t, 1)])  # 10 % degraded: still worse than before the incident
    now[0] = 52.5
    book.check_recovery()
    assert not [a for a in logged if a[0] == "recovered"], logged
    for t in range(52, 56):
        model.ingest([_second(t, 0)])
    now[0] = 56.5
    book.check_recovery()
    assert [a for a in logged if a[0] == "recovered"], logged
