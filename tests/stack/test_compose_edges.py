"""Edges from every way a Compose file names a service, one proxy per (from, to, port), values rewritten."""

from __future__ import annotations


def test_a_url_keeps_scheme_user_path_and_query_and_goes_through_the_link(imported):
    out = imported("""
        services:
          api:
            image: team/api
            environment:
              DATABASE_URL: postgres://app:s3cret@db:5432/app?sslmode=disable
              CACHE_URL: redis://cache:6379/0
              MQ_URL: amqp://guest:guest@mq
              SEARCH: http://search:9200/_cluster/health?wait=1
          db: {image: postgres:16}
          cache: {image: redis:7}
          mq: {image: rabbitmq:3}
          search: {image: team/search}
    """)
    env = out.env("api")
    assert env["DATABASE_URL"] == "postgres://app:s3cret@{link_address:api->db}/app?sslmode=disable"
    assert env["CACHE_URL"] == "redis://{link_address:api->cache}/0"
    assert env["MQ_URL"] == "amqp://guest:guest@{link_address:api->mq}"  # amqp's own port, 5672
    assert env["SEARCH"] == "http://{link_address:api->search}/_cluster/health?wait=1"
    assert list(out.links) == ["api->db", "api->cache", "api->mq", "api->search"]
    ports = {name: svc["port"] for name, svc in out.stack["services"].items()}
    assert ports == {"api": 8080, "db": 5432, "cache": 6379, "mq": 5672, "search": 9200}


def test_host_port_and_a_bare_host_with_or_without_its_port_variable(imported):
    out = imported("""
        services:
          api:
            image: team/api
            environment:
              - REDIS=cache:6379
              - DB_HOST=db
              - DB_PORT=5432
              - SEARCH_HOST=search
          cache: {image: redis:7}
          db: {image: postgres:16}
          search: {image: team/search, expose: ["9200"]}
    """)
    env = out.env("api")
    assert env["REDIS"] == "{link_address:api->cache}"
    assert (env["DB_HOST"], env["DB_PORT"]) == ("{link_host:api->db}", "{link_port:api->db}")
    # No port variable: the app connects on the port it assumes, so the proxy listens on that one.
    assert env["SEARCH_HOST"] == "{link_host:api->search}"
    assert out.links["api->search"]["listen"] == 9200
    assert "listen" not in out.links["api->db"] and "listen" not in out.links["api->cache"]


def test_one_proxy_per_from_to_and_port_and_a_tag_for_a_second_port(imported):
    out = imported("""
        services:
          web:
            image: team/web
            ports: ["80:8080"]
            environment:
              API_URL: http://api:8000/v1
              API_HEALTH: http://api:8000/healthz
              ADMIN_URL: http://api:9000
            depends_on: [api]
          worker:
            image: team/worker
            environment: {API: "api:8000"}
          api:
            image: team/api
            expose: [8000, 9000]
    """)
    assert list(out.links) == ["web->api", "web->api#9000", "worker->api"]
    assert out.links["web->api#9000"]["port"] == 9000 and "port" not in out.links["web->api"]
    assert out.env("web")["ADMIN_URL"] == "http://{link_address:web->api#9000}"
    assert out.env("web")["API_HEALTH"] == "http://{link_address:web->api}/healthz"
    assert "environment API_URL, API_HEALTH" in out.links["web->api"]["description"]


def test_depends_on_as_a_list_or_a_map_is_a_link_even_without_a_reference(imported):
    out = imported("""
        services:
          web:
            image: team/web
            ports: ["8080:8080"]
            depends_on: [api]
          api:
            image: team/api
            expose: ["8000"]
            depends_on:
              db: {condition: service_healthy}
              cache: {condition: service_started}
          db: {image: postgres:16}
          cache: {image: redis:7}
    """)
    assert list(out.links) == ["web->api", "api->db", "api->cache"]
    assert out.links["web->api"]["description"] == "web -> api:8000 (depends_on)"
    assert out.stack["entry"] == "web"


def test_references_in_commands_names_by_alias_and_what_is_left_alone(imported):
    out = imported("""
        services:
          web:
            image: team/web
            ports: ["8080:8080"]
            command: ["--upstream", "http://api:8000", "--cache=shop-cache:6379", "serve", "api"]
            environment:
              POSTGRES_USER: postgres
              POSTGRES_DB: db
              JAVA_OPTS: -Dspring.redis.host=shop-cache
              SELF: http://web:8080
          api: {image: team/api, expose: ["8000"]}
          postgres: {image: postgres:16}
          db: {image: postgres:16}
          cache:
            image: redis:7
            container_name: shop-cache
    """)
    web = out.stack["services"]["web"]
    assert web["command"] == ["--upstream", "http://{link_address:web->api}", "--cache={link_address:web->cache}",
                              "serve", "api"]  # a word alone in a command is not taken for a host
    assert web["env"]["POSTGRES_USER"] == "postgres" and web["env"]["POSTGRES_DB"] == "db"  # names, not hosts
    assert web["env"]["SELF"] == "http://web:8080"  # a service naming itself is no edge
    assert web["env"]["JAVA_OPTS"] == "-Dspring.redis.host=shop-cache"
    [left] = out.warned("environment.JAVA_OPTS")
    assert "names cache, but not as a URL, a host:port or the whole value: not rewritten" in left
    assert set(out.links) == {"web->api", "web->cache"}


def test_tls_through_a_proxy_is_said(imported):
    out = imported("""
        services:
          web: {image: w, environment: {API: "https://api:8443/x"}}
          api: {image: a}
    """)
    assert out.env("web")["API"] == "https://{link_address:web->api}/x"
    assert out.warned("the certificate is checked against the proxy's address")


def test_ports_come_from_expose_ports_healthcheck_references_image_or_default(imported):
    out = imported("""
        services:
          a: {image: x, ports: ["127.0.0.1:8081:3000/tcp", "9999:9999/udp"]}
          b: {image: x, expose: ["4000-4001"]}
          c: {image: x, healthcheck: {test: "curl -f http://localhost:5000/health || exit 1"}}
          d: {image: x}
          e: {image: postgres:16-alpine}
          f: {image: x, ports: [{target: 7000, published: 17000}]}
          g: {image: x, environment: {D: "http://d:6000"}}
    """)
    ports = {name: svc["port"] for name, svc in out.stack["services"].items()}
    assert ports == {"a": 3000, "b": 4000, "c": 5000, "d": 6000, "e": 5432, "f": 7000, "g": 8080}
    assert out.warned("services.a.ports: port 9999/udp not carried over (the fault proxy carries TCP only)")
    assert out.warned("services.e: listens on port 5432 (the usual port of image postgres:16-alpine)")
    assert out.warned("services.g: listens on port 8080 (the docker backend's default")


def test_what_a_variable_is_called_decides_how_its_value_is_read(imported):
    out = imported("""
        services:
          api:
            image: a
            environment:
              DB: db:5432                 # a host:port whatever the name
              DB_USER: db                 # one word under a user's name: a user, not a host
              CACHE_IMAGE: cache:7        # an image and its tag
              UPSTREAM: cache             # one word under another name: a host
          db: {image: postgres:16}
          cache: {image: redis:7}
    """)
    assert out.env("api") == {"DB": "{link_address:api->db}", "DB_USER": "db", "CACHE_IMAGE": "cache:7",
                              "UPSTREAM": "{link_host:api->cache}"}
    assert list(out.links) == ["api->db", "api->cache"]
