"""A game day's postmortem: in report.html and summary.md, and as postmortem.md from `report --postmortem`.

Rendered from the hand-made game day journal (tests/fixtures/journals/gameday.json, written by
make_fixtures.py); drill journals must come out exactly as before, with no postmortem anywhere.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.report.postmortem import read_postmortem, render_postmortem

JOURNALS = Path(__file__).resolve().parents[1] / "fixtures" / "journals"


def test_the_postmortem_reads_the_debrief_out_of_the_journal(load):
    pm = read_postmortem(load("gameday"))
    assert pm is not None
    assert [(f.text, f.t) for f in pm.findings] == [
        ("cached credit reports kept returning borrowers approved", 36.0),
        ("deferrals took ~950 ms: the bureau timeout, not a fast fail", 37.5)]
    assert [(a.text, a.who) for a in pm.actions] == [("fail fast when the bureau breaker is open", "sam"),
                                                     ("page on degraded answers | not only on errors", "unassigned")]
    assert [(h.name, h.verdict) for h in pm.hypotheses] == [("hypothesis steady", "held"),
                                                            ("hypothesis bureau-outage", "did not hold")]
    assert pm.hypotheses[1].results[1] == ("max_latency < 500ms: 1.19 s, not met: DEFERRED answers waited for "
                                           "the bureau's timeout")
    whats = [(m.what, m.text) for m in pm.timeline]
    assert ("fault on", "g1: down on lending->credit-bureau-a") in whats
    assert ("fault off", "g2: down on lending->credit-bureau-b") in whats
    assert ("hypothesis ended", "hypothesis steady ended") in whats  # the console's "judging once ..." left out
    assert ("load", "load set to 60 users") in whats and whats[-1] == ("ended", "game day ended by quit")
    assert [w for w, _ in whats].count("note") == 2  # the operator's; the notes repeating a load change or the
    assert [w for w, _ in whats].count("recovered") == 1  # recovery are on the timeline once, as those events
    assert not any(w in ("command", "finding", "action_item") for w, _ in whats)
    assert [m.t for m in pm.timeline] == sorted(m.t for m in pm.timeline)


def test_postmortem_markdown_pastes_into_a_postmortem_document(load):
    text = render_postmortem(read_postmortem(load("gameday")))
    heads = [line for line in text.splitlines() if line.startswith("#")]
    assert heads == ["# Postmortem: Game day 20261123T100000Z-gameday", "## Timeline", "## Hypotheses",
                     "## Findings", "## Action items"]
    assert "- **Outcome:** ❌ FAILED: 1 expectation(s) failed, worst: hypothesis bureau-outage" in text
    assert "- **Hypotheses held:** 1/2 · **Invariants held:** 1/1 · **Faults injected:** 2" in text
    # UTC time of day (t0 09:30:00) beside the offset, in the same whole second
    assert "| 09:30:15 | 0:15 | fault on | g1: down on lending->credit-bureau-a |" in text
    assert "| hypothesis bureau-outage | 0:14–0:33 | ❌ did not hold | ungraceful == 0: 0; max_latency" in text
    assert "1. cached credit reports kept returning borrowers approved — at 09:30:36 (0:36)" in text
    assert "2. deferrals took ~950 ms: the bureau timeout, not a fast fail — at 09:30:38 (0:38)" in text
    assert "| 1 | fail fast when the bureau breaker is open | sam | 09:30:39 (0:39) |" in text
    assert "| 2 | page on degraded answers \\| not only on errors | unassigned | 09:30:41 (0:41) |" in text


def test_a_game_day_that_recorded_nothing_says_so(load):
    journal = load("gameday")
    journal["events"] = [e for e in journal["events"] if e["type"] not in ("finding", "action_item")]
    journal["phases"] = [p for p in journal["phases"] if not p.get("expect")]
    del journal["t0"]  # an older or hand-made journal: offsets only
    text = render_postmortem(read_postmortem(journal))
    for line in ("_No hypothesis was stated._", "_No findings were recorded._", "_No action items were recorded._",
                 "| 0:15 | fault on | g1: down on lending->credit-bureau-a |"):
        assert line in text


def test_report_html_and_summary_carry_the_postmortem_for_game_days_only(rendered, load):
    page = rendered["gameday"]["report"].read_text()
    assert page.index('id="verdict"') < page.index('id="postmortem"') < page.index('id="timeline"')
    section = page[page.index('<section id="postmortem">'):]
    section = section[:section.index("</section>")]
    assert "<li>cached credit reports kept returning borrowers approved" in section
    assert "<td>fail fast when the bureau breaker is open</td><td>sam</td>" in section
    assert ('<td>page on degraded answers | not only on errors</td><td><span class="muted">unassigned</span>'
            in section)
    assert '<span class="badge fail">did not hold</span>' in section
    assert "g1: down on lending-&gt;credit-bureau-a" in section  # escaped
    summary = rendered["gameday"]["summary"].read_text()
    assert summary.index("### Postmortem") < summary.index("#### Timeline") < summary.index("#### Action items") \
        < summary.index("### Expectations")
    assert "| 1 | fail fast when the bureau breaker is open | sam |" in summary
    for name in ("pass", "fail", "abort", "recorded-credit-bureau-outage"):
        assert read_postmortem(load(name)) is None
        assert 'id="postmortem"' not in rendered[name]["report"].read_text()
        assert "Postmortem" not in rendered[name]["summary"].read_text()


def test_report_postmortem_writes_one_markdown_file_next_to_the_journal(tmp_path, capsys):
    run = tmp_path / "20261123T100000Z-gameday"
    run.mkdir()
    shutil.copy(JOURNALS / "gameday.json", run / "journal.json")
    assert main(["report", "--postmortem", str(run)]) == 0
    assert capsys.readouterr().out == f"postmortem: {run / 'postmortem.md'}\n"
    assert sorted(p.name for p in run.iterdir()) == ["journal.json", "postmortem.md"]  # nothing else re-rendered
    assert (run / "postmortem.md").read_text().startswith("# Postmortem: Game day 20261123T100000Z-gameday\n")
    assert main(["report", "--postmortem", str(run / "journal.json"), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "postmortem.md").read_text() == (run / "postmortem.md").read_text()


@pytest.mark.parametrize("journals, extra, needle", [
    (["pass"], [], "pass.json: not a game day's journal"),
    (["gameday", "fail"], [], "fail.json: not a game day's journal"),  # nothing written for either
    (["gameday"], ["--junit", "j.xml"], "--junit: not with --postmortem"),
])
def test_report_postmortem_refuses_with_one_line(tmp_path, capsys, journals, extra, needle):
    files = [str(JOURNALS / f"{name}.json") for name in journals]
    assert main(["report", "--postmortem", *files, *extra, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
