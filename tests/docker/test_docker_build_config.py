"""A service's `build:`, a link's own port and listen port on the docker backend (no engine needed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.errors import UsageError
from harness.stack.docker.image import built_image_repo, context_digest, service_image
from harness.stack.docker.proxy_container import follow
from harness.stack.docker.runtime import DockerStackRuntime
from harness.stack.model import Stack
from harness.stack.files import validate_stack_file
from harness.stack.runtime import LinkRuntime, StackOptions


def test_the_build_tag_follows_what_the_engine_would_be_sent(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY app.py /srv/\n")
    (tmp_path / "app.py").write_text("print('v1')\n")
    (tmp_path / ".dockerignore").write_text("# notes are not sent\nnotes/\n")
    (tmp_path / "notes").mkdir()
    first = context_digest(tmp_path, "Dockerfile", {"A": "1"})
    (tmp_path / "notes" / "todo.txt").write_text("ignored")
    assert context_digest(tmp_path, "Dockerfile", {"A": "1"}) == first
    assert context_digest(tmp_path, "Dockerfile", {"A": "2"}) != first
    (tmp_path / "app.py").write_text("print('v2')\n")
    assert context_digest(tmp_path, "Dockerfile", {"A": "1"}) != first
    assert built_image_repo("My Shop", "Web_1") == "chaosdrill-my-shop-web_1"


def test_a_missing_context_or_dockerfile_is_the_stack_s_mistake(tmp_path):
    stack = Stack.model_validate({"name": "s", "backend": "docker", "entry": "web",
                                  "services": {"web": {"build": {"context": "web"}}}})
    stack._source = tmp_path / "stack.yaml"
    with pytest.raises(UsageError, match=rf"^stack s: services\.web\.build\.context: no such folder {tmp_path}/web$"):
        service_image(None, stack, "web")
    (tmp_path / "web").mkdir()
    with pytest.raises(UsageError, match=r"services\.web\.build\.dockerfile: no such file .*/web/Dockerfile$"):
        service_image(None, stack, "web")


def test_each_proxy_follows_its_target_on_its_own_port():
    calls = []
    client = SimpleNamespace(set_upstream=lambda proxy, upstream: calls.append((proxy, upstream)))
    links = [LinkRuntime("web->api", "web", "api", "web-to-api", "10.0.0.2:20000", "api:8000"),
             LinkRuntime("web->api#9000", "web", "api", "web-to-api-9000", "10.0.0.2:20001", "api:9000"),
             LinkRuntime("web->db", "web", "db", "web-to-db", "10.0.0.2:20002", "db:5432")]
    follow(client, links, SimpleNamespace(name="api", address="10.0.0.7", alias="api", container_port=8000))
    assert calls == [("web-to-api", "10.0.0.7:8000"), ("web-to-api-9000", "10.0.0.7:9000")]


def test_fixed_listen_ports_are_each_once_and_never_the_api_port(tmp_path):
    def runtime(links: dict) -> DockerStackRuntime:
        stack = Stack.model_validate({"name": "s", "backend": "docker", "entry": "a", "links": links,
                                      "services": {"a": {"image": "x"}, "b": {"image": "x"}, "c": {"image": "x"}}})
        return DockerStackRuntime(stack, StackOptions(state_dir=tmp_path))

    assert runtime({"a->b": {"listen": 5432}, "a->c": {}})._fixed_listen_ports() == {8474, 21000, 5432}
    with pytest.raises(UsageError, match=r"port 21000 is also the port of edge link client->a in"):
        runtime({"a->b": {"listen": 21000}})._fixed_listen_ports()
    with pytest.raises(UsageError, match=r"links.a->c.listen: port 5432 is also the port of link a->b"):
        runtime({"a->b": {"listen": 5432}, "a->c": {"listen": 5432}})._fixed_listen_ports()
    with pytest.raises(UsageError, match=r"port 8474 is also the port of the fault proxy's API"):
        runtime({"a->b": {"listen": 8474}})._fixed_listen_ports()


def test_docker_only_keys_and_ports_per_container(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbackend: docker\nentry: a\nservices:\n"
                    "  a: {image: x, port: 8080, entrypoint: ['{link_host:a->b}']}\n  b: {image: x, port: 8080}\n"
                    "links:\n  a->b: {port: 9000}\n")
    stack, issues = validate_stack_file(path)
    assert issues == [] and stack.links["a->b"].port == 9000  # containers do not share ports
    assert stack.services["a"].entrypoint == ["{link_host:a->b}"]
    path.write_text(path.read_text().replace("backend: docker", "backend: process").replace("image: x", "command: [x]")
                    .replace("{link_host:a->b}", "{link_hots:a->b}"))
    _, issues = validate_stack_file(path)
    assert [str(i).split(": ", 1)[0].split(" ", 1)[1] for i in issues] == [
        "services.a.entrypoint", "services.a.entrypoint[0]", "services.b.port", "links[\"a->b\"].port"]
