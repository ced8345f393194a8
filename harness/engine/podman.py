"""A private podman service speaking the Docker Engine API, for tests and CI.

There is no Docker daemon on the machines this project is tested on, but
Debian's podman serves the Docker API on a unix socket and the docker SDK
works through it. Everything the service stores (images, containers,
networks) lives in one folder of our own, so a test run never touches, and
is never disturbed by, another engine on the machine; stopping the service
removes the folder.

The settings are the ones seen working on these machines (see
docs/docker.md): runc (crun fails on hybrid cgroups), no default ulimits
(root lacks CAP_SYS_RESOURCE inside the sandbox), netavark (CNI cannot
resolve containers by name) and a subnet away from podman's stale default.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError

CONTAINERS_CONF = """\
[containers]
default_ulimits = []
[network]
network_backend = "netavark"
default_subnet = "{subnet}"
[engine]
runtime = "runc"
"""


CGROUP_ROOT = Path("/sys/fs/cgroup")
CONTAINER_CGROUP = "libpod_parent"  # where podman's cgroupfs manager puts every container


def raise_container_cpu_weight(processes: int = 8, root: Path = CGROUP_ROOT) -> str:
    """Give podman's containers, together, the CPU weight of `processes` host processes.

    With the cgroupfs manager every container lives under one `libpod_parent`
    group, and on cgroup v1 that whole group weighs as much as ONE task of
    the root group: on a busy machine, where the harness, Locust and other
    work run as root-group tasks, the containers get a sliver of the CPU and a
    drill measures starvation, not resilience (seen here: 5x lower
    throughput, 1 s latencies). Returns what was done, for the log.
    """
    if (root / "cpu" / "cpu.shares").exists():  # cgroup v1 (or hybrid)
        knob, value = root / "cpu" / CONTAINER_CGROUP / "cpu.shares", 1024 * processes
    elif (root / "cgroup.controllers").exists():  # cgroup v2
        knob, value = root / CONTAINER_CGROUP / "cpu.weight", min(10000, 100 * processes)
    else:
        return "no cgroup cpu controller found; container CPU weight left as is"
    try:
        knob.parent.mkdir(exist_ok=True)
        current = int(knob.read_text())
        if current >= value:
            return f"{knob} is {current}"
        knob.write_text(str(value))
        return f"{knob}: {current} -> {value}"
    except (OSError, ValueError) as exc:
        return f"could not raise the containers' CPU weight at {knob}: {exc}"


@dataclass
class PodmanService:
    """`podman system service` on a socket in a folder of its own; use as a context manager."""

    root: Path | None = None
    subnet: str = "10.213.0.0/16"
    cpu_weight_processes: int = 8  # see raise_container_cpu_weight; 0 leaves the weight alone
    cpu_note: str = ""
    popen: subprocess.Popen | None = field(default=None, repr=False)
    _own_root: bool = field(default=False, repr=False)

    @property
    def socket_path(self) -> Path:
        assert self.root is not None
        return self.root / "podman.sock"

    @property
    def base_url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to reach this engine (the docker SDK reads DOCKER_HOST)."""
        return {"DOCKER_HOST": self.base_url}

    def _podman_argv(self) -> list[str]:
        assert self.root is not None
        return [
            "podman",
            "--root", str(self.root / "storage"),
            "--runroot", str(self.root / "run"),
            "--tmpdir", str(self.root / "tmp"),
            "--network-config-dir", str(self.root / "networks"),
        ]

    def start(self, timeout: float = 20.0) -> "PodmanService":
        podman = shutil.which("podman")
        if podman is None:
            raise HarnessError(
                "podman is not installed (needed for a Docker-API engine here); install the Debian packages "
                "podman runc conmon netavark aardvark-dns catatonit iptables uidmap fuse-overlayfs "
                "slirp4netns busybox-static, as .ci/run does"
            )
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="chaosdrill-podman-"))
            self._own_root = True
        for sub in ("storage", "run", "tmp", "networks"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        conf = self.root / "containers.conf"
        conf.write_text(CONTAINERS_CONF.format(subnet=self.subnet))
        if self.cpu_weight_processes:
            self.cpu_note = raise_container_cpu_weight(self.cpu_weight_processes)
        log = open(self.root / "service.log", "ab", buffering=0)
        env = {**os.environ, "CONTAINERS_CONF": str(conf), "TMPDIR": str(self.root / "tmp")}
        try:
            self.popen = subprocess.Popen(
                [*self._podman_argv(), "system", "service", "--time=0", self.base_url],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                reason = self.log_tail()
                self.stop()
                raise HarnessError(f"podman system service exited with code {self.popen.returncode}: {reason}")
            if self.socket_path.exists() and self._ping():
                return self
            time.sleep(0.05)
        reason = self.log_tail()
        self.stop()
        raise HarnessError(f"podman system service did not answer on {self.socket_path} within {timeout:g}s: {reason}")

    def _ping(self) -> bool:
        import socket

        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            try:
                s.connect(str(self.socket_path))
                s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.")
            except OSError:
                return False

    def log_tail(self, lines: int = 3) -> str:
        if self.root is None:
            return ""
        try:
            text = (self.root / "service.log").read_text(errors="replace").strip()
        except OSError:
            return "no log"
        return " | ".join(text.splitlines()[-lines:]) or "no output"

    def stop(self) -> None:
        """Stop the service; for a folder of our own, remove its containers and images and delete it.

        A folder the caller named (a cache of images kept between runs) keeps
        its images; the runs that used it remove their own containers by label.
        """
        if self.root is None:
            return
        env = {**os.environ, "CONTAINERS_CONF": str(self.root / "containers.conf")}
        if self._own_root:
            # Containers first: their conmon processes outlive the service otherwise.
            subprocess.run([*self._podman_argv(), "rm", "--all", "--force", "--time", "0"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=False)
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        if self._own_root:
            subprocess.run([*self._podman_argv(), "system", "reset", "--force"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=False)
            _unmount_under(self.root)
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> "PodmanService":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _unmount_under(root: Path) -> None:
    """Lazily unmount every mount below `root` (overlay layers, shm), deepest first."""
    prefix = str(root.resolve()) + "/"
    try:
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    except OSError:
        return
    for target in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.engine.podman [--root DIR]`: serve the Docker API until Ctrl-C."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m harness.engine.podman",
                                description="a private podman Docker-API service for backend docker")
    p.add_argument("--root", type=Path, default=None,
                   help="storage folder, kept afterwards (images are cached there); default: a temp folder, removed")
    args = p.parse_args(argv)
    svc = PodmanService(root=args.root)
    try:
        svc.start()
    except HarnessError as exc:
        print(f"error: {exc}", flush=True)
        return 3
    print(f"export DOCKER_HOST={svc.base_url}", flush=True)
    print(f"# container CPU weight: {svc.cpu_note}", flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        svc.stop()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    raise SystemExit(main())
