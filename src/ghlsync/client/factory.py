"""Build the client's parts (auth, limiter, stores) from ``Settings``."""

from __future__ import annotations

from typing import Any

from ghlsync.client.auth import PrivateTokenAuth
from ghlsync.client.limiter import InMemoryLimiter
from ghlsync.config import Settings


def components_from_settings(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``AsyncGHLClient`` from ``settings``; ``overrides`` win."""
    parts: dict[str, Any] = {}
    owned: list[Any] = []
    if "auth" not in overrides:
        parts["auth"] = PrivateTokenAuth(settings.token)
    if "limiter" not in overrides:
        parts["limiter"] = InMemoryLimiter(daily_store=settings.home / "ratelimit.sqlite3")
    parts["owned"] = (*owned, *overrides.pop("owned", ()))
    parts.update(overrides)
    return parts
