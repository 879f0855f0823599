"""``should_retry`` and ``backoff_for`` are pure: no sleeping, no sockets."""

from __future__ import annotations

import pytest

from ghlsync.client.retry import (
    Decision,
    Failure,
    RetryPolicy,
    backoff_for,
    is_idempotent,
    parse_retry_after,
    should_retry,
)

#: no outage window here (``max_attempts`` alone decides); the outage tests have their own
POLICY = RetryPolicy(
    max_attempts=3, base_delay=1.0, max_delay=8.0, outage_window_s=0.0, outage_poll_s=8.0
)
OUTAGE = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=30.0, outage_window_s=60.0)


@pytest.mark.parametrize(
    ("status", "failure", "idempotent", "attempt", "expected"),
    [
        (429, None, False, 1, Decision.RETRY),  # nothing processed: even a POST
        (429, None, True, 3, Decision.GIVE_UP),  # out of attempts
        (500, None, True, 1, Decision.RETRY),
        (503, None, True, 2, Decision.RETRY),
        (502, None, True, 3, Decision.GIVE_UP),
        (500, None, False, 1, Decision.UNKNOWN),  # a POST may have been applied
        (501, None, True, 1, Decision.GIVE_UP),  # not a transient status
        (400, None, True, 1, Decision.GIVE_UP),
        (404, None, False, 1, Decision.GIVE_UP),
        (None, Failure.NOT_SENT, False, 1, Decision.RETRY),  # connect refused: safe
        (None, Failure.NOT_SENT, True, 3, Decision.GIVE_UP),
        (None, Failure.MAYBE_SENT, True, 1, Decision.RETRY),  # read timeout on a GET
        (None, Failure.MAYBE_SENT, False, 1, Decision.UNKNOWN),  # read timeout on a POST
        (None, Failure.MAYBE_SENT, False, 3, Decision.UNKNOWN),
    ],
)
def test_should_retry(
    status: int | None,
    failure: Failure | None,
    idempotent: bool,
    attempt: int,
    expected: Decision,
) -> None:
    decision = should_retry(
        POLICY, attempt=attempt, idempotent=idempotent, status=status, failure=failure
    )
    assert decision is expected


def test_idempotency_defaults_and_override() -> None:
    assert is_idempotent("get", None) and is_idempotent("PUT", None)
    assert is_idempotent("DELETE", None)
    assert not is_idempotent("POST", None) and not is_idempotent("PATCH", None)
    assert is_idempotent("POST", True) and not is_idempotent("GET", False)


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    assert backoff_for(POLICY, 1, rand=lambda: 1.0) == 1.0
    assert backoff_for(POLICY, 2, rand=lambda: 1.0) == 2.0
    assert backoff_for(POLICY, 3, rand=lambda: 1.0) == 4.0
    assert backoff_for(POLICY, 10, rand=lambda: 1.0) == 8.0  # capped
    assert backoff_for(POLICY, 10, rand=lambda: 0.0) == 0.0  # full jitter reaches 0
    assert backoff_for(POLICY, 3, rand=lambda: 0.5) == 2.0


def test_retry_after_wins_and_is_capped() -> None:
    assert backoff_for(POLICY, 1, status=429, headers={"Retry-After": "7"}) == 7.0
    assert backoff_for(POLICY, 1, status=503, headers={"retry-after": "2.5"}) == 2.5
    assert backoff_for(POLICY, 1, headers={"Retry-After": "100000"}) == POLICY.max_retry_after


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412500.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412500.0) == 0.0
    assert parse_retry_after("garbage") is None and parse_retry_after(None) is None


def test_429_without_retry_after_waits_for_the_interval_header() -> None:
    headers = {"X-RateLimit-Interval-Milliseconds": "10000", "X-RateLimit-Remaining": "0"}
    assert backoff_for(POLICY, 1, status=429, headers=headers, rand=lambda: 0.0) == 5.0
    assert backoff_for(POLICY, 1, status=429, headers=headers, rand=lambda: 1.0) == 10.0
    # budget left per the headers: plain backoff
    headers["X-RateLimit-Remaining"] = "5"
    assert backoff_for(POLICY, 1, status=429, headers=headers, rand=lambda: 1.0) == 1.0


def test_policy_refuses_zero_attempts() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    ("failure", "idempotent", "attempt", "failing_s", "expected"),
    [
        (Failure.NOT_SENT, True, 3, 0.0, Decision.RETRY),  # out of attempts, inside the window
        (Failure.NOT_SENT, False, 40, 59.9, Decision.RETRY),  # refused: safe even for a POST
        (Failure.NOT_SENT, True, 40, 60.0, Decision.GIVE_UP),  # the window is over
        (Failure.MAYBE_SENT, True, 12, 30.0, Decision.RETRY),  # a GET that timed out
        (Failure.MAYBE_SENT, False, 1, 0.0, Decision.UNKNOWN),  # a POST: never resent
    ],
)
def test_transport_failures_are_retried_for_the_outage_window(
    failure: Failure, idempotent: bool, attempt: int, failing_s: float, expected: Decision
) -> None:
    decision = should_retry(
        OUTAGE, attempt=attempt, idempotent=idempotent, failure=failure, failing_s=failing_s
    )
    assert decision is expected


def test_the_outage_window_does_not_stretch_5xx_or_429() -> None:
    for status in (429, 503):
        decision = should_retry(OUTAGE, attempt=3, idempotent=True, status=status, failing_s=1.0)
        assert decision is Decision.GIVE_UP


def test_an_unreachable_server_is_polled_at_most_every_outage_poll_s() -> None:
    assert backoff_for(OUTAGE, 30, rand=lambda: 1.0) == OUTAGE.outage_poll_s == 5.0
    assert backoff_for(OUTAGE, 30, status=503, rand=lambda: 1.0) == 30.0  # an answer: max_delay


def test_policy_refuses_a_negative_or_endless_window() -> None:
    for window in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            RetryPolicy(outage_window_s=window)
