"""Judge the answers to a phase's actions that carry `expect` (status, contains, json).

Load metrics say how many requests failed; an action's answer says what users
were told, e.g. that /v1/status announced the maintenance window before it
began. Inputs are the scenario and the journal's `action`/`action_failed`
events, so the verdict can be recomputed from a saved journal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

from harness.judge.results import ExpectationResult

_MISSING = object()


@dataclass(frozen=True)
class AnswerCheck:
    phase: str
    index: int  # position among the phase's actions, as the journal events name it
    endpoint: str  # "GET /v1/status", where the result is shown
    name: str  # "answer", "answer#2" when the phase checks the same call twice
    expect: Any  # the scenario's AnswerExpect


def answer_checks(scenario: Any) -> Iterator[AnswerCheck]:
    """Every action with `expect`, named as its result will be (the pytest plugin names items by it)."""
    for phase in scenario.phases:
        seen: dict[str, int] = {}
        for index, action in enumerate(phase.actions or []):
            if action.expect is None:
                continue
            endpoint = f"{action.method.upper()} {action.path}"
            seen[endpoint] = seen.get(endpoint, 0) + 1
            name = "answer" if seen[endpoint] == 1 else f"answer#{seen[endpoint]}"
            yield AnswerCheck(phase.name, index, endpoint, name, action.expect)


def lookup(document: Any, path: str) -> Any:
    """`a.b.0.c` in parsed JSON; _MISSING when any step is absent."""
    node = document
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def problems(expect: Any, status: int | None, body: str) -> list[str]:
    """What is wrong with one answer (empty: it is as expected)."""
    out = []
    if expect.status is not None and status != expect.status:
        out.append(f"HTTP {status}, expected {expect.status}")
    if expect.contains is not None and expect.contains not in body:
        out.append(f"the answer does not contain {expect.contains!r}")
    if expect.json_:
        try:
            document = json.loads(body)
        except ValueError:
            return out + ["the answer is not JSON (or was cut at the journal's limit)"]
        for path, wanted in expect.json_.items():
            got = lookup(document, path)
            if got is _MISSING:
                out.append(f"{path} is missing")
            elif got != wanted:
                out.append(f"{path} is {json.dumps(got)}, expected {json.dumps(wanted)}")
    return out


def threshold_text(expect: Any) -> str:
    parts = []
    if expect.status is not None:
        parts.append(f"HTTP {expect.status}")
    if expect.contains is not None:
        parts.append(f"contains {expect.contains!r}")
    for path, wanted in (expect.json_ or {}).items():
        parts.append(f"{path} == {json.dumps(wanted)}")
    return ", ".join(parts)


def judge_answers(scenario: Any, events: list[dict[str, Any]], phases_run: set[str],
                  cut_short: bool = False) -> list[ExpectationResult]:
    """One result per checked action of a phase that ran; every instance's answer must pass.
    `cut_short` (an aborted run): an action that never ran is not judged."""
    answers: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for ev in events:
        data = ev.get("data") or {}
        if ev.get("type") in ("action", "action_failed") and "action" in data:
            answers.setdefault((data.get("phase"), data["action"]), []).append(data)
    results = []
    for check in answer_checks(scenario):
        if check.phase not in phases_run:
            continue
        got = answers.get((check.phase, check.index), [])
        if not got and cut_short:
            continue
        wrong = []
        good = 0
        for answer in got:
            where = answer.get("instance")
            found = ([f"no answer ({answer['error']})"] if "error" in answer
                     else problems(check.expect, answer.get("status"), answer.get("body") or ""))
            wrong += [f"{where}: {p}" for p in found]
            good += not found
        if not got:
            wrong.append("no answer was recorded (the action did not run)")
        results.append(ExpectationResult(
            phase=check.phase, endpoint=check.endpoint, name=check.name, threshold=threshold_text(check.expect),
            measured=float(good), display=f"{good} of {len(got)} answer(s) as expected",
            passed=not wrong, why="; ".join(wrong)))
    return results
