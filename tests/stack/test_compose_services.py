"""Each Compose service key carried over, or named in one warning line with its line number."""

from __future__ import annotations

import pytest

from harness.errors import UsageError


def test_entrypoint_and_command_as_strings_or_lists_split_as_a_shell_would(imported):
    out = imported("""
        services:
          api:
            image: team/api
            entrypoint: /bin/tini -- "/usr/local/bin/run app"
            command: serve --name 'two words' --port 8000
          job:
            image: team/job
            entrypoint: ["python", "-m", "job"]
            command: ["--once", 3]
    """)
    api, job = out.stack["services"]["api"], out.stack["services"]["job"]
    assert api["entrypoint"] == ["/bin/tini", "--", "/usr/local/bin/run app"]
    assert api["command"] == ["serve", "--name", "two words", "--port", "8000"]
    assert job["entrypoint"] == ["python", "-m", "job"] and job["command"] == ["--once", "3"]


def test_environment_as_a_map_or_a_list_and_env_files_under_it(imported):
    out = imported("""
        services:
          api:
            image: team/api
            env_file: [api.env, {path: missing.env, required: false}]
            environment:
              LEVEL: info
              DEBUG: true
              WORKERS: 4
              FROM_SHELL:
          web:
            image: team/web
            environment: ["A=1", "B=x=y", "C="]
    """, files={"api.env": """
        # comments and blank lines are skipped

        export LEVEL=debug
        TOKEN="a \\"quoted\\" value"
        RAW='kept $as is'
        PLAIN=value # a comment
    """})
    assert out.env("api") == {"LEVEL": "info", "TOKEN": 'a "quoted" value', "RAW": "kept $as is",
                              "PLAIN": "value", "DEBUG": "true", "WORKERS": "4"}
    assert out.env("web") == {"A": "1", "B": "x=y", "C": ""}
    assert out.warned("compose.yaml:10 services.api.environment.FROM_SHELL: not carried over (its value comes "
                      "from the shell when docker compose runs)")
    assert out.warned("services.api.env_file[1]: ") and out.warned("missing.env: not read")


def test_an_env_file_that_is_not_there_is_one_line(compose_file):
    from harness.stack.compose import import_compose

    path = compose_file("""
        services:
          api:
            image: team/api
            env_file: ./api.env
    """)
    with pytest.raises(UsageError) as caught:
        import_compose(path, environ={})
    assert str(caught.value).count("\n") == 0
    assert str(caught.value).startswith(f"{path}:5 services.api.env_file: env file {path.parent}/api.env: ")


def test_env_file_values_name_services_too(imported):
    out = imported("""
        services:
          api: {image: a, env_file: api.env}
          db: {image: postgres:16}
    """, files={"api.env": "DATABASE_URL=postgres://db/app\nDB_PASSWORD=${NOT_INTERPOLATED_HERE}\n"})
    assert out.env("api")["DATABASE_URL"] == "postgres://{link_address:api->db}/app"


@pytest.mark.parametrize("test, path, warned", [
    (["CMD", "curl", "-f", "http://localhost:8000/healthz"], "/healthz", None),
    (["CMD-SHELL", "curl -fsS http://127.0.0.1:8000/ready?deep=1 || exit 1"], "/ready?deep=1", None),
    ("wget -q --spider http://localhost:8000/", "/", None),
    (["CMD", "wget", "-qO-", "http://api:8000/status"], "/status", None),  # its own name
    (["CMD-SHELL", "pg_isready -U postgres"], None, "it runs pg_isready"),
    (["CMD", "curl", "-X", "POST", "http://localhost:8000/check"], None, "curl asks with POST"),
    (["CMD", "curl", "-d", "x", "http://localhost:8000/check"], None, "curl -d sends a body"),
    (["CMD", "curl", "http://db:5432/"], None, "not the service itself"),
    (["CMD", "curl", "-k", "https://localhost:8000/"], None, "over https"),
])
def test_a_healthcheck_that_gets_a_url_becomes_the_path_anything_else_tcp(imported, test, path, warned):
    out = imported(f"""
        services:
          api:
            image: team/api
            expose: ["8000"]
            healthcheck: {{test: {test!r}}}
          db: {{image: postgres:16}}
    """.replace("'", '"'))
    assert out.stack["services"]["api"]["health"]["path"] == path
    found = out.warned("services.api.healthcheck.test:")
    if warned is None:
        assert found == []
    else:
        assert len(found) == 1 and warned in found[0] and "carried over as a TCP check" in found[0]


