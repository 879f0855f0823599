"""ghlsync.client: the HighLevel API client.

``AsyncGHLClient`` (async core) and ``GHLClient`` (its blocking twin), their parts (auth, token
store, limiter, retry policy, Version headers) and the typed resources. See ``docs/client.md``.
"""

from ghlsync.client._protocol import Requester
from ghlsync.client.auth import Auth, PrivateTokenAuth, Scope
from ghlsync.client.core import AsyncGHLClient
from ghlsync.client.limiter import (
    BucketKey,
    DailyBudgetExhausted,
    DailyCountStore,
    InMemoryLimiter,
    Limiter,
    NoLimiter,
)
from ghlsync.client.retry import RetryPolicy, backoff_for, should_retry
from ghlsync.client.sync import GHLClient
from ghlsync.client.versions import version_for

__all__ = [
    "AsyncGHLClient",
    "Auth",
    "BucketKey",
    "DailyBudgetExhausted",
    "DailyCountStore",
    "GHLClient",
    "InMemoryLimiter",
    "Limiter",
    "NoLimiter",
    "PrivateTokenAuth",
    "Requester",
    "RetryPolicy",
    "Scope",
    "backoff_for",
    "should_retry",
    "version_for",
]
