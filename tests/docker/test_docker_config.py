"""Choosing the backend and the fault proxy's image (no engine needed)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from harness.errors import UsageError
from harness.stack.backends import make_runtime
from harness.stack.docker.labels import owner_alive, owner_label
from harness.stack.docker.proxy_container import FAULT_PROXY_IMAGE_ENV, proxy_container_settings
from harness.stack.docker.runtime import DockerStackRuntime
from harness.stack.model import Stack
from harness.stack.runtime import StackOptions, StackRuntime


def test_builtin_fault_proxy_by_default_listening_on_the_container_interface():
    settings = proxy_container_settings(SimpleNamespace(name="s"), env={})
    assert settings.builtin
    argv = settings.argv("/py")
    assert argv[:3] == ["/py", "-m", "harness.proxy"]
    assert "--allow-non-loopback" in argv and argv[argv.index("--host") + 1] == "0.0.0.0"


def test_a_real_toxiproxy_image_from_the_stack_or_the_environment():
    stack = SimpleNamespace(name="s", fault_proxy={"image": "ghcr.io/shopify/toxiproxy:2.9.0"})
    settings = proxy_container_settings(stack, env={})
    assert settings.image == "ghcr.io/shopify/toxiproxy:2.9.0" and not settings.builtin
    assert settings.argv("/py") == ["-host=0.0.0.0", "-port=8474"]
    env_settings = proxy_container_settings(SimpleNamespace(name="s"), env={FAULT_PROXY_IMAGE_ENV: "toxiproxy:local"})
    assert env_settings.image == "toxiproxy:local"
    custom = proxy_container_settings(SimpleNamespace(name="s", fault_proxy=SimpleNamespace(
        image="tp", command=["-host=0.0.0.0", "-port=9000"], api_port=9000)), env={})
    assert custom.argv("/py") == ["-host=0.0.0.0", "-port=9000"] and custom.api_port == 9000


def test_bad_fault_proxy_settings_name_the_field():
    with pytest.raises(UsageError, match="stack s: fault_proxy.command"):
        proxy_container_settings(SimpleNamespace(name="s", fault_proxy={"image": "tp", "command": "-host=0.0.0.0"}),
                                 env={})
    with pytest.raises(UsageError, match="stack s: fault_proxy.api_port"):
        proxy_container_settings(SimpleNamespace(name="s", fault_proxy={"api_port": "x"}), env={})


def test_make_runtime_follows_the_stack_unless_overridden(tmp_path):
    opts = StackOptions(state_dir=tmp_path)
    service = {"a": {"command": ["x"]}}
    stack = Stack.model_validate({"name": "s", "backend": "docker", "entry": "a", "services": service})
    assert type(make_runtime(stack, opts)) is DockerStackRuntime
    assert type(make_runtime(stack, opts, backend="process")) is StackRuntime
    plain = Stack.model_validate({"name": "s", "entry": "a", "services": service})
    assert type(make_runtime(plain, opts)) is StackRuntime
    with pytest.raises(UsageError, match="unknown backend 'vm'"):
        make_runtime(stack, opts, backend="vm")


def test_owner_labels_tell_live_from_dead_runners():
    assert owner_alive(owner_label()) is True
    host = owner_label().split(":")[0]
    assert owner_alive(f"{host}:999999999:1") is False
    assert owner_alive(f"elsewhere-{os.getpid()}:{os.getpid()}:1") is None


def test_image_tag_follows_project_content_and_keeps_host_symlinks(tmp_path):
    from harness.stack.docker.rootfs import RootFs

    src = tmp_path / "a.py"
    src.write_text("x = 1\n")
    first = RootFs()
    first.add_project_file(src, "/app/a.py")
    same = RootFs()
    same.add_project_file(src, "/app/a.py")
    assert first.digest() == same.digest()
    before = first.digest()
    src.write_text("x = 2\n")
    changed = RootFs()
    changed.add_project_file(src, "/app/a.py")
    assert changed.digest() != before

    (tmp_path / "usr" / "lib").mkdir(parents=True)
    (tmp_path / "usr" / "lib" / "libx.so.1.2").write_bytes(b"\x7fELF")
    (tmp_path / "usr" / "lib" / "libx.so.1").symlink_to("libx.so.1.2")
    (tmp_path / "lib").symlink_to("usr/lib")
    fs = RootFs()
    fs.add_host_path(tmp_path / "lib" / "libx.so.1")
    assert fs.links == {str(tmp_path / "lib"): "usr/lib", str(tmp_path / "usr/lib/libx.so.1"): "libx.so.1.2"}
    assert list(fs.files) == [str(tmp_path / "usr/lib/libx.so.1.2")]


def test_containers_get_the_cpu_weight_of_several_host_processes(tmp_path):
    from harness.engine.podman import raise_container_cpu_weight

    v1 = tmp_path / "v1"
    (v1 / "cpu" / "libpod_parent").mkdir(parents=True)
    (v1 / "cpu" / "cpu.shares").write_text("1024\n")
    (v1 / "cpu" / "libpod_parent" / "cpu.shares").write_text("1024\n")
    assert raise_container_cpu_weight(8, root=v1).endswith("1024 -> 8192")
    assert (v1 / "cpu" / "libpod_parent" / "cpu.shares").read_text() == "8192"
    (v1 / "cpu" / "libpod_parent" / "cpu.shares").write_text("20000\n")
    raise_container_cpu_weight(8, root=v1)  # never lowered
    assert (v1 / "cpu" / "libpod_parent" / "cpu.shares").read_text() == "20000\n"

    v2 = tmp_path / "v2"
    (v2 / "libpod_parent").mkdir(parents=True)
    (v2 / "cgroup.controllers").write_text("cpu memory\n")
    (v2 / "libpod_parent" / "cpu.weight").write_text("100\n")
    assert raise_container_cpu_weight(8, root=v2).endswith("100 -> 800")
    assert "no cgroup" in raise_container_cpu_weight(8, root=tmp_path / "none")


def test_dns_aliases_are_one_valid_label_and_unique_on_the_run_network(tmp_path):
    from harness.stack.files import load_stack

    rt = DockerStackRuntime(load_stack("lending"), StackOptions())
    long_name = "Payment_Gateway." + "x" * 80
    first, second = rt.names.dns_alias(long_name), rt.names.dns_alias(long_name)
    for alias in (first, second):
        assert len(alias) <= 63 and alias.replace("-", "").isalnum() and alias == alias.lower()
    assert first != second
    assert rt.names.dns_alias("lending-1") == "lending-1"
