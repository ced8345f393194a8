"""The `errors` count: degraded and ungraceful answers of a phase, an endpoint or an instance."""

from __future__ import annotations

import pytest
from series_builder import merge, record, series, steady

from harness.judge import judge
from harness.metrics.series import Series
from harness.scenario.model import Scenario

EP = "GET /x"


def scenario(*phases: dict) -> Scenario:
    return Scenario.model_validate({"title": "t", "plan": "p", "stack": "lending",
                                    "load": {"users": 1, "spawn_rate": 1}, "phases": list(phases)})



def test_errors_counts_degraded_and_ungraceful_answers_of_the_whole_phase():
    sc = scenario({"name": "p", "duration": 4, "expect": {"errors": "<= 2", "endpoints": {EP: {"errors": "== 0"}}}})
    # second 0 is a settle second: a count sees it; rejections are no errors
    data = merge(steady(0, 4), {0: {EP: record(degraded=1, ungraceful=1, rejected=5)},
                                3: {"GET /y": record(degraded=1)}})
    by_scope = {(r.endpoint, r.name): r for r in judge(sc, {"p": (0, 4)}, series(data))}
    total, endpoint = by_scope[(None, "errors")], by_scope[(EP, "errors")]
    assert not total.passed and total.measured == 3 and total.window == [[0, 4]]
    assert total.display == "3 of 500" and total.why == "errors 3 of 500 is over <= 2 by 1"
    assert not endpoint.passed and endpoint.measured == 2 and endpoint.why.startswith("errors 2 of 400")


def test_errors_and_code_counts_per_instance():
    sc = scenario({"name": "p", "duration": 2, "expect": {"instances": {
        "lending": {"errors": "== 0", "codes": {"OVERLOADED": "<= 3"}},
        "lending#1": {"errors": "== 0", "codes": {"OVERLOADED": "<= 3"}}}}})
    ok, bad = record(n=10), record(n=10, degraded=4, codes={"OVERLOADED": 4})
    metrics = Series.from_json([{"t": t, "endpoints": {EP: record(n=20)},
                                 "instances": {"lending": ok, "lending#1": bad}} for t in (0, 1)])
    by_scope = {(r.endpoint, r.name): r for r in judge(sc, {"p": (0, 2)}, metrics)}
    assert by_scope[("instance lending", "errors")].passed
    assert by_scope[("instance lending", "codes.OVERLOADED")].passed
    assert by_scope[("instance lending#1", "errors")].measured == 8
    overloaded = by_scope[("instance lending#1", "codes.OVERLOADED")]
    assert not overloaded.passed and overloaded.why == "codes.OVERLOADED 8 of 20 is over <= 3 by 5"


def test_errors_is_a_count_and_its_share_is_error_rate():
    with pytest.raises(ValueError, match="a share of errors is error_rate"):
        scenario({"name": "p", "duration": 2, "expect": {"errors": "< 1%"}})
