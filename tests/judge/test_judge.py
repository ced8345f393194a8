"""Judging every expectation kind on crafted per-second series (journal format)."""

from __future__ import annotations

import pytest
from series_builder import merge, record, series, steady

from harness.judge import ExpectationResult, check_abort, judge
from harness.scenario.model import Scenario

EP = "GET /x"


def scenario(*phases: dict, abort_if: dict | None = None) -> Scenario:
    data = {"title": "t", "plan": "p", "stack": "lending", "load": {"users": 1, "spawn_rate": 1},
            "phases": list(phases)}
    if abort_if:
        data["abort_if"] = abort_if
    return Scenario.model_validate(data)


def only(results: list[ExpectationResult], name: str, phase: str | None = None, endpoint: str | None = None):
    hits = [r for r in results if r.name == name and (phase is None or r.phase == phase) and r.endpoint == endpoint]
    assert len(hits) == 1, results
    return hits[0]


BASE = {"name": "baseline", "duration": 10}


def two_phase(expect: dict, data: dict, faults: list | None = None, settle: float = 1.0):
    sc = scenario(BASE, {"name": "outage", "duration": 10, "faults": faults or [], "expect": expect})
    return judge(sc, {"baseline": (0, 10), "outage": (10, 20)}, series(data), settle=settle)


# ------------------------------------------------------------------ error rate and settling


def test_error_rate_fails_with_the_margin_and_passes_below():
    data = merge(steady(0, 10), steady(10, 20, degraded=12, ungraceful=0))
    r = only(two_phase({"error_rate": "< 0.5%"}, data), "error_rate")
    assert not r.passed and r.measured == pytest.approx(0.12)
    assert r.display == "12%" and r.threshold == "< 0.5%"
    assert r.why == "error_rate 12% is over < 0.5% by 11.5 points"
    ok = only(two_phase({"error_rate": "< 15%"}, data), "error_rate")
    assert ok.passed and ok.why == ""


def test_first_second_after_phase_start_and_fault_changes_is_settled():
    # Second 10 (phase start) and second 14 (a fault starts at offset 4s) are bad; the rest clean.
    data = merge(steady(0, 20), {10: {EP: record(degraded=100)}, 14: {EP: record(degraded=100)}})
    faults = [{"link": "a->b", "toxic": "down", "start": 4}]
    assert only(two_phase({"error_rate": "< 1%"}, data, faults), "error_rate").passed
    unsettled = only(two_phase({"error_rate": "< 1%"}, data, faults, settle=0), "error_rate")
    assert not unsettled.passed and unsettled.measured == pytest.approx(0.2)


def test_event_counts_and_max_latency_see_the_whole_phase():
    # One ungraceful answer and one 3 s request in the settle second still count.
    data = merge(steady(0, 20), {10: {EP: record(n=2, ungraceful=1, latency_ms=[3000, 10])}})
    results = two_phase({"ungraceful": "== 0", "max_latency": "< 2s"}, data)
    ung = only(results, "ungraceful")
    assert not ung.passed and ung.measured == 1 and ung.why.startswith("ungraceful 1 of")
    lat = only(results, "max_latency")
    assert not lat.passed and lat.measured == pytest.approx(3000, rel=0.01)
    assert "over < 2s by 1000.0 ms" in lat.why


def test_ungraceful_as_a_share():
    data = merge(steady(0, 10), steady(10, 20, ungraceful=2))
    r = only(two_phase({"ungraceful": "< 1%"}, data), "ungraceful")
    assert not r.passed and r.measured == pytest.approx(0.02)


# ------------------------------------------------------------------ latency


def test_percentiles_from_the_histogram():
    # per second: 90 requests at 10 ms, 10 at 500 ms -> p50 10 ms, p95 500 ms
    lat = [10.0] * 90 + [500.0] * 10
    data = merge(steady(0, 10), steady(10, 20, latency_ms=lat))
    results = two_phase({"p50_ms": "< 20", "p95_ms": "< 300ms", "p99_ms": "< 1s"}, data)
    assert only(results, "p50_ms").passed
    assert only(results, "p50_ms").measured == pytest.approx(10, rel=0.01)
    p95 = only(results, "p95_ms")
    assert not p95.passed and p95.measured == pytest.approx(500, rel=0.01)
    assert only(results, "p99_ms").passed


