"""The resilience matrix: pruning, classification, and a real run on the echo stack."""

from __future__ import annotations

import json

from harness.judge.recovery import Bounds
from harness.matrix.catalogue import BY_NAME, implied_by
from harness.matrix.classify import classify
from harness.metrics.series import Stats
from tests.run.conftest import ROOT, run_cli


def stats(n: int, success: int = 0, degraded: int = 0, ungraceful: int = 0, latency_us: int = 5000) -> Stats:
    s = Stats()
    s.n = n
    s.classes.update(success=success, degraded=degraded, ungraceful=ungraceful)
    for _ in range(n):
        s.hist.record(latency_us)
    return s


def test_a_weaker_fault_is_implied_only_by_a_stronger_one_that_did_not_hurt():
    assert implied_by(BY_NAME["reset_peer"], {"down": "graceful"}) == ("graceful", "down")
    assert implied_by(BY_NAME["latency"], {"timeout": "unaffected"}) == ("unaffected", "timeout")
    assert implied_by(BY_NAME["reset_peer"], {"down": "ungraceful"}) is None  # must run: may differ
    assert implied_by(BY_NAME["latency"], {"down": "unaffected"}) is None  # other family
    assert implied_by(BY_NAME["down"], {"reset_peer": "unaffected"}) is None  # weaker never implies stronger


def test_cells_are_classified_worst_first():
    bounds = Bounds.from_baseline(stats(100, success=100))
    assert classify(stats(100, success=100), bounds, 5000, [])[0] == "unaffected"
    assert classify(stats(100, success=50, degraded=50), bounds, 5000, [])[0] == "graceful"
    assert classify(stats(100, success=99, ungraceful=1), bounds, 5000, [])[0] == "ungraceful"
    assert classify(stats(10, success=10, latency_us=6_000_000), bounds, 5000, [])[0] == "ungraceful"  # a hang
    assert classify(stats(100, success=100), bounds, 5000, ["no_lost_loans"])[0] == "integrity"


def test_a_matrix_on_the_echo_stack_maps_and_prunes(tmp_path, isolated_state):
    res = run_cli(["matrix", "--stack", str(ROOT / "tests/fixtures/stacks/echo.yaml"),
                   "--links", "front->back", "client->front", "--faults", "down", "reset_peer",
                   "--users", "10", "--baseline", "4", "--fault-time", "2", "--settle", "2",
                   "--fail-on", "ungraceful", "--junit", str(tmp_path / "ci" / "matrix.xml"),
                   "--report-dir", str(tmp_path / "r")], tmp_path, timeout=180)
    assert res.returncode == 1, res.stdout + res.stderr  # --fail-on ungraceful: client->front is
    (run_dir,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]  # beside it: the run history
    matrix = json.loads((run_dir / "matrix.json").read_text())
    cells = {(c["link"], c["fault"]): c for c in matrix["cells"]}
    # front degrades explicitly (DEP_DOWN) when back is unreachable...
    assert cells[("front->back", "down")]["outcome"] == "graceful"
    assert cells[("front->back", "down")]["evidence"]["codes"].get("DEP_DOWN", 0) > 0
    # ...so the weaker reset on the same link is implied, not run;
    assert cells[("front->back", "reset_peer")] | {} and not cells[("front->back", "reset_peer")]["ran"]
    # while the client's own link down is ungraceful (refused connections), so its reset is run.
    assert cells[("client->front", "down")]["outcome"] == "ungraceful"
    assert cells[("client->front", "reset_peer")]["ran"]
    assert cells[("client->front", "reset_peer")]["outcome"] == "ungraceful"
    assert (matrix["runs"], matrix["pruned"]) == (3, 1)
    html = (run_dir / "matrix.html").read_text()
    assert "implied by down" in html and "ungraceful" in html
    assert "1 saved by pruning" in res.stdout
    # the last line says why the exit is 1 (the drill's own verdict line above it reads PASSED)
    assert res.stdout.strip().splitlines()[-1] == \
        "FAILED: --fail-on ungraceful: 2 cell(s) ungraceful or worse: client->front x down, client->front x reset_peer"
    # The standard report of the same drill shows every cell as a fault band.
    journal = json.loads((run_dir / "journal.json").read_text())
    assert len(journal["faults"]) == 3 and all(f["removed_at"] is not None for f in journal["faults"])
    # The run history has the matrix as drill matrix-echo, scored by its cells, one row per cell.
    from harness.history.store import measures_of, open_read, runs_of

    conn = open_read(tmp_path / "r" / "history.sqlite")
    (run,) = runs_of(conn, "matrix-echo", 5)
    assert (run["kind"], run["score"]) == ("matrix", journal["matrix"]["score"])
    stored = measures_of(conn, [run["id"]])[run["id"]]["cells"]
    assert sorted((c["link"], c["fault"], c["outcome"], bool(c["ran"])) for c in stored) == \
        sorted((c["link"], c["fault"], c["outcome"], bool(c["ran"])) for c in matrix["cells"])
    # --junit: one testcase per cell, failing at --fail-on's outcome or worse; the run folder keeps the same file.
    import xml.etree.ElementTree as ET

    junit = (tmp_path / "ci" / "matrix.xml").read_text()
    assert junit == (run_dir / "junit.xml").read_text()
    cases = {c.get("name"): c for c in ET.fromstring(junit).iter("testcase")}
    failed = {name for name, c in cases.items() if c.find("failure") is not None}
    assert failed == {"client->front x down", "client->front x reset_peer"}, failed
    assert "graceful" in cases["front->back x down"].findtext("system-out")
    assert "implied by down, not run" in cases["front->back x reset_peer"].findtext("system-out")
