"""Failed shares a few answers decided: `decided by N answers`, on hand-made journals."""

from __future__ import annotations

import pytest
from series_builder import merge, record, series, steady

from harness.judge import judge
from harness.judge.margin import answers_beyond, decided_by, one_answer_crosses
from harness.run.verdict import decide
from harness.scenario.model import Scenario
from harness.schema.thresholds import Threshold

EP = "GET /x"


def scenario(*phases: dict) -> Scenario:
    return Scenario.model_validate({"title": "t", "plan": "p", "stack": "lending",
                                    "load": {"users": 1, "spawn_rate": 1}, "phases": list(phases)})


def journal(phases: list[tuple[str, int, int]], data: dict) -> dict:
    return {"status": "completed", "exit_code": 0, "reason": "", "events": [], "invariants": [],
            "leftovers": {"checked": True, "toxics": []},
            "phases": [{"name": n, "start": a, "end": b} for n, a, b in phases],
            "metrics": series(data).to_json()}


# ------------------------------------------------------------------ the arithmetic


@pytest.mark.parametrize("threshold, count, n, beyond, limit", [
    ("< 1%", 1, 74, 1, 0),  # the flash-crowd baseline: one error of 74 is 1.35 %
    ("< 2%", 2, 92, 1, 1),  # and its after phase: 2 of 92 is 2.17 %, one allowed
    ("<= 2%", 3, 100, 1, 2),  # '<=' allows the bound itself
    ("< 2%", 3, 100, 2, 1),  # '<' does not
    ("< 1%", 30, 100, 30, 0),
    ("> 80%", 7, 10, 2, 9),  # lower bounds: answers missing
    (">= 80%", 7, 10, 1, 8),
])
def test_answers_beyond_a_bound(threshold, count, n, beyond, limit):
    got = answers_beyond(Threshold.parse(threshold), count, n)
    assert got is not None and (got.answers, got.limit) == (beyond, limit)


def test_a_pass_an_equality_or_a_count_is_never_beyond():
    assert answers_beyond(Threshold.parse("< 2%"), 1, 100) is None
    assert answers_beyond(Threshold.parse("== 0%"), 1, 100) is None
    assert answers_beyond(Threshold.parse("< 2"), 5, 100) is None
    assert answers_beyond(Threshold.parse("< 2%"), 0, 0) is None


def test_one_answer_crosses_at_the_bounds_width():
    assert one_answer_crosses(Threshold.parse("< 1%"), 100)  # one error of 100 is 1 %: not < 1 %
    assert not one_answer_crosses(Threshold.parse("< 1%"), 101)
    assert not one_answer_crosses(Threshold.parse("<= 1%"), 100)
    assert one_answer_crosses(Threshold.parse("> 80%"), 5) and not one_answer_crosses(Threshold.parse("> 80%"), 6)
    assert one_answer_crosses(Threshold.parse("< 50%"), 0.5)  # less than one answer: nothing to decide on


def test_decided_by_names_the_answers_up_to_the_minimum():
    assert decided_by(Threshold.parse("< 1%"), 1, 74, "errors") == \
        "decided by 1 answer (errors: 1 of 74; < 1% allows 0)"
    assert decided_by(Threshold.parse("> 80%"), 7, 10, "MAINTENANCE") == \
        "decided by 2 answers (MAINTENANCE: 7 of 10; > 80% needs 9)"
    assert decided_by(Threshold.parse("< 1%"), 3, 74, "errors") == ""  # 3 answers: the minimum, decided


# ------------------------------------------------------------------ in the verdict


def test_a_failed_share_decided_by_one_answer_says_so_in_its_why_and_the_verdict_line():
    # the gate's flash-crowd baseline: 3 s, settled from second 1: one OVERLOADED answer of 74
    sc = scenario({"name": "baseline", "duration": 3, "expect": {"error_rate": "< 1%"}})
    data = merge(steady(0, 3, n=37), {1: {EP: record(n=37, degraded=1, codes={"OVERLOADED": 1})}})
    j = decide(journal([("baseline", 0, 3)], data), sc)
    (result,) = j["expectations"]
    assert not result["passed"]
    assert result["why"] == ("error_rate 1.35% is over < 1% by 0.351 points, "
                             "decided by 1 answer (errors: 1 of 74; < 1% allows 0)")
    assert j["reason"] == (f"1 expectation(s) failed, worst: baseline: {result['why']}; baseline was not steady "
                           "before any fault was on: later phases are judged against an unsteady start")


def test_codes_and_classes_and_endpoint_shares_say_it_too_and_a_clear_failure_does_not():
    sc = scenario({"name": "p", "duration": 3, "expect": {
        "codes": {"OVERLOADED": "< 2%"}, "classes": {"degraded": "< 2%"}, "ungraceful": "< 1%",
        "endpoints": {EP: {"codes": {"MAINTENANCE": "> 80%"}}}}})
    data = merge(steady(0, 3, n=50), {
        1: {EP: record(n=50, degraded=2, ungraceful=10, codes={"OVERLOADED": 2, "MAINTENANCE": 40})},
        2: {EP: record(n=50, codes={"MAINTENANCE": 39})}})
    by_name = {r.name: r for r in judge(sc, {"p": (0, 3)}, series(data))}
    assert by_name["codes.OVERLOADED"].why.endswith("decided by 1 answer (OVERLOADED: 2 of 100; < 2% allows 1)")
    assert by_name["classes.degraded"].why.endswith("decided by 1 answer (degraded: 2 of 100; < 2% allows 1)")
    assert by_name["codes.MAINTENANCE"].why.endswith("decided by 2 answers (MAINTENANCE: 79 of 100; > 80% needs 81)")
    assert "decided by" not in by_name["ungraceful"].why  # 10 of 100 over < 1%: no doubt