def test_healthcheck_timing_becomes_the_time_to_get_healthy(imported):
    out = imported("""
        services:
          slow:
            image: x
            healthcheck: {test: ["CMD", "true"], interval: 10s, timeout: 5s, retries: 5, start_period: 1m30s}
          quick:
            image: x
            healthcheck: {test: ["CMD", "true"], interval: 1s, retries: 3}
          untimed: {image: x, healthcheck: {test: ["CMD", "true"]}}
          off: {image: x, healthcheck: {disable: true}}
    """)
    health = {n: s["health"] for n, s in out.stack["services"].items()}
    assert health["slow"] == {"path": None, "timeout": "165s"}  # 90 + 5 x (10 + 5)
    assert health["quick"] == {"path": None, "timeout": "20s"}  # 3 s, but never below the stack's 20 s
    assert health["untimed"] == {"path": None} and health["off"] == {"path": None}


def test_every_key_not_carried_over_is_one_warning_with_its_line(imported):
    out = imported("""
        version: "3.9"
        x-defaults: &defaults
          restart: always
        services:
          web:
            <<: *defaults
            image: team/web
            ports: ["8080:8080"]
            deploy:
              replicas: 2
              resources: {limits: {cpus: "1"}}
            volumes: ["./static:/srv"]
            networks: [front]
            labels: {team: shop}
            user: "1000"
            working_dir: /srv
            build:
              context: .
              target: prod
            x-note: hello
            mystery: 1
        networks: {front: {}}
        volumes: {data: {}}
        secrets: {token: {file: ./token}}
        configs: {conf: {file: ./conf}}
        x-other: 1
        include: [other.yaml]
    """, files={"Dockerfile": "FROM scratch\n"})
    expected = [
        "compose.yaml:2 version: not carried over",
        "compose.yaml:3 x-defaults: not carried over (an extension field)",
        "compose.yaml:4 services.web.restart: not carried over",
        "compose.yaml:12 services.web.deploy.resources: not carried over",
        "compose.yaml:13 services.web.volumes: not carried over",
        "compose.yaml:14 services.web.networks: not carried over",
        "compose.yaml:15 services.web.labels: not carried over",
        "compose.yaml:16 services.web.user: not carried over",
        "compose.yaml:17 services.web.working_dir: not carried over",
        "compose.yaml:20 services.web.build.target: not carried over",
        "compose.yaml:21 services.web.x-note: not carried over (an extension field)",
        "compose.yaml:22 services.web.mystery: not carried over",
        "compose.yaml:23 networks: not carried over",
        "compose.yaml:24 volumes: not carried over",
        "compose.yaml:25 secrets: not carried over",
        "compose.yaml:26 configs: not carried over",
        "compose.yaml:27 x-other: not carried over (an extension field)",
        "compose.yaml:28 include: not carried over",
    ]
    shown = [w.split(": ", 1)[0].rsplit("/", 1)[-1] for w in out.warnings]
    assert shown == [e.split(": ", 1)[0] for e in expected]
    for line, want in zip(out.warnings, expected):
        assert want in line
    assert out.stack["services"]["web"]["replicas"] == 2  # carried: the stack holds it


def test_a_job_others_wait_for_is_left_out_with_a_warning(imported):
    out = imported("""
        services:
          api:
            image: a
            depends_on:
              migrate: {condition: service_completed_successfully}
          migrate: {image: a, command: migrate}
    """)
    assert list(out.stack["services"]) == ["api"] and out.links == {}
    assert out.warned("services.migrate: not carried over: api wait(s) for it to complete")


def test_variables_are_filled_in_as_compose_does(imported):
    out = imported("""
        services:
          api:
            image: "team/api:${TAG:-latest}"
            environment:
              FROM_DOT_ENV: ${DOT}
              FROM_SHELL: $SHELL_VAR
              EMPTY_DEFAULT: ${EMPTY:-fallback}
              DOLLARS: "price $$5"
              NESTED: ${NOPE:-${DOT}-x}
              UNSET: "${NOWHERE}"
    """, files={"__env": "DOT=from-dot-env\nEMPTY=\n"}, environ={"SHELL_VAR": "from-shell"})
    api = out.stack["services"]["api"]
    assert api["image"] == "team/api:latest"
    assert api["env"] == {"FROM_DOT_ENV": "from-dot-env", "FROM_SHELL": "from-shell", "EMPTY_DEFAULT": "fallback",
                          "DOLLARS": "price $5", "NESTED": "from-dot-env-x", "UNSET": ""}
    assert out.warned("services.api.environment.UNSET: variable NOWHERE is not set")


def test_a_required_variable_unset_is_refused_like_compose(compose_file):
    from harness.stack.compose import import_compose

    path = compose_file("""
        services:
          api:
            image: "team/api:${TAG:?give TAG}"
    """)
    with pytest.raises(UsageError, match=r"compose.yaml:4 services.api.image: TAG is required: give TAG$"):
        import_compose(path, environ={})
