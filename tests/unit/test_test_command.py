"""The README's test command installs what the suite needs, or says in one line what is missing."""

from __future__ import annotations

import importlib
import subprocess

runner = importlib.import_module("tests.__main__")


def test_missing_system_packages_without_root_are_one_line_and_exit_2(monkeypatch, capsys):
    calls: list[list[str]] = []

    def fake_run(argv, **kwargs):
        calls.append(list(argv))
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(runner.subprocess, "run", fake_run)
    monkeypatch.setattr(runner, "missing_packages", lambda: ["chromium", "tmux"])
    monkeypatch.setattr(runner.os, "geteuid", lambda: 1000)
    assert runner.main(["-k", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("python3 -m tests: the tests need these Debian packages, which are not installed: "
                              "chromium tmux; run this command as root")
    assert not any("pytest" in " ".join(c) for c in calls), "the suite must not run half-installed"
    assert not any(c[0] == "apt-get" for c in calls)


def test_as_root_it_installs_only_what_is_missing_then_runs_pytest_with_the_arguments(monkeypatch):
    calls: list[list[str]] = []

    def fake_run(argv, **kwargs):
        calls.append(list(argv))
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(runner.subprocess, "run", fake_run)
    monkeypatch.setattr(runner.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(runner, "missing_packages", lambda: ["tmux"])
    monkeypatch.setattr(runner.os, "geteuid", lambda: 0)
    assert runner.main(["-k", "gameday"]) == 0
    installs = [c for c in calls if c[:2] == ["apt-get", "install"]]
    assert installs and installs[0][-1] == "tmux"
    assert calls[-1][-3:] == ["-q", "-k", "gameday"] and "pytest" in calls[-1]


def test_the_package_list_is_what_dpkg_reports_as_not_installed(monkeypatch):
    out = "chromium ii \ntmux un \n"
    monkeypatch.setattr(runner.shutil, "which", lambda name: "/usr/bin/dpkg-query")
    monkeypatch.setattr(runner.subprocess, "run",
                        lambda argv, **kw: subprocess.CompletedProcess(argv, 1, out, "no packages found matching podman"))
    assert runner.missing_packages(("chromium", "tmux", "podman")) == ["tmux", "podman"]
