"""Two lending instances on one database, and bad configuration at start."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from .conftest import Api, code_of


def test_two_instances_share_loans_and_maintenance(make_stack) -> None:
    stack = make_stack(instances=2)
    one, two = Api(stack.lending(0).url), Api(stack.lending(1).url)
    first = one.borrow("shared", "alice")
    replay = two.borrow("shared", "alice")
    assert code_of(replay) == "APPROVED" and replay.json()["loan_id"] == first.json()["loan_id"]
    assert code_of(two.borrow("other", "bob")) == "APPROVED"
    assert {e["instance"] for e in one.call("GET", "/v1/audit").json()["loans"]} == {"lending", "lending-2"}
    one.call("POST", "/v1/admin/maintenance", {"starts_in": 60, "duration": 10, "message": "later"})
    until = time.monotonic() + 2
    while two.call("GET", "/v1/status").json()["maintenance"] is None:
        assert time.monotonic() < until, "instance 2 never saw the window scheduled on instance 1"
        time.sleep(0.1)


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("module,args,expect", [
    ("mock_services.lending", ["--db", "x.db", "--bogus"], "unrecognized arguments: --bogus"),
    ("mock_services.credit_bureau", ["--db", "/nonexistent-dir/x.db"], "database /nonexistent-dir/x.db is not usable"),
    ("mock_services.credit_bureau", ["--db", "{tmp}/b.db", "--high-risk-share", "2"], "--high-risk-share must be within"),
    ("mock_services.lending", ["--db", "{tmp}/l.db", "--bureau-url", "http://127.0.0.1:9",
                               "--gateway-primary-url", "http://127.0.0.1:9", "--gateway-backup-url",
                               "http://127.0.0.1:9", "--upstream-wait", "200ms"], "upstream credit-bureau-a at http://127.0.0.1:9 is unreachable"),
    ("mock_services.lending", ["--db", "{tmp}/l.db", "--deadline", "soon"], "not a duration"),
    ("mock_services.credit_bureau", ["--db", "{tmp}/b.db", "--port", "70000"], "not a port: 70000"),
    ("mock_services.payment_gateway", ["--db", "{tmp}/g.db", "--port", "-1"], "not a port: -1"),
])
def test_bad_configuration_is_one_line_and_exit_2(tmp_path, module, args, expect) -> None:
    result = run(module, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]  # JSON logs aside
    assert result.returncode == 2 and len(lines) == 1 and expect in lines[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("module,variable,value,expect", [
    ("mock_services.credit_bureau", "CHAOSDRILL_PORT", "xyz", "CHAOSDRILL_PORT: not a port: 'xyz'"),
    ("mock_services.payment_gateway", "CHAOSDRILL_LOG_LEVEL", "loud", "CHAOSDRILL_LOG_LEVEL: not a log level: 'loud'"),
    ("mock_services.lending", "CHAOSDRILL_DEADLINE", "soon", "CHAOSDRILL_DEADLINE: not a duration: 'soon'"),
    ("mock_services.lending", "CHAOSDRILL_MAX_CONCURRENCY", "many", "CHAOSDRILL_MAX_CONCURRENCY: not an integer: 'many'"),
    # a switch that is neither on nor off was read as off: the breaker stayed on, silently
    ("mock_services.lending", "CHAOSDRILL_NO_BREAKER", "maybe", "CHAOSDRILL_NO_BREAKER: not on or off: 'maybe'"),
])
def test_bad_environment_value_is_one_line_naming_the_variable(tmp_path, monkeypatch, module, variable, value,
                                                               expect) -> None:
    """Every flag reads CHAOSDRILL_<FLAG>: a value it refuses is refused as the flag's would be (was a traceback)."""
    monkeypatch.setenv(variable, value)
    result = run(module, "--db", str(tmp_path / "x.db"))
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert result.returncode == 2 and len(lines) == 1 and expect in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_environment_values_are_flag_defaults(monkeypatch) -> None:
    from mock_services.lending.config import parse_settings
    monkeypatch.setenv("CHAOSDRILL_DEADLINE", "500ms")
    monkeypatch.setenv("CHAOSDRILL_MAX_CONCURRENCY", "7")
    monkeypatch.setenv("CHAOSDRILL_LOG_LEVEL", "WARNING")
    urls = ["--bureau-url", "http://127.0.0.1:1", "--gateway-primary-url", "http://127.0.0.1:2",
            "--gateway-backup-url", "http://127.0.0.1:3"]
    settings = parse_settings(["--db", "x.db", *urls])
    assert (settings.deadline, settings.max_concurrency, settings.log_level) == (0.5, 7, "warning")
    assert parse_settings(["--db", "x.db", "--deadline", "3s", *urls]).deadline == 3.0  # the flag wins
    for value, off in (("ON", True), ("1", True), ("off", False), ("", False)):
        monkeypatch.setenv("CHAOSDRILL_NO_BREAKER", value)
        assert parse_settings(["--db", "x.db", *urls]).on("breaker") is not off


def test_port_in_use_is_one_line_and_exit_2(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("mock_services.payment_gateway", "--db", str(tmp_path / "g.db"), "--port",
                     str(taken.getsockname()[1]))
    assert result.returncode == 2 and "Address already in use" in result.stderr and "Traceback" not in result.stderr


def test_database_locked_at_start_is_waited_out(tmp_path) -> None:
    """Seen in the gate: lending#1 exited with "database is locked" starting beside
    lending#0 on one new database. SQLite answers a switch to WAL at once with
    "locked", without waiting for busy_timeout, while another connection holds a
    write lock on a rollback-journal file; the service must wait that out."""
    import sqlite3
    import threading

    from mock_services.lending.store import SCHEMA
    from mock_services.runtime import open_database

    path = str(tmp_path / "shared.db")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE starting (x)")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        sqlite3.connect(path, timeout=5, isolation_level=None).execute("PRAGMA journal_mode=WAL")
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    try:
        db = open_database(path, SCHEMA)
    finally:
        release.join()
        other.close()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT count(*) FROM loans").fetchone()[0] == 0