# ------------------------------------------------------------------ throughput and goodput


def test_throughput_relative_to_the_baseline():
    data = merge(steady(0, 10, n=100), steady(10, 20, n=40))
    r = only(two_phase({"throughput": "> 0.5x"}, data), "throughput")
    assert not r.passed and r.measured == pytest.approx(0.4)
    assert r.display == "0.40x baseline (40.0 vs 100.0 req/s)"
    assert "under > 0.5x by 0.10x" in r.why


def test_throughput_counts_silent_seconds_as_zero():
    data = merge(steady(0, 10, n=100), steady(10, 15, n=100))  # the load stalls for 5 s
    r = only(two_phase({"throughput": ">= 80rps"}, data), "throughput")
    assert not r.passed and r.measured == pytest.approx(400 / 9)  # 9 judged seconds after settling


def test_goodput_counts_only_successes():
    data = merge(steady(0, 10, n=100), steady(10, 20, n=100, degraded=60))
    results = two_phase({"goodput": "> 0.5x", "throughput": "> 0.9x"}, data)
    assert not only(results, "goodput").passed and only(results, "goodput").measured == pytest.approx(0.4)
    assert only(results, "throughput").passed


# ------------------------------------------------------------------ codes and classes


def test_codes_as_count_and_share_and_classes():
    data = merge(steady(0, 10, codes={"APPROVED": 100}),
                 steady(10, 20, degraded=10, rejected=5, codes={"APPROVED_DEGRADED": 10, "RISK_REJECTED": 5}))
    results = two_phase({"codes": {"APPROVED_DEGRADED": "> 0", "RISK_REJECTED": "< 1%", "APPROVED": "> 0"},
                         "classes": {"rejected": "== 0", "degraded": ">= 10%"}}, data)
    assert only(results, "codes.APPROVED_DEGRADED").passed
    share = only(results, "codes.RISK_REJECTED")
    assert not share.passed and share.measured == pytest.approx(0.05)
    missing = only(results, "codes.APPROVED")
    assert not missing.passed and missing.measured == 0 and "is not > 0" in missing.why
    assert not only(results, "classes.rejected").passed
    assert only(results, "classes.degraded").passed


# ------------------------------------------------------------------ retry_after


def test_retry_after_required_counts_degraded_answers_without_it():
    data = merge(steady(0, 10), steady(10, 20, degraded=10), {15: {EP: record(degraded=10, retry_after_missing=3)}})
    r = only(two_phase({"retry_after": "required"}, data), "retry_after")
    assert not r.passed and r.measured == 3
    assert r.display == "3 of 100 degraded answer(s) without Retry-After"
    ok = only(two_phase({"retry_after": "required"}, merge(steady(0, 10), steady(10, 20, degraded=10))), "retry_after")
    assert ok.passed


def test_retry_after_with_no_degraded_answers_says_it_was_not_exercised():
    """Nothing to check is not '0 of 0': a reader must see the requirement was never put to the test."""
    r = only(two_phase({"retry_after": "required"}, merge(steady(0, 10), steady(10, 20, ungraceful=10))), "retry_after")
    assert r.passed and r.measured == 0
    assert r.display == "not exercised: no degraded answers to check"


# ------------------------------------------------------------------ endpoints and empty windows


def test_per_endpoint_expectations_use_that_endpoint_only():
    rep = "POST /v1/loans/{id}/repayments"
    data = merge(steady(0, 20), steady(10, 20, endpoint=rep, n=10, ungraceful=1))
    results = two_phase({"endpoints": {rep: {"error_rate": "< 0.5%"}}, "error_rate": "< 5%"}, data)
    ep = only(results, "error_rate", endpoint=rep)
    assert not ep.passed and ep.measured == pytest.approx(0.1)
    assert only(results, "error_rate").passed  # 10 of 1100 overall


def test_an_endpoint_never_seen_fails_with_a_suggestion():
    data = merge(steady(0, 20, endpoint="POST /v1/loans"))
    r = only(two_phase({"endpoints": {"POST /v1/loan": {"error_rate": "< 1%"}}}, data), "error_rate",
             endpoint="POST /v1/loan")
    assert not r.passed
    assert "never appears in the metrics (did you mean 'POST /v1/loans'?)" in r.why


