"""The Docker backend: every service and the fault proxy as containers on a network of the run's own.

Same shape as the process backend (it is a StackRuntime with different
ways to start things), so the runner and the faults need not know which one
runs: links are proxies on the fault proxy, now a container; services reach
their dependencies only through it, by its address on the run's network
(and it reaches them by theirs, followed across restarts); the load reaches
the entry service through edge proxies published on 127.0.0.1; process
faults become container operations (kill, pause and unpause, stop and
start, restart).

Every container, network and volume carries the run's label and its owner
(host, pid, process start time), so a run removes exactly what it made on
every exit path, and `chaosdrill cleanup` removes what a killed run left.
The engine is whatever DOCKER_HOST names (a Docker daemon, or podman's
Docker-API service: see docs/docker.md).

One module per concern: labels (names and ownership on the engine), engine
(the connection), container (a service instance), proxy_container (the
fault proxy's container and the proxies on it), rootfs and image (the
built-in image), runtime (DockerStackRuntime) and cleanup (removing a run's
things, ending a dead run's faults). Nothing here imports the docker SDK
until an engine is used; harness.stack.backends imports this package only
when a stack runs on backend docker.
"""
