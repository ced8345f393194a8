"""API errors carrying Toxiproxy's exact messages and status codes.

Clients (toxiproxy-python, chaostoolkit-toxiproxy, the Go client) branch on the
status code and sometimes show the message, so both must match Toxiproxy 2.12.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error the HTTP API turns into {"error": message, "status": code}."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def joined(self, detail: str) -> "ApiError":
        """Toxiproxy's joinError: '<message>: <detail>' with the same status."""
        return ApiError(f"{self.message}: {detail}", self.status)

    def to_json(self) -> dict:
        return {"error": self.message, "status": self.status}


BAD_REQUEST_BODY = ApiError("bad request body", 400)
MISSING_FIELD = ApiError("missing required field", 400)
PROXY_NOT_FOUND = ApiError("proxy not found", 404)
PROXY_ALREADY_EXISTS = ApiError("proxy already exists", 409)
INVALID_STREAM = ApiError("stream was invalid, can be either upstream or downstream", 400)
INVALID_TOXIC_TYPE = ApiError("invalid toxic type", 400)
TOXIC_ALREADY_EXISTS = ApiError("toxic already exists", 409)
TOXIC_NOT_FOUND = ApiError("toxic not found", 404)


def bad_body(detail: str) -> ApiError:
    return BAD_REQUEST_BODY.joined(detail)


def internal(message: str) -> ApiError:
    """Errors Toxiproxy reports without a status of their own become 500s."""
    return ApiError(message, 500)
