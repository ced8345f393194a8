"""The starter drill and its load: something that runs at once and says, in comments, what to edit.

A drill needs load (`load.locustfile`: without one the load has nothing to
send), so the import writes a minimal locustfile too: GET / on the entry.
The drill cuts each link in turn between a baseline and a recovery; when the
entry answers HTTP it expects no ungraceful answer in those two phases, and
leaves the fault phases' expectations to the team, who know what their users
should see.
"""

from __future__ import annotations

import json

from harness.stack.compose.assemble import SUCCESS_CODE

PHASE = "20s"
SMOKE_PHASE = "3s"


def _q(text: str) -> str:
    """A YAML scalar in double quotes (JSON's escapes are YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def drill_text(name: str, drill_file: str, stack_file: str, locustfile: str, entry: str, http: tuple[bool, str],
               links: list[tuple[str, str, str, int | None]]) -> str:
    """`links`: (link name, from, to, port when not TO's own) for each link of the stack, in its order."""
    answers_http, how = http
    expect = '    expect: {ungraceful: "== 0"}   # every answer below HTTP 400\n' if answers_http else ""
    lines = [
        f"# A starter drill for stack {name}, written by `chaosdrill stack import`. Edit it before relying on it:",
        "#   - load: users and spawn_rate to the traffic your system sees;",
        f"#   - the load is the stack's locustfile, {locustfile}: one GET / on {entry} per user twice a second,",
        "#     an answer below HTTP 400 counted a success. Replace its task with what your users do (docs/load.md);",
        "#   - each \"... down\" phase cuts one link; write under it what users should see then (docs/expectations.md).",
        (f"# {entry} answers HTTP ({how}): the baseline and the recovery expect no ungraceful answer."
         if answers_http else
         f"# {entry} may not answer HTTP ({how}): the starter load (GET /) would fail; write a locustfile that"
         "\n# speaks its protocol, then add expectations (ungraceful: \"== 0\" in baseline and recovery)."),
        f"# Run: chaosdrill run {drill_file} --backend docker   (--profile smoke: {SMOKE_PHASE} phases, to see it run)",
        f"title: {_q(f'{name}: each dependency down in turn')}",
        "plan: >-",
        f"  Replace with what {entry} should do while each dependency is cut off (answer from a cache,",
        "  degrade, refuse clearly), and how fast it should recover once the dependency is back.",
        f"stack: {_q(stack_file)}",
        "load:",
        "  users: 5        # concurrent users",
        "  spawn_rate: 5   # users started per second",
        f"  # locustfile: the stack's ({locustfile}); name another one here",
        "phases:",
        "  - name: baseline",
        f"    duration: {PHASE}",
    ]
    text = "\n".join(lines) + "\n" + expect
    phases = ["baseline"]
    for link, source, target, port in links:
        reach = f"{target} on port {port}" if port else target
        phase = f"{link} down"
        phases.append(phase)
        text += (f"  - name: {_q(phase)}\n"
                 f"    duration: {PHASE}\n"
                 f"    faults:\n"
                 f"      - {{link: {_q(link)}, toxic: down}}\n"
                 f"    # expect: what users see while {source} cannot reach {reach}, e.g. {{error_rate: \"< 5%\"}}\n")
    if not links:
        text += "  # no links: the compose file names no dependency between its services\n"
    phases.append("recovery")
    text += f"  - name: recovery\n    duration: {PHASE}\n" + expect
    durations = ", ".join(f"{_q(p)}: {SMOKE_PHASE}" for p in phases)
    text += (f"profiles:\n"
             f"  smoke:   # --profile smoke: short phases, to see that the drill runs\n"
             f"    phase_durations: {{{durations}}}\n")
    return text


LOCUSTFILE = '''"""Starter load for stack {name}, written by `chaosdrill stack import`: GET / on {entry}, the entry.

Replace it with the requests your users make (docs/load.md). chaosdrill counts
an answer by the code in its JSON body (the stack's classification), and an
answer without one is ungraceful; so that an app answering plain HTTP can be
drilled at once, this starter gives each answer a code from its HTTP status:
below 400 is "{ok}" (a success in the stack's classification); anything else
has none and counts as ungraceful (reported as http_<status>), as do refused,
reset and timed-out requests.
"""

from __future__ import annotations

import time

import requests
from locust import User, constant_pacing, task

TIMEOUT_S = 5.0  # the client deadline: a scenario's load.request_timeout (5 s unless it says)


class Answer:
    """What chaosdrill reads of an answer: its status, its headers and a body holding its code."""

    def __init__(self, response: requests.Response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.content = b'{{"code":"{ok}"}}' if response.status_code < 400 else b""


class EntryUser(User):
    wait_time = constant_pacing(0.5)  # each user asks twice a second

    def on_start(self) -> None:
        self.session = requests.Session()

    @task
    def home(self) -> None:
        self.get("/")

    def get(self, path: str) -> None:
        url = self.host + path
        started = time.perf_counter()
        answer, error, size = None, None, 0
        try:
            response = self.session.get(url, timeout=TIMEOUT_S)
            answer, size = Answer(response), len(response.content)
        except requests.RequestException as exc:
            error = exc
        self.environment.events.request.fire(
            request_type="GET", name=f"GET {{path}}", response_time=(time.perf_counter() - started) * 1000,
            response_length=size, response=answer, exception=error, context={{}}, url=url)
'''


def locustfile_text(name: str, entry: str) -> str:
    return LOCUSTFILE.format(name=name, entry=entry, ok=SUCCESS_CODE)
