"""How push gets its client: the one place to switch to the shared run session.

Until ``ghlsync.client.session`` (``RunSession``) lands, ``open_client`` builds an
``AsyncGHLClient`` the way ``ghlsync extract`` does: per-location Private Integration tokens
(``--token``/``tokens``), else ``GHL_TOKEN`` and the token store, else the OAuth app's tokens;
one limiter for every location (each its own bucket), daily counts kept under ``GHLSYNC_HOME``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ghlsync.client import AsyncGHLClient, Auth, InMemoryLimiter, PrivateTokenAuth
from ghlsync.client.factory import auth_from_settings
from ghlsync.config import Settings

#: the rate-limit owner of a client built from Private Integration tokens
IDENTITY = "push"


def open_client(
    settings: Settings,
    *,
    tokens: Mapping[str, str] | None = None,
    token: str | None = None,
    base_url: str | None = None,
    rate_limit: bool = True,
    timeout_s: float = 30.0,
) -> AsyncGHLClient:
    """A client for every location of the run (``tokens``: location id -> token)."""
    auth: Auth
    if tokens or token:
        auth = PrivateTokenAuth(
            token or settings.token, tokens=dict(tokens or {}), identity=IDENTITY
        )
        owned: tuple[object, ...] = ()
    else:
        auth, store = auth_from_settings(settings)
        owned = (store,) if store is not None else ()
    limiter = InMemoryLimiter(daily_store=settings.rate_state_path) if rate_limit else None
    return AsyncGHLClient(
        auth,
        base_url=base_url or settings.base_url,
        api_version=settings.api_version,
        settings=settings,
        limiter=limiter,
        timeout=timeout_s,
        owned=(*owned, limiter) if limiter is not None else owned,  # type: ignore[arg-type]
    )
