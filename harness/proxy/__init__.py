"""A TCP fault proxy server speaking the Toxiproxy v2 HTTP API (see docs/fault-proxy.md).

The harness drives it over HTTP only, exactly as it would drive a real
Toxiproxy server, so either can be used.
"""
