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
"""

HELLO = "chaosdrill_hello"
CONFIG = "chaosdrill_config"
PING = "chaosdrill_ping"
PONG = "chaosdrill_pong"
METRICS = "chaosdrill_metrics"
PING_INTERVAL_S = 5.0
