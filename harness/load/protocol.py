"""Custom Locust messages between the chaosdrill master and its workers.

    worker -> master  chaosdrill_hello   {"t0"}            (before the worker
                      joins, on a throw-away connection: asks for the config)
    master -> worker  chaosdrill_config  {"config", "locustfile_source",
                                          "t0", "master_t"}
    worker -> master  chaosdrill_ping    {"t0"}            (every few seconds)
    master -> worker  chaosdrill_pong    {"t0", "master_t"}
    worker -> master  chaosdrill_metrics {"worker", "records", "acks", "final"}

Workers send their own per-second records every second (not Locust's 3 s
stats reports), keyed on the master's clock (harness.load.clock).
Free of gevent: `chaosdrill worker` checks its --master here before it
becomes the load process.
"""

from __future__ import annotations

from harness.errors import UsageError

HELLO = "chaosdrill_hello"
CONFIG = "chaosdrill_config"
PING = "chaosdrill_ping"
PONG = "chaosdrill_pong"
METRICS = "chaosdrill_metrics"
PING_INTERVAL_S = 5.0


def master_address(text: str) -> tuple[str, int]:
    """HOST[:PORT] -> (host, port); Locust's default master port is 5557."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, "5557"
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--master {text!r}: expected HOST[:PORT]")
    return host, int(port)
