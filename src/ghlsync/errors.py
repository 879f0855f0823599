"""The one error tree of ghlsync.

    GHLSyncError                      root of everything ghlsync raises on purpose (.hint)
    ├── ConfigError                   bad settings, config, CLI input or credentials; before I/O
    │   └── RateLimitStateError       the daily rate-limit counts file cannot be read or written
    ├── TokenStoreError               the token store cannot be read, written or decrypted
    ├── TransportError                no HTTP answer at all: .method .path (may have arrived)
    │   ├── RequestTimeoutError       connect/read/write/pool timeout
    │   └── NetworkFailureError       refused, reset, DNS, TLS, a base URL that is not http(s)
    ├── APIError                      HighLevel answered >= 400: .status .method .path .trace_id
    │   ├── InvalidRequestError       400 / 422: the server's messages say which field
    │   │   └── DuplicateContactError 400 on create: a contact with that email/phone exists
    │   ├── AuthError                 401: expired / invalid token, or missing scope (.reason)
    │   ├── ForbiddenError            403: token belongs to another sub-account
    │   ├── NotFoundError             404
    │   ├── RateLimitError            429 after retries, or the daily budget is spent
    │   └── ServerError               5xx after retries
    ├── MalformedResponseError        a 2xx whose body is not the JSON promised
    │   ├── PaginationLoopError       the server repeated a page or a cursor (paging never ends)
    │   └── PaginationError           paging cannot go on without losing records
    ├── InvalidValueError             a value ghlsync refuses before sending (bad email, phone...)
    ├── OutcomeUnknownError           a non-idempotent write may or may not have happened
    ├── DestinationError              extract: the warehouse refused or was unreachable (dlt step)
    └── ExtractFailed                 extract: reading failed as a whole; nothing was loaded

``DestinationError`` and ``ExtractFailed`` live in ``ghlsync.extract.failures`` (the extract's
run-level errors); every other class is here. ``ghlsync`` exports them all.

Every error carries a one-line ``hint`` a user can act on. No error message, ``repr`` or
``str`` may contain a token, secret or Authorization header: build messages from method, path,
status, HighLevel's ``traceId`` and the server's messages only (``redact`` scrubs bearer-looking
strings defensively).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

#: names whose value is a credential wherever they appear as ``name=value`` / ``name: value``
#: (snake_case, camelCase or kebab-case); not preceded by a letter or digit, so
#: ``statusCode`` or ``postcode`` never match
_CREDENTIAL_NAMES = (
    r"(?:access|refresh|id)[_-]?token|client[_-]?secret|api[_-]?key|secret[_-]?key"
    r"|private[_-]?key|password|passwd|authorization|x-emulator-admin"
)
_SECRET_PATTERNS = (
    # Bearer <token> / Basic <credentials>
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}"), r"\1\2***"),
    # credential assignments: access_token=..., "refresh_token": "...", clientSecret: ...
    (
        re.compile(
            rf"(?i)(?<![A-Za-z0-9])({_CREDENTIAL_NAMES})([\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}}]+"
        ),
        r"\1\2***",
    ),
    # the OAuth authorization code, only as a parameter or a JSON key (``zip code: 94107``
    # and ``statusCode: 422`` are left alone)
    (re.compile(r"(?i)(?<![A-Za-z0-9_])(code=)[^\s\"'&,}]+"), r"\1***"),
    (re.compile(r"(?i)([\"']code[\"']\s*:\s*[\"'])[^\"']+"), r"\1***"),
    # bare JWTs (HighLevel's OAuth access tokens): header.payload[.signature]
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)?"), "***"),
    # bare Private Integration tokens: pit-<uuid>
    (re.compile(r"(?i)\bpit-[A-Za-z0-9][A-Za-z0-9-]{7,}"), "pit-***"),
)

#: keys whose string values are dropped from error bodies kept on ``APIError.body``
_CREDENTIAL_KEY = re.compile(rf"(?i)^(?:{_CREDENTIAL_NAMES})$")


def redact(text: str) -> str:
    """Replace what looks like a credential with ``***``: bearer tokens, credential
    assignments (``access_token=...``, ``"client_secret": "..."``), an OAuth ``code=``,
    bare JWTs (``eyJ...``) and Private Integration tokens (``pit-...``)."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """``redact`` applied through a decoded JSON body: every string scrubbed, the values of
    credential keys (``access_token``, ``clientSecret``...) replaced by ``***``."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            key: "***"
            if isinstance(key, str) and _CREDENTIAL_KEY.match(key) and isinstance(item, str)
            else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    return value


