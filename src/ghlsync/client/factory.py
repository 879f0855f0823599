"""Build the client's parts (auth, token store, limiter) from ``Settings``."""

from __future__ import annotations

from typing import Any

from ghlsync.client.auth import Auth, PrivateTokenAuth
from ghlsync.client.limiter import InMemoryLimiter
from ghlsync.client.oauth import OAuthAuth
from ghlsync.client.token_store import TokenStore
from ghlsync.config import Settings

#: the file name of ``Settings.rate_state_path``
RATE_STATE_FILE = "ratelimit.sqlite3"


def auth_from_settings(settings: Settings, **oauth_options: Any) -> tuple[Auth, TokenStore | None]:
    """OAuth when ``GHL_CLIENT_ID``/``GHL_CLIENT_SECRET`` are set, else Private Integration
    tokens (``GHL_TOKEN`` and/or per-location tokens in the store). Returns the store opened."""
    if settings.client_id and settings.client_secret:
        store = TokenStore.from_settings(settings)
        auth = OAuthAuth(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            store=store,
            **oauth_options,
        )
        return auth, store
    opened = TokenStore.from_settings(settings) if settings.token_store_path.exists() else None
    return PrivateTokenAuth(settings.token, store=opened), opened


def components_from_settings(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``AsyncGHLClient`` from ``settings``; ``overrides`` win."""
    parts: dict[str, Any] = {}
    owned: list[Any] = list(overrides.pop("owned", ()))
    oauth_options = overrides.pop("oauth_options", {})
    if "auth" not in overrides:
        auth, store = auth_from_settings(settings, **oauth_options)
        parts["auth"] = auth
        if store is not None:
            owned.append(store)
    if "limiter" not in overrides:
        parts["limiter"] = InMemoryLimiter(daily_store=settings.rate_state_path)
        owned.append(parts["limiter"])
    parts["owned"] = tuple(owned)
    parts.update(overrides)
    return parts