def test_a_phase_without_requests_fails_instead_of_passing_vacuously():
    data = steady(0, 10)
    results = two_phase({"error_rate": "< 1%", "ungraceful": "== 0"}, data)
    assert only(results, "error_rate").why == "error_rate: no requests in seconds 11-19"  # settled
    assert only(results, "ungraceful").why == "ungraceful: no requests in seconds 10-19"  # whole phase
    assert all(not r.passed and r.display == "no requests" for r in results)


def test_phases_missing_from_timing_are_not_judged():
    sc = scenario({**BASE, "expect": {"error_rate": "< 1%"}}, {"name": "outage", "duration": 10,
                                                                "expect": {"error_rate": "< 1%"}})
    results = judge(sc, [{"name": "baseline", "start": 0, "end": 10}], series(steady(0, 10)))
    assert [r.phase for r in results] == ["baseline"]


def test_results_have_the_journal_shape():
    data = merge(steady(0, 20))
    r = only(two_phase({"error_rate": "< 1%"}, data), "error_rate")
    assert r.to_dict() == {"phase": "outage", "endpoint": None, "name": "error_rate", "threshold": "< 1%",
                           "measured": 0.0, "display": "0%", "passed": True, "why": "",
                           "window": [[11, 20]]}  # second 10 settles after the phase starts


def test_results_name_the_seconds_they_judged():
    """A statistical expectation skips the settling seconds, an event one sees the whole phase;
    the report needs the seconds to say why its number differs from the whole-phase table."""
    data = merge(steady(0, 20))
    results = two_phase({"error_rate": "< 1%", "ungraceful": "== 0", "retry_after": "required"}, data,
                        faults=[{"link": "a->b", "toxic": "down", "start": 4, "end": 6}])
    assert only(results, "error_rate").window == [[11, 14], [15, 16], [17, 20]]
    assert only(results, "ungraceful").window == [[10, 20]]
    assert only(results, "retry_after").window == [[10, 20]]


# ------------------------------------------------------------------ recovers_within


def recovery_case(bad_until: int, limit: str = "5s", fault_end: float | None = None):
    """Baseline 0-10 (1% errors, 20 ms), outage 10-20 (all degraded), recovery 20-35 bad until `bad_until`."""
    sc = scenario({"name": "baseline", "duration": 10},
                  {"name": "outage", "duration": 10,
                   "faults": [{"link": "a->b", "toxic": "down", **({"end": fault_end} if fault_end else {})}]},
                  {"name": "recovery", "duration": 15, "expect": {"recovers_within": limit}})
    data = merge(steady(0, 10, degraded=1, latency_ms=20), steady(10, bad_until, degraded=100, latency_ms=900),
                 steady(bad_until, 35, degraded=1, latency_ms=25))
    results = judge(sc, {"baseline": (0, 10), "outage": (10, 20), "recovery": (20, 35)}, series(data))
    return only(results, "recovers_within")


def test_recovers_within_measures_from_the_end_of_the_faults():
    r = recovery_case(bad_until=23)
    assert r.passed and r.measured == 3.0 and r.threshold == "<= 5s"
    assert r.display.startswith("3.0s (second 23, faults ended at 20s)")


def test_recovers_within_fails_when_late_by_how_much():
    r = recovery_case(bad_until=28)
    assert not r.passed and r.measured == 8.0
    assert "only after 8.0s, over <= 5s by 3.0s" in r.why
    assert "error rate <= 2%, p99 <= 70.0 ms" in r.why  # max(2x1%, 1%+1pt), max(2x20ms, 20+50ms)


def test_recovers_within_fails_when_never_back():
    r = recovery_case(bad_until=34)  # only one good second at the end: no 3-second streak
    assert not r.passed and r.measured is None and r.display == "not recovered"
    assert "by the end of the phase, 15s after the faults ended" in r.why


def test_recovers_within_counts_from_a_fault_that_ended_early():
    # The fault ends 4 s into the outage phase (t=14): the system is fine from t=16.
    r = recovery_case(bad_until=16, fault_end=4)
    assert r.passed and r.measured == 2.0


