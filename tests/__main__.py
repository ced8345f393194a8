"""`python3 -m tests`: install what the test suite needs, then run it (the README's test command).

On a fresh machine with Python 3.11 and pip this is the whole setup: the
Python packages (`pip install -e '.[test]'`), then the Debian packages the
suite drives for real (Chromium and ChromeDriver for the report and web-view
checks, tmux for the console, podman and its helpers for the Docker-API
engine, redis-server for an own-system drill over a non-HTTP link), then pytest.
System packages are installed with apt-get when this runs as root; when it
cannot, it names the missing ones in one line and exits 2, rather than
letting dozens of tests error out one by one.

    python3 -m tests                 # everything
    python3 -m tests -k gameday -x   # extra arguments go to pytest

Standard library only: it runs before anything is installed. `.ci/run`
calls this same command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What the tests run for real, by Debian package.
DEBIAN_PACKAGES = (
    "chromium", "chromium-driver",  # report and web view in a real browser
    "tmux",  # the game day console driven like a terminal
    "redis-server",  # a team's own system with a real non-HTTP store behind a link (tests/own_system)
    # the Docker-API engine the docker backend's tests run against (shared/notes: podman on this machine)
    "podman", "runc", "conmon", "netavark", "aardvark-dns", "catatonit", "iptables", "uidmap",
    "fuse-overlayfs", "slirp4netns", "busybox-static",
)


def missing_packages(packages: tuple[str, ...] = DEBIAN_PACKAGES) -> list[str] | None:
    """The packages not installed, or None where there is no dpkg to ask (not a Debian system)."""
    if shutil.which("dpkg-query") is None:
        return None
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\n", *packages],
                         capture_output=True, text=True)
    installed = {line.split()[0] for line in out.stdout.splitlines() if line.split()[1:2] == ["ii"]}
    return [p for p in packages if p not in installed]


def install_system_packages(missing: list[str], is_root: bool) -> str | None:
    """None when nothing is missing any more; else the one line saying what to do."""
    if not missing:
        return None
    if not is_root or shutil.which("apt-get") is None:
        return (f"python3 -m tests: the tests need these Debian packages, which are not installed: "
                f"{' '.join(missing)}; run this command as root (it installs them with apt-get), or "
                f"`sudo apt-get install --no-install-recommends {' '.join(missing)}` first")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]):
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-2:])
            return f"python3 -m tests: {' '.join(argv[:2])} failed (exit {done.returncode}): {tail}"
    return None


def main(argv: list[str]) -> int:
    print("python3 -m tests: installing chaosdrill with its test dependencies...", file=sys.stderr, flush=True)
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", ".[test]"], cwd=ROOT)
    if pip.returncode != 0:
        print(f"python3 -m tests: pip install -e '.[test]' failed (exit {pip.returncode})", file=sys.stderr)
        return 2
    missing = missing_packages()
    if missing is None:
        print("python3 -m tests: no dpkg here: install Chromium, ChromeDriver, tmux and podman yourself; "
              "the tests that need one fail or skip naming it", file=sys.stderr)
    else:
        if missing:
            print(f"python3 -m tests: installing {' '.join(missing)}...", file=sys.stderr, flush=True)
        problem = install_system_packages(missing, os.geteuid() == 0)
        if problem:
            print(problem, file=sys.stderr)
            return 2
    rc = subprocess.run([sys.executable, "-m", "pytest", "-q", *argv], cwd=ROOT).returncode
    if rc == 5:
        print("python3 -m tests: no tests were collected", file=sys.stderr)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
