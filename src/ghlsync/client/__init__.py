"""ghlsync.client: the HighLevel API client.

``AsyncGHLClient`` (async core) and ``GHLClient`` (its blocking twin), their parts (auth, token
store, limiter, retry policy, Version headers) and the typed resources. See ``docs/client.md``.
"""

from ghlsync.client._protocol import Requester
from ghlsync.client.auth import Auth, PrivateTokenAuth, Scope
from ghlsync.client.core import AsyncGHLClient
from ghlsync.client.limiter import (
    BucketKey,
    BudgetSnapshot,
    DailyBudgetExhausted,
    DailyCountStore,
    InMemoryLimiter,
    Limiter,
    NoLimiter,
    location_key,
)
from ghlsync.client.oauth import OAuthAuth, installed_location_ids
from ghlsync.client.retry import Decision, Failure, RetryPolicy, backoff_for, should_retry
from ghlsync.client.sync import GHLClient
from ghlsync.client.token_store import TokenInfo, TokenRecord, TokenStore
from ghlsync.client.versions import version_for

__all__ = [
    "AsyncGHLClient",
    "Auth",
    "BucketKey",
    "BudgetSnapshot",
    "DailyBudgetExhausted",
    "DailyCountStore",
    "Decision",
    "Failure",
    "GHLClient",
    "InMemoryLimiter",
    "Limiter",
    "NoLimiter",
    "OAuthAuth",
    "PrivateTokenAuth",
    "Requester",
    "RetryPolicy",
    "Scope",
    "TokenInfo",
    "TokenRecord",
    "TokenStore",
    "backoff_for",
    "installed_location_ids",
    "location_key",
    "should_retry",
    "version_for",
]
