"""Token administration behind ``ghlsync auth``: status, add a Private Integration token, log in.

Plain functions over ``Settings`` and the ``TokenStore``; the CLI is a thin layer over them.
Nothing here returns or prints a token.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import httpx

from ghlsync.client.core import AsyncGHLClient
from ghlsync.client.resolution import OAuthCredentials
from ghlsync.client.token_store import TokenInfo, TokenRecord, TokenStore
from ghlsync.config import Settings
from ghlsync.errors import ConfigError


@dataclass(frozen=True)
class TokenStatus:
    """One row of ``ghlsync auth status``."""

    kind: str
    company_id: str | None
    location_id: str | None
    scopes: list[str]
    expires_at: dt.datetime | None
    expires_in: float | None  # seconds; negative when expired
    refreshable: bool

    @property
    def state(self) -> str:
        if self.expires_in is None:
            return "no expiry"
        if self.expires_in <= 0:
            return "expired" + (" (refreshable)" if self.refreshable else "")
        hours, rest = divmod(int(self.expires_in), 3600)
        return f"expires in {hours}h{rest // 60:02d}m"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "company_id": self.company_id,
            "location_id": self.location_id,
            "scopes": self.scopes,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "state": self.state,
            "refreshable": self.refreshable,
        }


def _status_of(info: TokenInfo, now: float) -> TokenStatus:
    expires = info.expires_at
    return TokenStatus(
        kind=info.kind,
        company_id=info.company_id,
        location_id=info.location_id,
        scopes=info.scopes.split(),
        expires_at=dt.datetime.fromtimestamp(expires, dt.UTC) if expires else None,
        expires_in=expires - now if expires else None,
        refreshable=info.has_refresh_token,
    )


def token_status(settings: Settings | None = None) -> list[TokenStatus]:
    """What the token store holds: kind, ids, scopes, expiry (never the tokens)."""
    settings = settings or Settings.from_env()
    if not settings.token_store_path.exists():
        return []
    store = TokenStore.from_settings(settings)
    try:
        now = time.time()
        return [_status_of(info, now) for info in store.list()]
    finally:
        store.close()


def add_private_token(
    location_id: str, token: str, *, scopes: str = "", settings: Settings | None = None
) -> TokenStatus:
    """Store a Private Integration ``token`` for ``location_id`` (replacing any previous one)."""
    token = token.strip()
    if not location_id or not token:
        raise ConfigError("a location id and a non-empty token are needed")
    if any(c.isspace() for c in token):
        raise ConfigError("the token contains whitespace; paste it exactly as HighLevel shows it")
    settings = settings or Settings.from_env()
    store = TokenStore.from_settings(settings)
    try:
        now = time.time()
        store.put(
            TokenRecord(
                kind="private",
                location_id=location_id,
                access_token=token,
                scopes=scopes,
                updated_at=now,
            )
        )
        info = store.list()
    finally:
        store.close()
    match = [i for i in info if i.kind == "private" and i.location_id == location_id]
    return _status_of(match[0], now)


async def login_with_code(
    code: str,
    *,
    user_type: str = "Location",
    redirect_uri: str | None = None,
    settings: Settings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TokenStatus:
    """Exchange an OAuth authorization ``code`` and store the tokens (needs GHL_CLIENT_ID and
    GHL_CLIENT_SECRET)."""
    settings = settings or Settings.from_env()
    credentials = OAuthCredentials.of(None, settings)
    if credentials is None:
        raise ConfigError("OAuth login needs GHL_CLIENT_ID and GHL_CLIENT_SECRET")
    store = TokenStore.from_settings(settings)
    auth = credentials.auth(store, redirect_uri=redirect_uri)
    try:
        async with AsyncGHLClient(auth, settings=settings, transport=transport, limiter=None):
            record = await auth.exchange_code(code, user_type=user_type)
    finally:
        store.close()
    return _status_of(record.info(), time.time())


async def installed_locations(
    company_id: str | None = None,
    app_id: str | None = None,
    *,
    settings: Settings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[str]:
    """Ids of the locations where the OAuth app is installed (uses the stored agency token)."""
    settings = settings or Settings.from_env()
    credentials = OAuthCredentials.of(None, settings)
    if credentials is None:
        raise ConfigError("listing installed locations needs GHL_CLIENT_ID and GHL_CLIENT_SECRET")
    store = TokenStore.from_settings(settings)
    auth = credentials.auth(store, company_id=company_id, app_id=app_id)
    try:
        async with AsyncGHLClient(auth, settings=settings, transport=transport):
            return [location async for location in auth.installed_locations()]
    finally:
        store.close()
