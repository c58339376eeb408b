"""What the client raises: one class per kind of refusal the API answers (4xx, never
retried: the request must change), and the failures left after retrying."""

from __future__ import annotations

from typing import Any


class IdleshareClientError(Exception):
    """Anything this client raises."""


class ApiError(IdleshareClientError):
    """The API answered with an error: ``status`` and its ``detail`` (a message, or for 422
    a list of ``{"loc": [...], "msg": ...}`` naming the fields at fault)."""

    def __init__(self, status: int, detail: Any, method: str, path: str) -> None:
        self.status, self.detail, self.method, self.path = status, detail, method, path
        super().__init__(f"{method} {path}: HTTP {status}: {_message(detail)}")


class Unauthorized(ApiError):
    """401: the key is missing, unknown, revoked or expired."""


class Forbidden(ApiError):
    """403: the key's role may not do this (booking needs a platform key)."""


class NotFound(ApiError):
    """404: no such thing visible to this key (hidden and missing look the same)."""


class Conflict(ApiError):
    """409: not possible in the current state (too little available, hold expired, ...)."""


class InvalidRequest(ApiError):
    """422: the request is malformed, or its Idempotency-Key was used for another request."""


class RateLimited(ApiError):
    """429 still, after the retries; ``retry_after`` seconds (None if not said)."""

    def __init__(self, status: int, detail: Any, method: str, path: str,
                 retry_after: float | None = None) -> None:
        super().__init__(status, detail, method, path)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx still, after the retries."""


class Unreachable(IdleshareClientError):
    """No answer from the API (connection refused, reset, timed out), after the retries."""


class WebhookRejected(IdleshareClientError):
    """A webhook request that is not a genuine, fresh delivery: refuse it (answer 4xx)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 422: InvalidRequest,
}


def error_for(status: int, detail: Any, method: str, path: str,
              retry_after: float | None = None) -> ApiError:
    if status == 429:
        return RateLimited(status, detail, method, path, retry_after)
    if status >= 500:
        return ServerError(status, detail, method, path)
    return _BY_STATUS.get(status, ApiError)(status, detail, method, path)


def _message(detail: Any) -> str:
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg', d)}"
            if isinstance(d, dict) else str(d)
            for d in detail
        )
    return str(detail)
