"""When to resend a call and how long to wait first: pure functions, no sleeping.

``should_retry`` decides from what happened (an HTTP status, or how the transport failed),
whether the call is idempotent, and how many attempts were made. ``backoff_for`` picks the wait:
``Retry-After`` when HighLevel sends it, else the rate-limit interval for a 429, else exponential
backoff with full jitter, capped.

Riding out an outage: a transport failure (no answer at all: connection refused, reset, timed
out) is retried past ``max_attempts`` for as long as the call has been failing for less than
``outage_window_s`` (default 5 minutes), waiting at most ``outage_poll_s`` between attempts, so a
server restart or a network blip does not fail a long extract. The caller measures how long the
call has been failing (``failing_s``) with its own clock; nothing here reads the time.

The rule that matters: a non-idempotent call (a POST not marked ``idempotent=True``) is never
resent once it may have reached the server (read timeout, connection reset after sending, 5xx);
the caller gets ``Decision.UNKNOWN`` and raises ``OutcomeUnknownError``. A 429 and a refused
connection are safe to resend: nothing was processed.
"""

from __future__ import annotations

import email.utils
import enum
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class Failure(enum.Enum):
    """How a call failed without an HTTP answer."""

    NOT_SENT = "not_sent"  # connect refused / connect timeout / pool timeout: nothing left here
    MAYBE_SENT = "maybe_sent"  # read/write timeout, reset or protocol error after sending began
    #: an answer came but its body could not be decoded: not an outage (no window)
    UNDECODABLE = "undecodable"
    #: the request cannot be sent at all (a URL scheme httpx cannot speak): never retried
    UNSENDABLE = "unsendable"


class Decision(enum.Enum):
    RETRY = "retry"
    GIVE_UP = "give_up"  # raise the mapped error
    UNKNOWN = "unknown"  # a write may have happened: raise OutcomeUnknownError, never resend


@dataclass(frozen=True)
class RetryPolicy:
    """How persistent the client is. ``max_attempts`` counts the first try."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({429, 500, 502, 503, 504})
    )
    #: Longest wait for one retry: a longer ``Retry-After`` is cut to this (a daily limit
    #: is the limiter's business, which raises instead of waiting for hours).
    max_retry_after: float = 120.0
    #: How long a call keeps retrying transport failures (no answer) past ``max_attempts``,
    #: counted from its first failure; 0 = ``max_attempts`` only.
    outage_window_s: float = 300.0
    #: Longest wait between two attempts of a call that gets no answer (the server is polled).
    outage_poll_s: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.outage_window_s < float("inf"):
            raise ValueError("outage_window_s must be a finite number of seconds >= 0")


NO_RETRY = RetryPolicy(max_attempts=1)


def is_idempotent(method: str, idempotent: bool | None) -> bool:
    """The caller's override, else the method's default (GET/PUT/DELETE yes, POST/PATCH no)."""
    if idempotent is not None:
        return idempotent
    return method.upper() in IDEMPOTENT_METHODS


def should_retry(
    policy: RetryPolicy,
    *,
    attempt: int,
    idempotent: bool,
    status: int | None = None,
    failure: Failure | None = None,
    failing_s: float = 0.0,
) -> Decision:
    """Decide after attempt number ``attempt`` (1-based) answered ``status`` or failed ``failure``.

    ``failing_s``: how long the call has been failing (since its first failed attempt); a
    transport failure is retried past ``max_attempts`` while it is under ``outage_window_s``.
    """
    if status is not None:
        if status == 429:
            return Decision.RETRY if attempt < policy.max_attempts else Decision.GIVE_UP
        if status >= 500:
            if not idempotent:
                return Decision.UNKNOWN
            if status in policy.retry_statuses and attempt < policy.max_attempts:
                return Decision.RETRY
            return Decision.GIVE_UP
        return Decision.GIVE_UP
    if failure in (Failure.MAYBE_SENT, Failure.UNDECODABLE) and not idempotent:
        return Decision.UNKNOWN
    if failure is Failure.UNSENDABLE:
        return Decision.GIVE_UP
    if failure is Failure.UNDECODABLE:
        return Decision.RETRY if attempt < policy.max_attempts else Decision.GIVE_UP
    if failure is not None:
        persist = attempt < policy.max_attempts or failing_s < policy.outage_window_s
        return Decision.RETRY if persist else Decision.GIVE_UP
    return Decision.GIVE_UP


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta-seconds or an HTTP date), or ``None``."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if now is None:
        return None
    return max(0.0, when.timestamp() - now)


def backoff_for(
    policy: RetryPolicy,
    attempt: int,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
    rand: Callable[[], float] = random.random,
    now: float | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1``.

    ``Retry-After`` wins when present (capped by ``max_retry_after``); a 429 without it waits
    for the rate-limit window (``X-RateLimit-Interval-Milliseconds``) when the headers say the
    burst is spent; otherwise full jitter: ``uniform(0, min(max_delay, base * 2**(attempt-1)))``,
    with ``outage_poll_s`` for ``max_delay`` after a transport failure (``status`` None).
    """
    headers = headers or {}
    retry_after = parse_retry_after(_get(headers, "retry-after"), now=now)
    if retry_after is not None:
        return min(retry_after, policy.max_retry_after)
    if status == 429:
        interval_ms = _number(_get(headers, "x-ratelimit-interval-milliseconds"))
        remaining = _number(_get(headers, "x-ratelimit-remaining"))
        if interval_ms is not None and (remaining is None or remaining <= 0):
            # The window is spent; the server will not say when it began, so wait one window
            # at most, jittered in its upper half so that many waiters do not return together.
            window = interval_ms / 1000.0
            return min(window * (0.5 + 0.5 * rand()), policy.max_retry_after)
    cap = policy.max_delay if status is not None else min(policy.max_delay, policy.outage_poll_s)
    ceiling = min(cap, policy.base_delay * (2 ** min(attempt - 1, 60)))
    return float(ceiling * rand())


def _get(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