class GHLSyncError(Exception):
    """Root of every error ghlsync raises on purpose."""

    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = redact(message)
        self.hint = redact(hint) if hint is not None else self.default_hint
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigError(GHLSyncError):
    default_hint = "check your ghlsync settings (environment variables GHL_*, GHLSYNC_*)"


class RateLimitStateError(ConfigError):
    """The file keeping today's call counts per location (``ratelimit.sqlite3``) failed."""

    default_hint = (
        "check that GHLSYNC_HOME is writable and not on a network share, or pass"
        " InMemoryLimiter(daily_store=...) another path (None: counts are not kept across runs)"
    )


class TokenStoreError(GHLSyncError):
    default_hint = "check GHLSYNC_HOME and GHLSYNC_SECRET_KEY, or re-authorise with `ghlsync auth`"


class TransportError(GHLSyncError):
    """No HTTP answer: the request may or may not have reached HighLevel."""

    default_hint = "check the network and GHL_BASE_URL; the call is retried automatically when safe"

    def __init__(self, message: str, *, method: str, path: str, hint: str | None = None) -> None:
        self.method = method
        self.path = path
        super().__init__(f"{method} {path}: {message}", hint=hint)


class RequestTimeoutError(TransportError):
    default_hint = "HighLevel did not answer in time; raise the timeout or retry later"


class NetworkFailureError(TransportError):
    """Refused, reset, DNS or TLS failure: no connection carried the request (or it broke)."""

    default_hint = (
        "could not connect; check the base URL (--base-url, the config's base_url, GHL_BASE_URL)"
        " and that the server is reachable"
    )


