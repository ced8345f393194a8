"""Classification of single answers and failures (pure, no Locust)."""

from __future__ import annotations

import json
import socket

import pytest

from harness.load.classify import Classifier, transport_code

CLASSES = {"APPROVED": "success", "DEFERRED": "degraded", "RISK_REJECTED": "rejected"}


class Answer:
    def __init__(self, status: int, body: bytes | None, headers: dict | None = None) -> None:
        self.status_code = status
        self.content = body
        self.headers = headers or {}


@pytest.fixture
def clf() -> Classifier:
    return Classifier("code", CLASSES, frozenset({"DEFERRED"}), timeout_ms=1000)


def test_fast_path_and_json_fallback_agree(clf):
    bodies = [
        b'{"code":"APPROVED","message":"ok"}',                       # fast path
        b'{"message":"ok","code":"APPROVED"}',                       # code not first
        b'{ "code" : "APPROVED" }',                                  # spacing
        json.dumps({"loan": {"code": "RISK_REJECTED"}, "code": "APPROVED"}).encode(),  # nested decoy
    ]
    for body in bodies:
        assert clf.classify(Answer(201, body), None, 5) == ("success", "APPROVED", False), body


def test_nested_field_is_not_the_top_level_code(clf):
    body = json.dumps({"loan": {"code": "APPROVED"}}).encode()
    assert clf.classify(Answer(200, body), None, 5) == ("ungraceful", "http_200", False)


def test_escaped_code_takes_the_json_path(clf):
    assert clf.code_of(b'{"code":"APP\\u0052OVED"}') == "APPROVED"


def test_status_does_not_decide_the_class(clf):
    assert clf.classify(Answer(503, b'{"code":"DEFERRED"}', {"Retry-After": "2"}), Exception("503"), 5) \
        == ("degraded", "DEFERRED", False)
    assert clf.classify(Answer(403, b'{"code":"RISK_REJECTED"}'), None, 5) == ("rejected", "RISK_REJECTED", False)
    assert clf.classify(Answer(200, b'{"code":"SURPRISE"}'), None, 5) == ("ungraceful", "SURPRISE", False)


def test_answers_without_a_code_are_ungraceful(clf):
    assert clf.classify(Answer(500, b"Internal Server Error"), None, 5) == ("ungraceful", "http_500", False)
    assert clf.classify(Answer(502, b""), None, 5) == ("ungraceful", "http_502", False)
    assert clf.classify(Answer(200, b"[1, 2]"), None, 5) == ("ungraceful", "http_200", False)
    assert clf.classify(Answer(200, b"{broken"), None, 5) == ("ungraceful", "http_200", False)


def test_retry_after_missing_only_on_retryable_codes(clf):
    assert clf.classify(Answer(503, b'{"code":"DEFERRED"}'), None, 5)[2] is True
    assert clf.classify(Answer(503, b'{"code":"DEFERRED"}', {"Retry-After": "1"}), None, 5)[2] is False
    assert clf.classify(Answer(403, b'{"code":"RISK_REJECTED"}'), None, 5)[2] is False


def test_a_late_answer_is_a_timeout(clf):
    assert clf.classify(Answer(201, b'{"code":"APPROVED"}'), None, 1000.1) == ("ungraceful", "timeout", False)


def test_transport_failures_get_pseudo_codes(clf):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionRefusedError) as refused:
        socket.create_connection(("127.0.0.1", port), timeout=1)
    assert clf.classify(Answer(0, None), refused.value, 3) == ("ungraceful", "refused", False)
    assert clf.classify(None, TimeoutError("timed out"), 3)[1] == "timeout"

    class RetriesExceeded(Exception):  # geventhttpclient wraps the cause as .original
        def __init__(self, original: BaseException) -> None:
            super().__init__("retries exceeded")
            self.original = original

    class HTTPConnectionClosed(Exception):
        pass

    assert transport_code(RetriesExceeded(ConnectionResetError(104, "Connection reset by peer"))) == "reset"
    closed = HTTPConnectionClosed("connection closed")
    assert transport_code(closed) == "closed"
    try:
        raise closed from ConnectionResetError()
    except HTTPConnectionClosed as exc:  # a reset anywhere in the chain beats "closed"
        assert transport_code(exc) == "reset"
    assert transport_code(ValueError("odd")) == "error"
