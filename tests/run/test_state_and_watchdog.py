"""A dead run's leftovers end: paused services continue, processes go, files go."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.stack.processes import Instance, pid_alive, process_start_time
from harness.stack.cleanup import clean_run
from harness.state import RunState, stale_runs
from harness.watchdog import lease_expired, watch


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAOSDRILL_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def proc_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def sleeper(tmp_path: Path) -> Instance:
    inst = Instance(service="svc", index=0, host="127.0.0.1", port=0,
                    argv=[sys.executable, "-c", "import time; time.sleep(120)"], env={},
                    log_path=tmp_path / "svc.log")
    inst.start()
    return inst


def dead_owner_state(run_id: str) -> RunState:
    owner = subprocess.Popen([sys.executable, "-c", "pass"])
    owner.wait()
    st = RunState(run_id)
    st.data["owner"] = {"pid": owner.pid, "start_time": 1}
    st.save()
    return st


def test_a_live_owner_holds_its_lease_and_a_dead_one_does_not(state_dir):
    live = RunState("live")
    live.save()
    assert not lease_expired(live)
    dead = dead_owner_state("dead")
    assert lease_expired(dead)
    assert [s.data["run_id"] for s in stale_runs()] == ["dead"]


def test_watchdog_continues_a_paused_service_then_cleans_up(state_dir):
    inst = sleeper(state_dir)
    try:
        st = dead_owner_state("killed-run")
        st.add_process(inst.name, inst.pid)
        st.lease_process_fault("f1", "pause", inst, restart=True)
        inst.pause()
        time.sleep(0.1)
        assert proc_state(inst.pid) == "T"
        started = time.monotonic()
        watch(st.path, linger=0.5, poll=0.05, out=open(os.devnull, "w"))
        assert time.monotonic() - started < 5
        assert not st.path.exists()
        inst.popen.wait(timeout=5)
        assert not pid_alive(inst.pid)
    finally:
        inst.kill()


def test_watchdog_restarts_a_killed_service_whose_stack_says_so(state_dir):
    inst = sleeper(state_dir)
    st = dead_owner_state("killed-run-2")
    st.lease_process_fault("f1", "kill", inst, restart=True)
    inst.kill()
    st = RunState.load(st.path)
    from harness.watchdog import end_faults

    done = end_faults(st)
    assert any("restarted svc" in line for line in done)
    new = [p for p in RunState.load(st.path).data["processes"] if p["name"] == "svc"][0]
    assert pid_alive(new["pid"], new["start_time"])
    clean_run(RunState.load(st.path))
    time.sleep(0.2)
    assert not pid_alive(new["pid"], new["start_time"])


def test_cleanup_never_kills_a_reused_pid(state_dir):
    inst = sleeper(state_dir)
    try:
        st = dead_owner_state("stale")
        st.data["processes"] = [{"name": "svc", "pid": inst.pid, "start_time": process_start_time(inst.pid) + 1}]
        st.save()
        clean_run(st)
        assert pid_alive(inst.pid)
    finally:
        inst.kill()


@pytest.mark.parametrize("on_kill", [True, False])
def test_the_watchdog_lease_carries_a_kill_faults_own_restart(state_dir, on_kill):
    """A kill fault's `restart:` wins over the stack's restart_on_kill for the watchdog too (it took
    the stack's: a runner killed mid-fault had its `restart: false` bureau started again)."""
    from harness.faults.process_kill import ProcessKill
    from harness.stack.files import load_stack
    from harness.stack.runtime import StackOptions, StackRuntime

    stack = load_stack(Path(__file__).resolve().parents[2] / "scenarios" / "stacks" / "lending.yaml")
    stack.services["credit-bureau-a"].restart_on_kill = on_kill
    st = RunState("lease-restart")
    rt = StackRuntime(stack, StackOptions(), st)
    rt._plan_instances()
    rt.lease_instance_fault(ProcessKill("credit-bureau-a", 0, "own", restart=not on_kill))
    rt.lease_instance_fault(ProcessKill("credit-bureau-a", 0, "stack's"))
    assert {f["id"]: f["restart"] for f in RunState.load(st.path).data["process_faults"]} == \
        {"own": not on_kill, "stack's": on_kill}