def test_a_latency_spike_alone_delays_recovery():
    sc = scenario(BASE, {"name": "outage", "duration": 5, "faults": [{"service": "x", "action": "pause"}]},
                  {"name": "recovery", "duration": 10, "expect": {"recovers_within": "2s"}})
    data = merge(steady(0, 10, latency_ms=20), steady(10, 15, n=0), steady(15, 19, latency_ms=200),
                 steady(19, 25, latency_ms=21))
    r = only(judge(sc, {"baseline": (0, 10), "outage": (10, 15), "recovery": (15, 25)}, series(data)),
             "recovers_within")
    assert not r.passed and r.measured == 4.0


# ------------------------------------------------------------------ abort_if


def test_abort_when_the_condition_holds_for_its_whole_duration():
    cond = scenario(BASE, abort_if={"error_rate": "> 80% for 5s"}).abort_if
    data = merge(steady(0, 10), steady(10, 15, degraded=90))
    assert check_abort(cond, series(data), 13) is None  # only 4 bad seconds so far
    reason = check_abort(cond, series(data), 14)
    assert reason == "error_rate > 80% for 5s (measured 90% in seconds 10-14)"


def test_no_abort_when_a_second_in_the_span_is_fine_or_empty():
    cond = scenario(BASE, abort_if={"error_rate": "> 80% for 3s"}).abort_if
    data = merge(steady(0, 10, degraded=95), {8: {EP: record(degraded=10)}})
    assert check_abort(cond, series(data), 9) is None
    empty = series(merge(steady(0, 3, degraded=95), steady(4, 6, degraded=95)))  # second 3 has no data
    assert check_abort(cond, empty, 5) is None


def test_abort_on_throughput_collapse_counts_empty_seconds():
    cond = scenario(BASE, abort_if={"throughput": "< 5rps for 2s", "p99_ms": "> 1s for 2s"}).abort_if
    data = steady(0, 5)  # nothing after second 4
    assert check_abort(cond, series(data), 6) == "throughput < 5rps for 2s (measured 0.0 req/s in seconds 5-6)"
    slow = series(merge(steady(0, 5), steady(5, 7, latency_ms=1500)))
    assert check_abort(cond, slow, 6).startswith("p99_ms > 1s for 2s (measured 1500")


def test_no_abort_conditions_means_none():
    assert check_abort(None, series(steady(0, 3)), 2) is None


# ------------------------------------------------------------------ per entry instance


def test_instance_expectations_judge_only_that_instances_requests():
    from harness.metrics.series import Series

    healthy, canary = record(n=50), record(n=50, ungraceful=15, codes={"http_500": 15})
    data = Series.from_json([{"t": t, "endpoints": {EP: record(n=100, ungraceful=15 if t >= 10 else 0)},
                              "instances": {"lending": record(n=50), "lending#1": canary if t >= 10 else healthy}}
                             for t in range(20)])
    sc = scenario(BASE, {"name": "canary", "duration": 10, "expect": {
        "ungraceful": "< 30%",
        "instances": {"lending": {"ungraceful": "== 0"}, "lending#1": {"ungraceful": "< 5%"},
                      "lending#7": {"error_rate": "< 1%"}}}})
    results = judge(sc, {"baseline": (0, 10), "canary": (10, 20)}, data)
    assert only(results, "ungraceful").passed
    assert only(results, "ungraceful", endpoint="instance lending").passed
    canary_r = only(results, "ungraceful", endpoint="instance lending#1")
    assert not canary_r.passed and canary_r.measured == pytest.approx(0.3)
    unknown = only(results, "error_rate", endpoint="instance lending#7")
    assert not unknown.passed and "instance lending#7 never appears" in unknown.why
    assert "known: instance lending, instance lending#1" in unknown.why


def test_an_unknown_endpoint_lists_endpoints_only_beside_instance_scopes():
    from harness.metrics.series import Series

    data = Series.from_json([{"t": t, "endpoints": {EP: record(n=50)}, "instances": {"lending": record(n=50)}}
                             for t in range(20)])
    sc = scenario(BASE, {"name": "outage", "duration": 10, "expect": {
        "endpoints": {"POST /v1/loan": {"error_rate": "< 1%"}}, "instances": {"lending": {"ungraceful": "== 0"}}}})
    r = only(judge(sc, {"baseline": (0, 10), "outage": (10, 20)}, data), "error_rate", endpoint="POST /v1/loan")
    assert not r.passed and r.why.endswith(f"known: {EP}")  # 'instance lending' is no endpoint
