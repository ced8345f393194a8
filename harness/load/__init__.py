"""The load process: Locust (gevent) in its own OS process, exact per-second
metrics streamed to the orchestrator. Only `config` and `stream` are safe to
import from asyncio code; everything else imports Locust. See docs/load.md.
"""