class APIError(GHLSyncError):
    """HighLevel answered with an error status."""

    default_hint = "see the server's message; retrying will not help without a change"

    def __init__(
        self,
        *,
        status: int,
        method: str,
        path: str,
        messages: Sequence[str] = (),
        trace_id: str | None = None,
        body: Any = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.messages = [redact(m) for m in messages]
        self.trace_id = trace_id
        #: the server's decoded body, scrubbed of anything credential-like (``redact_value``)
        self.body = redact_value(body)
        detail = "; ".join(self.messages) or "no message"
        trace = f" [traceId {trace_id}]" if trace_id else ""
        super().__init__(f"{method} {path} -> {status}: {detail}{trace}", hint=hint)


class InvalidRequestError(APIError):
    """400 / 422: HighLevel refused the request's content; ``messages`` name the fields."""

    default_hint = "fix the fields the server names (a contact needs an email or a phone)"


class DuplicateContactError(InvalidRequestError):
    """Create refused because a contact with the same email or phone exists."""

    default_hint = "use upsert, or update the existing contact named in the error"

    def __init__(
        self, *, contact_id: str | None, matching_field: str | None, **kwargs: Any
    ) -> None:
        self.contact_id = contact_id
        self.matching_field = matching_field
        super().__init__(**kwargs)


class AuthError(APIError):
    """401. ``reason`` is ``"expired"``, ``"scope"`` or ``"invalid"``."""

    default_hint = "re-authorise: the token is invalid or expired"

    def __init__(self, *, reason: str = "invalid", scope: str | None = None, **kwargs: Any) -> None:
        self.reason = reason
        self.scope = scope
        if kwargs.get("hint") is None:
            if reason == "scope":
                needed = f"`{scope}`" if scope else "the scope this endpoint needs"
                kwargs["hint"] = f"the token lacks a scope: add {needed} to the app or token"
            elif reason == "expired":
                kwargs["hint"] = "the access token expired; refresh it or re-authorise"
        super().__init__(**kwargs)


class ForbiddenError(APIError):
    default_hint = "the token is for another sub-account (location); use that location's token"


class NotFoundError(APIError):
    default_hint = "the id does not exist in this location (or was deleted)"


class RateLimitError(APIError):
    """429 after retries, or the local daily budget is spent."""

    default_hint = "HighLevel's rate limit was reached; wait for the reset or spread the load"

    def __init__(
        self,
        *,
        location: str | None = None,
        reset_at: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        self.location = location
        self.reset_at = reset_at
        super().__init__(**kwargs)


class ServerError(APIError):
    default_hint = "HighLevel had a server error; retry later (retried automatically when safe)"


class MalformedResponseError(GHLSyncError):
    """An answer that cannot be used: not JSON, undecodable (bad gzip), or missing what the
    endpoint promises. ``method``/``path``/``status`` name the call when known."""

    default_hint = "HighLevel returned a body that is not the JSON expected; retry, then report it"

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        super().__init__(message, hint=hint)


class InvalidValueError(GHLSyncError):
    """A value refused before anything is sent: says which field, what value and why."""

    default_hint = "fix the value in the source data; the record was not sent"

    def __init__(self, field: str, value: object, reason: str, *, hint: str | None = None) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        super().__init__(f"{field}: {reason} (got {shown})", hint=hint)


class OutcomeUnknownError(GHLSyncError):
    """A non-idempotent write failed in a way that leaves its outcome unknown.

    It was not resent, so it cannot have been applied twice; it may have been applied once.
    """

    default_hint = "check whether the record exists before sending it again"

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        cause: BaseException | None = None,
        location_id: str | None = None,
        company_id: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.method = method
        self.path = path
        self.cause = cause
        #: the scope of the call and how many times it was sent (reconciliation needs them)
        self.location_id = location_id
        self.company_id = company_id
        self.attempts = attempts
        super().__init__(f"{method} {path}: outcome unknown: {message}")


class PaginationLoopError(MalformedResponseError):
    """The server handed back a cursor it had already given, or the same page again (it
    ignored ``skip``/``page``): paging would never end."""

    default_hint = (
        "HighLevel repeated a page (or its cursor); the records read so far are complete up to"
        " it. Report it with the path and page shown"
    )


class PaginationError(MalformedResponseError):
    """Paging cannot go on without losing records (e.g. no ``searchAfter`` past 10,000)."""

    default_hint = "the response lacks the cursor needed for the next page; nothing was skipped"


def error_for_status(
    *,
    status: int,
    method: str,
    path: str,
    body: Any,
    trace_id: str | None = None,
    required_scope: str | None = None,
) -> APIError:
    """Map an HTTP error answer to the right class of the tree (pure; no I/O).

    ``required_scope``: the OAuth scope the endpoint needs, when known (``AuthError.scope``)."""
    messages = _messages_of(body)
    if trace_id is None and isinstance(body, dict):
        raw_trace = body.get("traceId")
        trace_id = raw_trace if isinstance(raw_trace, str) else None
    common: dict[str, Any] = {
        "status": status,
        "method": method,
        "path": path,
        "messages": messages,
        "trace_id": trace_id,
        "body": body,
    }
    if status in (400, 422):
        meta = body.get("meta") if isinstance(body, dict) else None
        if status == 400 and isinstance(meta, dict) and meta.get("contactId"):
            return DuplicateContactError(
                contact_id=str(meta.get("contactId")),
                matching_field=str(meta.get("matchingField") or "") or None,
                **common,
            )
        return InvalidRequestError(**common)
    if status == 401:
        text = " ".join(messages).lower()
        if "scope" in text:
            return AuthError(reason="scope", scope=required_scope, **common)
        if "expired" in text or "jwt" in text:
            return AuthError(reason="expired", scope=required_scope, **common)
        return AuthError(reason="invalid", scope=required_scope, **common)
    if status == 403:
        return ForbiddenError(**common)
    if status == 404:
        return NotFoundError(**common)
    if status == 429:
        return RateLimitError(**common)
    if status >= 500:
        return ServerError(**common)
    return APIError(**common)


def _messages_of(body: Any) -> list[str]:
    if isinstance(body, dict):
        message = body.get("message", body.get("msg", body.get("error")))
        if isinstance(message, str):
            return [message]
        if isinstance(message, list):
            return [str(m) for m in message]
        return []
    if isinstance(body, str) and body:
        return [body[:500]]
    return []
