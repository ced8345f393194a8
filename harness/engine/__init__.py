"""Container engines the harness can start for itself (tests, CI): a private podman Docker-API service."""
