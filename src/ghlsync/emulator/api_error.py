"""``ApiError``: an error answer, rendered as HighLevel renders its errors:
``{"statusCode": 422, "message": [...], "error": "Unprocessable Entity", "traceId": "..."}``."""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["REASONS", "ApiError", "new_trace_id"]

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """An error answer. ``message`` is a string or a list of strings, as HighLevel sends."""

    def __init__(
        self,
        status: int,
        message: str | list[str],
        *,
        error: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message if isinstance(message, str) else "; ".join(message))
        self.status = status
        self.message = message
        self.error = error or REASONS.get(status, "Error")
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "message": self.message,
            "error": self.error,
            **self.extra,
            "traceId": new_trace_id(),
        }


def new_trace_id() -> str:
    return str(uuid.uuid4())
