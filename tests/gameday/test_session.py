"""A game day without a terminal: hypotheses judged on their window, scenario phases run on cue."""

from __future__ import annotations

import asyncio
import textwrap
import time

import pytest

from harness.errors import UsageError
from harness.gameday.session import GameDay, GamedayOptions
from harness.run.progress import Progress


async def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def _events(gd: GameDay, kind: str) -> list[str]:
    return [m for _, k, m in gd.model.events if k == kind]


def test_hypothesis_and_cued_phases_are_judged_and_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAOSDRILL_STATE_DIR", str(tmp_path / "state"))
    drill = tmp_path / "drill.yaml"
    drill.write_text(textwrap.dedent("""\
        title: Slow bureau, on cue
        plan: a slow bureau replica slows nothing that matters
        stack: lending
        load: {users: 4, spawn_rate: 4}
        phases:
          - name: steady
            duration: 3s
            expect: {ungraceful: "== 0"}
          - name: slow-bureau
            duration: 4s
            faults:
              - {link: lending->credit-bureau-a, toxic: latency, attributes: {latency: 150ms}, start: 1s}
            expect: {ungraceful: "== 0", error_rate: "> 200%"}
        """))
    opts = GamedayOptions(stack="lending", users=4, spawn_rate=4, report_dir=tmp_path / "reports", web_port=None,
                          progress=Progress(quiet=True))

    async def scenario() -> tuple[GameDay, dict]:
        gd = GameDay(opts)
        try:
            await gd.start()
            await _wait(lambda: gd.model.current().n > 0, 20, "the load's first requests")
            with pytest.raises(UsageError, match="hypothesis end"):
                gd.submit("hypothesis start calm expect error_rate<50% ungraceful==0")
                gd.submit("hypothesis start again expect error_rate<1%")
                await asyncio.sleep(0.2)
                gd.hypotheses.start("again", {"error_rate": "< 1%"})
            gd.submit(f"run {drill}")  # the hypothesis stays open across both cued phases
            await _wait(lambda: len(_events(gd, "phase_ended")) == 2, 20, "both cued phases")
            gd.submit("hypothesis end")
            await _wait(lambda: len(_events(gd, "hypothesis_judged")) == 3, 15, "three verdicts")
            gd.submit("note done")
            await asyncio.sleep(0.2)
        finally:
            data = await gd.close()
        return gd, data

    gd, data = asyncio.run(scenario())
    judged = _events(gd, "hypothesis_judged")
    assert any(j.startswith("hypothesis calm held") for j in judged)
    assert any(j.startswith("steady held") for j in judged)
    assert any(j.startswith("slow-bureau did NOT hold") and "error_rate" in j for j in judged)

    names = [p["name"] for p in data["phases"]]
    assert names[0] == "baseline" and "steady" in names and "slow-bureau" in names and "hypothesis calm" in names
    phases = {p["name"]: p for p in data["phases"]}
    assert phases["slow-bureau"]["start"] >= phases["steady"]["end"] - 0.5
    (fault,) = data["faults"]
    assert fault["phase"] == "slow-bureau" and fault["kind"] == "latency"
    assert fault["attributes"] == {"latency": 150}
    assert fault["applied_at"] == pytest.approx(phases["slow-bureau"]["start"] + 1, abs=0.5)
    assert fault["removed_at"] == pytest.approx(phases["slow-bureau"]["end"], abs=0.5)

    # The written record judges the same windows: the impossible expectation fails the game day.
    by_phase = {(e["phase"], e["name"]): e["passed"] for e in data["expectations"]}
    assert by_phase[("hypothesis calm", "error_rate")] and by_phase[("steady", "ungraceful")]
    assert not by_phase[("slow-bureau", "error_rate")]
    assert data["status"] == "failed" and data["exit_code"] == 1
    assert (gd.run_dir / "report.html").exists()
    assert not list((tmp_path / "state").glob("*.json")), "the run's state file is left behind"


