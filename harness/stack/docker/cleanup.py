"""Removing what a run made on the engine, and ending the container faults of a run whose runner died.

A run removes its own things when it stops (remove_run); `chaosdrill
cleanup` removes what a killed run left, by its state file (clean_state) or
by the labels of runs whose owner is gone (cleanup_stale). Container faults
are recorded in the run's state file while they last (lease_container_fault),
so the watchdog can end them (end_faults) when the runner cannot.
"""

from __future__ import annotations

from typing import Any

from harness.errors import HarnessError
from harness.stack.docker.container import DockerInstance
from harness.stack.docker.engine import connect, connect_recorded
from harness.stack.docker.labels import LABEL_OWNER, LABEL_RUN, owner_alive
from harness.state import RunState


def remove_run(client: Any, run_label: str) -> list[str]:
    """Remove every container, network and volume carrying `run_label`; returns what went."""
    return _remove_labelled(client, f"{LABEL_RUN}={run_label}")


def _remove_labelled(client: Any, label_filter: str) -> list[str]:
    done: list[str] = []
    for c in client.containers.list(all=True, filters={"label": label_filter}):
        try:
            c.remove(force=True, v=True)
            done.append(f"removed container {c.name}")
        except Exception as exc:
            done.append(f"could not remove container {c.name}: {exc}")
    for n in client.networks.list(filters={"label": label_filter}):
        try:
            n.remove()
            done.append(f"removed network {n.name}")
        except Exception as exc:
            done.append(f"could not remove network {n.name}: {exc}")
    for v in client.volumes.list(filters={"label": label_filter}):
        try:
            v.remove(force=True)
            done.append(f"removed volume {v.name}")
        except Exception as exc:
            done.append(f"could not remove volume {v.name}: {exc}")
    return done


def labelled_runs(client: Any) -> dict[str, str]:
    """run label -> owner label, for everything on the engine that a chaosdrill run made."""
    runs: dict[str, str] = {}
    for kind in (client.containers.list(all=True, filters={"label": LABEL_RUN}),
                 client.networks.list(filters={"label": LABEL_RUN}),
                 client.volumes.list(filters={"label": LABEL_RUN})):
        for obj in kind:
            labels = (obj.attrs.get("Config", {}) or {}).get("Labels") or obj.attrs.get("Labels") or {}
            if LABEL_RUN in labels:
                runs.setdefault(labels[LABEL_RUN], labels.get(LABEL_OWNER, ""))
    return runs


def cleanup_stale(client: Any | None = None, base_url: str | None = None) -> list[str]:
    """Remove what runs whose owner process (on this host) is gone left on the engine."""
    client = client or connect(base_url)
    done: list[str] = []
    for run, owner in sorted(labelled_runs(client).items()):
        if owner_alive(owner) is False:
            done.extend(f"run {run}: {action}" for action in remove_run(client, run))
    return done


def clean_state(st: RunState) -> list[str]:
    """For `chaosdrill cleanup`: remove a dead run's containers, network and volume, as its state file names them."""
    info = st.data.get("docker")
    if not info or not info.get("run_label"):
        return []
    try:
        client = connect_recorded(info.get("engine"))
    except HarnessError as exc:
        return [f"could not reach the Docker engine of run {info['run_label']}: {exc}"]
    return remove_run(client, info["run_label"])


# ---------------------------------------------------------------- container faults the watchdog may end


def lease_container_fault(st: RunState, fault_id: str, kind: str, inst: DockerInstance, restart: bool) -> None:
    """Record a container fault under state["docker"]["faults"]; `end_faults` ends it if the runner dies."""
    docker_state = st.data.setdefault("docker", {"faults": []})
    faults = [f for f in docker_state.get("faults", []) if f["id"] != fault_id]
    faults.append({"id": fault_id, "kind": kind, "name": inst.name, "container": inst.container_name,
                   "restart": restart})
    docker_state["faults"] = faults
    st.save()


def release_container_fault(st: RunState, fault_id: str) -> None:
    if "docker" in st.data:
        docker_state = st.data["docker"]
        before = len(docker_state.get("faults", []))
        docker_state["faults"] = [f for f in docker_state.get("faults", []) if f["id"] != fault_id]
        if len(docker_state["faults"]) != before:
            st.save()


def end_faults(st: RunState) -> list[str]:
    """For the watchdog: unpause paused containers and start killed ones of a run whose runner died."""
    info = st.data.get("docker") or {}
    if not info.get("faults"):
        return []
    try:
        client = connect_recorded(info.get("engine"))
    except HarnessError as exc:
        return [str(exc)]
    done: list[str] = []
    for fault in info["faults"]:
        try:
            c = client.containers.get(fault["container"])
            c.reload()
            status = c.status
            if fault["kind"] == "pause" and status == "paused":
                c.unpause()
                done.append(f"unpaused {fault['name']} ({fault['container']})")
            elif fault["kind"] in ("kill", "restart") and fault.get("restart") and status not in ("running", "paused"):
                c.start()
                done.append(f"started {fault['name']} ({fault['container']}) again")
        except Exception as exc:
            done.append(f"could not end fault {fault['id']} on {fault['container']}: {exc}")
    info["faults"] = []
    st.save()
    return done
