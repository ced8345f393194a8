"""chaostoolkit-toxiproxy's actions and probes work against this server unchanged."""

from __future__ import annotations

import os
import time

from chaostoxi.proxy import actions as proxy_actions, probes as proxy_probes
from chaostoxi.toxic import actions as toxic_actions

from .conftest import connect, fastest_round_trip, round_trip


def test_chaostoolkit_actions(server, api, echo_upstream):
    config = {"toxiproxy_host": "127.0.0.1", "toxiproxy_port": server.port}
    host, port = echo_upstream.rsplit(":", 1)
    try:
        assert proxy_actions.create_proxy("ctk", host, int(port), listen_host="127.0.0.1", configuration=config)
        listen_port = int(config["ctk_PORT"])
        assert proxy_probes.proxy_exist("ctk", configuration=config)
        assert proxy_probes.get_proxy_attribute("ctk", "upstream", configuration=config) == echo_upstream

        assert toxic_actions.create_latency_toxic("ctk", "slow", latency=150, configuration=config)
        assert round_trip(connect(listen_port), b"x") >= 0.148
        assert toxic_actions.delete_toxic("ctk", "slow", configuration=config)
        assert fastest_round_trip(connect(listen_port), b"x") < 0.1

        assert toxic_actions.create_limiter_toxic("ctk", "lim", bytes_limit=3, configuration=config)
        assert toxic_actions.create_slicer_toxic("ctk", "sl", average_size=2, size_variation=1, delay=10, configuration=config)
        assert toxic_actions.create_bandwith_degradation_toxic("ctk", "bw", rate=1000, configuration=config)
        assert toxic_actions.create_slow_connection_close_toxic("ctk", "sc", delay=10, configuration=config)
        assert toxic_actions.create_timeout_toxic("ctk", "to", timeout=5000, configuration=config)
        assert proxy_actions.reset(configuration=config)
        assert proxy_probes.get_proxy_attribute("ctk", "toxics", configuration=config) == []

        assert proxy_actions.disable_proxy("ctk", configuration=config)
        assert proxy_probes.get_proxy_attribute("ctk", "enabled", configuration=config) is False
        assert proxy_actions.enable_proxy("ctk", configuration=config)
        time.sleep(0.05)
        assert fastest_round_trip(connect(listen_port), b"back") < 0.1
        proxy_actions.delete_proxy("ctk", configuration=config)
        assert not proxy_probes.proxy_exist("ctk", configuration=config)
    finally:
        os.environ.pop("ctk_PORT", None)
