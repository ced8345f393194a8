"""A locustfile for the scripted server: every behaviour, by fixed weights."""

import uuid

from locust import FastHttpUser, constant, task

from harness.load.acks import acknowledge


class ScriptedUser(FastHttpUser):
    wait_time = constant(0.02)

    def _get(self, kind: str) -> None:
        self.client.get(f"/{kind}", name=kind)

    @task(5)
    def ok(self) -> None:
        # every OK answer is "acknowledged", to count acknowledgements through the master
        if self.client.get("/ok", name="ok").status_code == 200:
            acknowledge(uuid.uuid4().hex, None, "OK")

    @task(2)
    def slow(self) -> None:
        self._get("slow")

    @task(2)
    def degraded(self) -> None:
        self._get("degraded")

    @task(2)
    def noretry(self) -> None:
        self._get("noretry")

    @task(2)
    def rejected(self) -> None:
        self._get("rejected")

    @task(1)
    def bare500(self) -> None:
        self._get("bare500")

    @task(1)
    def unknown(self) -> None:
        self._get("unknown")

    @task(1)
    def reset(self) -> None:
        # POST: geventhttpclient silently re-sends an idempotent GET whose
        # connection closed unanswered, so the server would count more
        self.client.post("/reset", json={"n": 1}, name="reset")

    @task(1)
    def hang(self) -> None:
        self._get("hang")


class OkUser(FastHttpUser):
    """Only fast successes: about 20 requests/s per user, to see user changes."""

    wait_time = constant(0.05)

    @task
    def ok(self) -> None:
        self.client.get("/ok", name="ok")