def test_no_console_reads_a_script_from_stdin_and_prints_events(tmp_path):
    import json
    import os
    import subprocess
    import sys

    script = "\n".join([
        "# a scripted game day",
        "down credit-bureau-a",
        "wait 3s",
        "note scripted outage seen",
        "finding cached reports kept quotas flowing",
        "action alert when the bureau breaker opens @sam",
        "action write the bureau runbook",
        "action @kim",  # no text: refused, one line
        "clear all",
        "wait 1s",
        "clear g9",  # no such fault: its error comes in the same instant as the quit
        "quit",
    ]) + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "gameday", "--no-console", "--users", "3", "--web-port", "-1",
         "--report-dir", str(tmp_path / "reports")],
        input=script, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
        env={**os.environ, "CHAOSDRILL_STATE_DIR": str(tmp_path / "state")},
    )  # one stream: event lines (stdout) and progress lines (stderr) in the order they were written
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "fault_applied    g1: down on lending->credit-bureau-a" in proc.stdout
    assert "note             scripted outage seen" in proc.stdout
    # What happens at and after `quit` is printed too, once (it was only in the journal).
    assert proc.stdout.count("command_failed   clear g9:") == 1, proc.stdout[-2000:]
    assert proc.stdout.count("gameday_ended    game day ended by quit") == 1, proc.stdout[-2000:]
    # in the order it happened: the quit, then the wind-down it starts
    assert proc.stdout.index("command          quit") < proc.stdout.index("removing every fault"), proc.stdout[-2000:]
    (run_dir,) = (tmp_path / "reports").glob("*-gameday")
    journal = json.loads((run_dir / "journal.json").read_text())
    (fault,) = journal["faults"]
    assert 2.5 <= fault["removed_at"] - fault["applied_at"] <= 6
    # The record keeps the script's order: the note, findings and action items, then the `clear all` typed after.
    said = [(e["type"], e["message"], e["data"].get("owner")) for e in journal["events"]
            if e["type"] in ("note", "finding", "action_item", "command")]
    typed = [("note", "scripted outage seen", None), ("finding", "cached reports kept quotas flowing", None),
             ("action_item", "alert when the bureau breaker opens", "sam"),
             ("action_item", "write the bureau runbook", None), ("command", "clear all", None)]
    assert [x for x in said if x in typed] == typed, said
    assert "action_item      alert when the bureau breaker opens (owner: sam)" in proc.stdout
    assert "action_item      write the bureau runbook (owner: unassigned)" in proc.stdout
    assert "command_failed   action @kim: action: write the text before the owner" in proc.stdout
    assert not list((tmp_path / "state").glob("*.json"))
    # ... and the record's postmortem: report.html, summary.md and the one `report --postmortem` writes.
    from harness.cli import main

    assert main(["report", "--postmortem", str(run_dir / "journal.json")]) == 0
    html = (run_dir / "report.html").read_text()
    for text in ((run_dir / "summary.md").read_text(), (run_dir / "postmortem.md").read_text()):
        assert "1. cached reports kept quotas flowing" in text
        assert "| 1 | alert when the bureau breaker opens | sam |" in text
        assert "| 2 | write the bureau runbook | unassigned |" in text
        assert "| fault on | g1: down on lending->credit-bureau-a |" in text
        assert "| note | scripted outage seen |" in text
    section = html[html.index('<section id="postmortem">'):]
    section = section[:section.index("</section>")]
    assert "<li>cached reports kept quotas flowing" in section
    assert "<td>alert when the bureau breaker opens</td><td>sam</td>" in section
    assert '<td>write the bureau runbook</td><td><span class="muted">unassigned</span></td>' in section
    # The record is in the run history beside it, as drill "gameday" (docs/history.md).
    from harness.history.store import open_read, runs_of

    (run,) = runs_of(open_read(tmp_path / "reports" / "history.sqlite"), "gameday", 5)
    assert (run["kind"], run["run_id"], run["status"]) == ("gameday", journal["run_id"], journal["status"])
