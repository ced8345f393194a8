"""Judging what an action's answer says (status, contains, json), from journal events."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from harness.judge.answers import answer_checks, judge_answers
from harness.run.verdict import decide
from harness.scenario.model import Scenario

STATUS = {"at": "1s", "service": "lending", "method": "GET", "path": "/v1/status",
          "expect": {"status": 200, "contains": "upgrade",
                     "json": {"maintenance.state": "scheduled", "maintenance.message": "database upgrade"}}}


def scenario(*actions: dict) -> Scenario:
    return Scenario.model_validate({
        "title": "t", "plan": "p", "stack": "lending", "load": {"users": 1, "spawn_rate": 1},
        "phases": [{"name": "notice", "duration": "2s", "actions": list(actions)}]})


def answer(body: object, status: int = 200, instance: str = "lending-0", index: int = 0) -> dict:
    text = body if isinstance(body, str) else json.dumps(body)
    return {"type": "action" if status < 400 else "action_failed", "t": 1.0, "message": "",
            "data": {"phase": "notice", "action": index, "instance": instance, "status": status, "body": text}}


NOTICE = {"code": "OK", "maintenance": {"state": "scheduled", "message": "database upgrade"}}


def test_every_instance_announcing_the_window_passes() -> None:
    events = [answer(NOTICE), answer(NOTICE, instance="lending-1")]
    [result] = judge_answers(scenario(STATUS), events, {"notice"})
    assert result.passed and result.endpoint == "GET /v1/status" and result.name == "answer"
    assert result.display == "2 of 2 answer(s) as expected"


def test_one_instance_without_the_notice_fails_naming_it_and_the_field() -> None:
    silent = {"code": "OK", "maintenance": None}
    [result] = judge_answers(scenario(STATUS), [answer(NOTICE), answer(silent, instance="lending-1")], {"notice"})
    assert not result.passed and result.measured == 1
    assert "lending-1: the answer does not contain 'upgrade'" in result.why
    assert "lending-1: maintenance.state is missing" in result.why
    assert "lending-0" not in result.why


@pytest.mark.parametrize("events,why", [
    ([answer(NOTICE, status=503)], "HTTP 503, expected 200"),
    ([answer("<html>upgrade</html>")], "not JSON"),
    ([answer({**NOTICE, "maintenance": {"state": "active", "message": "database upgrade"}})],
     'maintenance.state is "active", expected "scheduled"'),
    ([{"type": "action_failed", "t": 1.0, "message": "",
       "data": {"phase": "notice", "action": 0, "instance": "lending-0", "error": "ClientConnectorError()"}}],
     "lending-0: no answer (ClientConnectorError())"),
    ([], "no answer was recorded"),
])
def test_a_wrong_or_missing_answer_fails_saying_what_is_wrong(events: list, why: str) -> None:
    [result] = judge_answers(scenario(STATUS), events, {"notice"})
    assert not result.passed and why in result.why


def test_actions_without_expect_are_not_judged_and_repeats_are_numbered() -> None:
    post = {"service": "lending", "path": "/v1/admin/maintenance", "json": {"starts_in": 2}}
    checks = list(answer_checks(scenario(post, STATUS, {**STATUS, "at": "1.5s"})))
    assert [(c.index, c.endpoint, c.name) for c in checks] == [
        (1, "GET /v1/status", "answer"), (2, "GET /v1/status", "answer#2")]


def test_an_action_the_abort_never_reached_is_not_judged_and_a_phase_that_never_ran_neither() -> None:
    assert judge_answers(scenario(STATUS), [], {"notice"}, cut_short=True) == []
    assert judge_answers(scenario(STATUS), [answer(NOTICE)], set()) == []


def test_list_indexes_in_json_paths() -> None:
    s = scenario({**STATUS, "expect": {"json": {"items.1.id": "b"}}})
    [ok] = judge_answers(s, [answer({"items": [{"id": "a"}, {"id": "b"}]})], {"notice"})
    [missing] = judge_answers(s, [answer({"items": [{"id": "a"}]})], {"notice"})
    assert ok.passed and not missing.passed and "items.1.id is missing" in missing.why


def test_an_empty_expect_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least one of status, contains, json"):
        scenario({**STATUS, "expect": {}})


def test_the_verdict_fails_a_drill_whose_answer_is_wrong() -> None:
    s = scenario(STATUS)
    journal = {"status": "completed", "phases": [{"name": "notice", "start": 0, "end": 2}],
               "metrics": [{"t": 0}, {"t": 1}], "events": [answer({"maintenance": None})]}
    decide(journal, s)
    assert journal["status"] == "failed" and journal["exit_code"] == 1
    assert "notice GET /v1/status" in journal["reason"]
