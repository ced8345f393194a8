"""The harness's side of the fault proxy: start or find a server, talk to it.

Everything goes through the Toxiproxy v2 API with the toxiproxy-python
client, so the built-in server and a real Toxiproxy are interchangeable.
"""
