"""API errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""

from __future__ import annotations

from typing import Any

from rag.errors import IndexLockedError, NotFoundError, RagError, StoragePermissionError

# The `type` OpenAI's clients map each status to.
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    421: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}


class APIError(Exception):
    """A request the server refuses, with the HTTP status, a message saying what to do, and headers."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        return error_body(self.status, self.message, self.code, self.param)


def error_body(
    status: int, message: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """An OpenAI-shaped error body."""
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def from_rag_error(error: RagError) -> APIError:
    """The API error for a library error a caller caused (bad question, unknown document, busy index)."""
    if isinstance(error, NotFoundError):
        return APIError(404, str(error), "not_found")
    if isinstance(error, IndexLockedError):
        return APIError(409, str(error), "index_locked", headers={"Retry-After": "5"})
    if isinstance(error, StoragePermissionError):
        # The operator's database and role are not the caller's business: the server's log has them.
        return APIError(403, "the collection's database lets this server only read it", "read_only")
    return APIError(400, str(error), "invalid_request")


def bad_request(message: str, param: str | None = None) -> APIError:
    """A 400 for a malformed or out-of-range request field."""
    return APIError(400, message, "invalid_request", param)
