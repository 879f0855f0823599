"""Build the client's parts (auth, token store, limiter) from ``Settings``.

The token resolution is ``ghlsync.client.resolution`` (the one every command uses): token store,
``GHL_TOKEN``, then the OAuth app of ``GHL_CLIENT_ID``/``GHL_CLIENT_SECRET``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ghlsync.client.auth import Auth
from ghlsync.client.limiter import InMemoryLimiter
from ghlsync.client.resolution import resolve_auth
from ghlsync.client.token_store import TokenStore
from ghlsync.config import Settings

#: the file name of ``Settings.rate_state_path``
RATE_STATE_FILE = "ratelimit.sqlite3"


def auth_from_settings(settings: Settings, **oauth_options: Any) -> tuple[Auth, list[TokenStore]]:
    """The ``TokenChain`` of ``settings`` (no config, no flag) and the stores it opened."""
    opened: dict[Path, TokenStore] = {}

    def open_store(path: Path, *, create: bool) -> TokenStore | None:
        if path not in opened:
            if not create and not path.exists():
                return None
            opened[path] = TokenStore(path, secret_key=settings.secret_key)
        return opened[path]

    auth = resolve_auth(settings, open_store=open_store, **oauth_options)
    return auth, list(opened.values())


def components_from_settings(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``AsyncGHLClient`` from ``settings``; ``overrides`` win."""
    parts: dict[str, Any] = {}
    owned: list[Any] = list(overrides.pop("owned", ()))
    oauth_options = overrides.pop("oauth_options", {})
    if "auth" not in overrides:
        auth, stores = auth_from_settings(settings, **oauth_options)
        parts["auth"] = auth
        owned.extend(stores)
    if "limiter" not in overrides:
        parts["limiter"] = InMemoryLimiter(daily_store=settings.rate_state_path)
        owned.append(parts["limiter"])
    parts["owned"] = tuple(owned)
    parts.update(overrides)
    return parts
