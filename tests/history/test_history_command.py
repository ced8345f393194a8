"""`chaosdrill history`: each drill's runs as a compact table, and one line (exit 2) for what it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.history.extract import record_of
from harness.history.store import append
from harness.judge.score import drill_score

JOURNALS = Path(__file__).resolve().parents[1] / "fixtures" / "journals"


def _journal(name: str, run_id: str, started: str, commit_passed: bool | None = None) -> dict:
    j = json.loads((JOURNALS / f"{name}.json").read_text())
    j.update(run_id=run_id, started_at=started)
    if commit_passed is not None:  # the same drill passing, then failing
        for e in j["expectations"]:
            e["passed"] = commit_passed or e["name"] != "ungraceful"
        j["status"] = "passed" if commit_passed else "failed"
    j["score"] = drill_score(j)
    return j


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "history.sqlite"
    append(path, record_of(_journal("fail", "pg-1", "2026-11-20T09:00:00Z", True), "a1b2c3d4e5f6"))
    append(path, record_of(_journal("fail", "pg-2", "2026-11-21T09:00:00Z"), "0f9e8d7c6b5a"))
    append(path, record_of(_journal("pass", "cb-1", "2026-11-21T10:00:00Z")))
    j = _journal("abort", "ov-1", "2026-11-22T10:00:00Z")
    j["stack"] = {"service_args": {"lending": ["--no-shedding"]}}
    append(path, record_of(j))
    return path


def history(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["history", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_drill_has_a_table_of_its_runs(store, capsys):
    code, out, err = history(capsys, "--history", str(store))
    assert (code, err) == (0, "")
    blocks = out.strip().split("\n\n")
    assert [b.split(":")[0] for b in blocks] == ["credit-bureau-outage", "overload", "payment-gateway-outage"]
    pg = blocks[2].splitlines()
    assert pg[0] == "payment-gateway-outage: Primary payment gateway outage — 2 run(s)"
    assert pg[1].split() == ["when", "(UTC)", "verdict", "score", "commit", "fault", "phases", "worst", "failure"]
    first, second = pg[2], pg[3]
    assert first.startswith("  2026-11-20 09:00  PASSED ") and " a1b2c3d4 " in first
    # the fault phases' error rate and p99 (whole phases), and the worst failure: an invariant before expectations
    assert "errors 13% (22 ungraceful), p99 2.96 s" in second
    assert second.endswith("invariant no_double_disbursement violated")
    assert pg[4].startswith("  score ") and "over 2 run(s)" in pg[4]
    overload = blocks[1].splitlines()
    assert "ABORTED" in overload[2] and "[stack changed: lending --no-shedding]" in overload[2]


def test_one_drill_and_its_last_runs(store, capsys):
    code, out, _ = history(capsys, "--history", str(store), "--drill", "payment-gateway-outage", "--last", "1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "payment-gateway-outage: Primary payment gateway outage — 2 run(s), the last 1"
    assert len(lines) == 3 and lines[2].startswith("  2026-11-21 09:00  FAILED")


def test_the_worst_failed_expectation_says_what_was_measured_against_what(tmp_path, capsys):
    path = tmp_path / "history.sqlite"
    j = _journal("fail", "pg-1", "2026-11-20T09:00:00Z")
    j["invariants"] = []
    append(path, record_of(j))
    code, out, _ = history(capsys, "--history", str(path))
    # ungraceful (severity 3) before max_latency (latency, 1) and retry_after (ungraceful, later)
    assert out.splitlines()[2].endswith("gateway-down: ungraceful 22, expected == 0 (+2 more)")


def test_an_unknown_drill_is_one_line_with_a_suggestion(store, capsys):
    code, out, err = history(capsys, "--history", str(store), "--drill", "payment-gateway-outge")
    assert (code, out) == (2, "")
    assert err == (f"chaosdrill: error: unknown drill 'payment-gateway-outge' (did you mean 'payment-gateway-outage'?); "
                   f"known in {store}: credit-bureau-outage, overload, payment-gateway-outage\n")


def test_no_history_file_is_one_line(tmp_path, capsys):
    code, out, err = history(capsys, "--history", str(tmp_path / "none.sqlite"))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and f"{tmp_path / 'none.sqlite'}: no history file there" in err


def test_a_file_that_is_not_a_history_is_one_line(tmp_path, capsys):
    notes = tmp_path / "notes.sqlite"
    notes.write_text("not a database\n" * 100)
    code, _, err = history(capsys, "--history", str(notes))
    assert code == 2 and err == f"chaosdrill: error: {notes}: cannot read it: not a SQLite file (file is not a database)\n"
    import sqlite3

    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    code, _, err = history(capsys, "--history", str(other))
    assert code == 2 and err == f"chaosdrill: error: {other}: not a chaosdrill history (no schema_version table)\n"


def test_last_must_be_a_positive_count(store, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["history", "--history", str(store), "--last", "0"])
    assert exit_.value.code == 2
    assert "--last: '0': a whole number of runs, 1 or more" in capsys.readouterr().err
