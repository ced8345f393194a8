"""What the exact per-second metrics cost the load: requests/s of the same
Locust load with and without the chaosdrill request listener, side by side.

    python benchmarks/bench_runner_overhead.py [--seconds 5] [--users 20] [--rounds 4] [--concurrent]

A fast keep-alive HTTP server (uvloop, its own process) answers every GET
with a fixed `{"code":"OK",...}` body. Each round runs, in fresh child
processes, Locust (FastHttpUser, no wait) once without and once with the
listener (classification + per-second buckets + the JSONL flush every
second), alternating the order each round so machine noise hits both alike
(or, with --concurrent, both at the same time: each then gets about half of
what the machine has to spare, equally).
Prints each run's requests/s and CPU time per request, the medians and both
ratios; the issue's aim is under 10 % fewer requests/s with the listener. On
a busy shared machine req/s swings with the neighbours; CPU per request of
the (CPU-bound) load process is the steadier measure of the same cost.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BODY = b'{"code":"OK","message":"fine"}'
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


def serve(port_file: str) -> None:
    import asyncio

    import uvloop

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.t = transport
            self.buf = b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            n = self.buf.count(b"\r\n\r\n")
            if n:
                self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4:]
                self.t.write(RESPONSE * n)  # type: ignore[attr-defined]

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", 0)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    uvloop.run(main())


def child(url: str, seconds: float, users: int, with_metrics: bool, out_dir: str) -> None:
    import locust  # noqa: F401 - gevent monkey-patching first
    import gevent
    from locust import FastHttpUser, constant, task
    from locust.env import Environment

    class Hammer(FastHttpUser):
        host = url
        wait_time = constant(0)

        @task
        def ok(self) -> None:
            self.client.get("/v1/users/1/quota", name="GET /v1/users/{id}/quota")

    env = Environment(user_classes=[Hammer])
    flusher = None
    spent = {"s": 0.0}
    if with_metrics:
        from harness.load.buckets import MetricsCollector
        from harness.load.classify import Classifier
        from harness.load.lifecycle import every_second
        from harness.load.stream import JsonlWriter

        collector = MetricsCollector(Classifier("code", {"OK": "success"}, frozenset(), 5000.0), "bench")
        writer = JsonlWriter(Path(out_dir) / "metrics.jsonl")
        on_request, clock = collector.on_request, time.thread_time  # CPU time: preemption does not count

        def timed_listener(**kw: object) -> None:  # the real listener, timed in place on real responses
            started = clock()
            on_request(**kw)
            spent["s"] += clock() - started

        env.events.request.add_listener(timed_listener)

        def flush() -> None:
            started = clock()
            writer.write(collector.drain()[0])
            spent["s"] += clock() - started

        flusher = every_second(flush)
    count = {"n": 0}
    env.events.request.add_listener(lambda **_: count.__setitem__("n", count["n"] + 1))
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users * 10)
    gevent.sleep(1.0)  # warm-up: users spawned, connections open
    start_n, start_t, start_cpu = count["n"], time.perf_counter(), time.process_time()
    start_spent = spent["s"] if with_metrics else 0.0
    gevent.sleep(seconds)
    done_n, done_t, done_cpu = count["n"], time.perf_counter(), time.process_time()
    listener_s = (spent["s"] - start_spent) if with_metrics else 0.0
    runner.quit()
    if flusher is not None:
        flusher.kill()
    n = done_n - start_n
    print(json.dumps({"rps": n / (done_t - start_t), "cpu_us": (done_cpu - start_cpu) * 1e6 / max(n, 1),
                      "listener_us": listener_s * 1e6 / max(n, 1)}))


def listener_cost_us(calls: int = 200_000) -> float:
    """CPU microseconds one listener call takes (classify + bucket), measured
    directly: steady even on a busy machine."""
    from harness.load.buckets import MetricsCollector
    from harness.load.classify import Classifier

    class Answer:
        status_code = 200
        content = BODY
        headers: dict[str, str] = {}

    collector = MetricsCollector(Classifier("code", {"OK": "success"}, frozenset(), 5000.0), "bench")
    answer = Answer()
    on_request = collector.on_request
    started = time.process_time()
    for i in range(calls):
        on_request(request_type="GET", name="GET /v1/users/{id}/quota", response_time=1.0 + (i & 63),
                   response_length=len(BODY), response=answer, context={}, exception=None)
    spent = time.process_time() - started
    collector.drain(final=True)
    return spent * 1e6 / calls


def run_children(url: str, seconds: float, users: int, variants: list[str]) -> dict[str, dict[str, float]]:
    """Run the variants at the same time (one each), so they share the machine alike."""
    with tempfile.TemporaryDirectory() as tmp:
        procs = {}
        for v in variants:
            out_dir = os.path.join(tmp, v)
            os.mkdir(out_dir)
            procs[v] = subprocess.Popen([sys.executable, __file__, "--child", v, "--url", url, "--seconds",
                                         str(seconds), "--users", str(users), "--out", out_dir],
                                        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        results = {}
        for v, proc in procs.items():
            try:
                stdout, stderr = proc.communicate(timeout=seconds + 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise SystemExit(f"benchmark child {v} hung")
            if proc.returncode != 0:
                raise SystemExit(f"benchmark child {v} failed:\n{stderr[-2000:]}")
            results[v] = json.loads(stdout.strip().splitlines()[-1])
        return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--concurrent", action="store_true",
                   help="run both variants at the same time each round (fairer on a busy machine)")
    p.add_argument("--child", choices=["with", "without"], help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--serve", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        return serve(args.serve)
    if args.child:
        return child(args.url, args.seconds, args.users, args.child == "with", args.out)

    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        server = subprocess.Popen([sys.executable, __file__, "--serve", port_file], cwd=ROOT)
        try:
            deadline = time.time() + 10
            while not os.path.exists(port_file) or not Path(port_file).read_text():
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("benchmark server did not start")
                time.sleep(0.05)
            url = f"http://127.0.0.1:{Path(port_file).read_text()}"
            with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=2):
                pass
            rps: dict[str, list[float]] = {"without": [], "with": []}
            in_situ: list[float] = []
            cpu: dict[str, list[float]] = {"without": [], "with": []}
            print(f"{args.users} users, no wait, {args.seconds:g} s per run, {args.rounds} rounds, "
                  f"{'both variants at once' if args.concurrent else 'one variant at a time'}, server {url}")
            for r in range(args.rounds):
                order = ["without", "with"] if r % 2 == 0 else ["with", "without"]
                batches = [order] if args.concurrent else [[v] for v in order]
                for batch in batches:
                    for variant, res in run_children(url, args.seconds, args.users, batch).items():
                        rps[variant].append(res["rps"])
                        cpu[variant].append(res["cpu_us"])
                        extra = ""
                        if variant == "with":
                            in_situ.append(res["listener_us"])
                            extra = f" (listener + flush: {res['listener_us']:.1f} us of it)"
                        print(f"  round {r + 1} {variant:>7} listener: {res['rps']:8.0f} req/s, "
                              f"{res['cpu_us']:6.1f} us CPU per request{extra}")
        finally:
            server.terminate()
            server.wait(timeout=5)
    base, measured = statistics.median(rps["without"]), statistics.median(rps["with"])
    cpu_base, cpu_measured = statistics.median(cpu["without"]), statistics.median(cpu["with"])
    print(f"median without listener: {base:8.0f} req/s, {cpu_base:6.1f} us CPU/request")
    print(f"median with listener:    {measured:8.0f} req/s, {cpu_measured:6.1f} us CPU/request")
    print(f"req/s ratio with/without: {measured / base:.3f} ({(1 - measured / base) * 100:+.1f} % fewer req/s; aim < 10 %)")
    cost = listener_cost_us()
    print(f"listener alone (synthetic answers): {cost:.2f} us CPU per call = {cost / cpu_base * 100:.1f} % of a "
          f"request's {cpu_base:.0f} us without it")
    live = statistics.median(in_situ)
    print(f"listener + flush timed in the real runs: {live:.2f} us per request = "
          f"{live / (cpu_measured or 1) * 100:.1f} % of the with-listener run's time per request")
    print(f"CPU per request ratio:    {cpu_measured / cpu_base:.3f} (the load process is CPU-bound, so this is "
          f"the throughput cost on an otherwise idle core: {(1 - cpu_base / cpu_measured) * 100:+.1f} % fewer req/s)")


if __name__ == "__main__":
    main()
