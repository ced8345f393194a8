"""The load process: Locust (gevent) in its own OS process, exact per-second
metrics streamed to the orchestrator. Only `config`, `stream` and the plain
data of `lending_endpoints` and `borrower_rates` are safe to import from
asyncio code; everything else imports Locust. See docs/load.md.
"""
