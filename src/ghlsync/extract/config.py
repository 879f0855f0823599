"""What an extract connects to: base URL, locations and their tokens (a JSON file or arguments).

```json
{"base_url": "http://127.0.0.1:8765", "token": "pit-default (optional)",
 "locations": [{"id": "loc1", "token": "pit-..."}, "loc2"],
 "streams": ["contacts", "opportunities"], "start_date": "2026-01-01T00:00:00Z",
 "overlap_seconds": 300, "rate_limit": true, "outage_window_seconds": 300}
```
The same file is the Singer tap's ``--config``.

Agency (OAuth app) instead of Private Integration tokens: ``"oauth": {"client_id", "client_secret",
"company_id", "app_id", "token_store"}`` (client id/secret also from ``GHL_CLIENT_ID`` /
``GHL_CLIENT_SECRET``; the agency's tokens from ``ghlsync auth login --user-type Company``, kept
in the token store) and ``"installed": true`` to extract every location the app is installed in
(``GET /oauth/installedLocations``); each location's token is minted from the agency token
(``POST /oauth/locationToken``) and cached in the store.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ghlsync.errors import ConfigError

if TYPE_CHECKING:
    from ghlsync.client import AsyncGHLClient, Auth, BudgetSnapshot, Limiter
    from ghlsync.client.outage import OutageWatch

#: every key the config file (and the tap's --config, and Meltano's settings) may hold
CONFIG_KEYS = frozenset(
    {
        "base_url",
        "token",
        "locations",
        "location_ids",
        "streams",
        "start_date",
        "overlap_seconds",
        "page_size",
        "rate_limit",
        "burst",
        "interval",
        "api_version",
        "oauth",
        "installed",
        "outage_window_seconds",
    }
)
OAUTH_KEYS = {"client_id", "client_secret", "company_id", "app_id", "token_store"}


@dataclass
class OAuthConfig:
    """A Marketplace app's credentials and where its agency / location tokens live."""

    client_id: str
    client_secret: str = field(repr=False)
    company_id: str | None = None
    app_id: str | None = None
    #: the token store file (default: ghlsync's, under ``GHLSYNC_HOME``)
    token_store: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> OAuthConfig:
        unknown = sorted(set(data) - OAUTH_KEYS)
        if unknown:
            raise ConfigError(f"unknown oauth keys {unknown}", hint=f"use {sorted(OAUTH_KEYS)}")
        client_id = data.get("client_id") or os.environ.get("GHL_CLIENT_ID")
        client_secret = data.get("client_secret") or os.environ.get("GHL_CLIENT_SECRET")
        if not client_id or not client_secret:
            raise ConfigError(
                "oauth needs a client id and a client secret",
                hint='set "client_id"/"client_secret" or GHL_CLIENT_ID/GHL_CLIENT_SECRET',
            )
        return cls(
            client_id=str(client_id),
            client_secret=str(client_secret),
            company_id=data.get("company_id"),
            app_id=data.get("app_id"),
            token_store=data.get("token_store"),
        )


@dataclass
class ExtractConfig:
    locations: list[str]
    tokens: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    base_url: str | None = None
    streams: list[str] | None = None
    start_date: str | None = None
    overlap: dt.timedelta = dt.timedelta(minutes=5)
    #: client-side rate limiting (per location buckets); False only against an unlimited server
    rate_limit: bool = True
    api_version: str | None = None
    #: client-side burst budget per location (HighLevel: 100 requests per 10 s)
    burst: int = 100
    interval: float = 10.0
    #: records per contacts search page (HighLevel's maximum: 500)
    page_size: int = 500
    #: an OAuth app (agency) instead of Private Integration tokens
    oauth: OAuthConfig | None = None
    #: extract every location the OAuth app is installed in (added to ``locations``)
    installed: bool = False
    #: how long a call that gets no answer is retried (HighLevel down, network out)
    outage_window: float = 300.0
    #: the limiters ``limiter()`` made, so progress displays can read their budgets
    _limiters: list[Limiter] = field(default_factory=list, init=False, repr=False, compare=False)
    #: shared by the run's clients: "waiting for HighLevel" is said once, not once per stream
    _outage: OutageWatch | None = field(default=None, init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        # tokens never in a repr: only which locations have one
        return (
            f"ExtractConfig(locations={self.locations!r}, tokens={sorted(self.tokens)!r}, "
            f"token={'set' if self.token else 'unset'}, base_url={self.base_url!r}, "
            f"streams={self.streams!r}, oauth={self.oauth!r}, installed={self.installed})"
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ExtractConfig:
        unknown = sorted(set(data) - CONFIG_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown config keys {unknown}", hint=f"known keys: {sorted(CONFIG_KEYS)}"
            )
        locations: list[str] = []
        tokens: dict[str, str] = {}
        for item in data.get("locations") or data.get("location_ids") or []:
            if isinstance(item, str):
                locations.append(item)
            elif isinstance(item, Mapping) and isinstance(item.get("id"), str):
                locations.append(item["id"])
                if item.get("token"):
                    tokens[item["id"]] = str(item["token"])
            else:
                raise ConfigError(
                    f"bad location entry {item!r}", hint='use "id" or {"id", "token"}'
                )
        oauth = data.get("oauth")
        if oauth is not None and not isinstance(oauth, Mapping):
            raise ConfigError("oauth must be an object", hint='"oauth": {"client_id": ...}')
        installed = bool(data.get("installed", False))
        if installed and oauth is None:
            raise ConfigError(
                "installed locations need an OAuth app",
                hint='add "oauth": {"client_id", "client_secret", "company_id", "app_id"}',
            )
        if not locations and not installed:
            raise ConfigError(
                "no locations configured",
                hint='add "locations": ["<location id>"], or "installed": true with "oauth"',
            )
        start_date = data.get("start_date")
        if start_date:
            start_date = _checked_date(str(start_date))
        overlap = data.get("overlap_seconds")
        try:
            overlap_delta = (
                dt.timedelta(seconds=float(overlap)) if overlap is not None else cls.overlap
            )
            page_size = int(data.get("page_size", 500))
            burst = int(data.get("burst", 100))
            interval = float(data.get("interval", 10.0))
            outage_window = float(data.get("outage_window_seconds", 300.0))
        except (TypeError, ValueError) as error:
            raise ConfigError(
                f"bad number in config: {error}",
                hint="overlap_seconds, page_size, burst, interval, outage_window_seconds are "
                "numbers",
            ) from None
        if not 0 <= outage_window < float("inf"):
            raise ConfigError(
                f"outage_window_seconds must be 0 or more seconds, not {outage_window}",
                hint="e.g. 300 (0: give up after the client's attempts)",
            )
        streams = data.get("streams")
        if streams is not None and (
            not isinstance(streams, list) or not all(isinstance(x, str) for x in streams)
        ):
            raise ConfigError("streams must be a list of names", hint='"streams": ["contacts"]')
        return cls(
            locations=locations,
            tokens=tokens,
            token=data.get("token") or os.environ.get("GHL_TOKEN"),
            base_url=data.get("base_url") or os.environ.get("GHL_BASE_URL"),
            streams=list(streams) if streams else None,
            start_date=start_date,
            overlap=overlap_delta,
            rate_limit=bool(data.get("rate_limit", True)),
            api_version=data.get("api_version"),
            page_size=page_size,
            burst=burst,
            interval=interval,
            oauth=OAuthConfig.from_mapping(oauth) if oauth is not None else None,
            installed=installed,
            outage_window=outage_window,
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ExtractConfig:
        return cls.from_mapping(read_json(path, "config"))

    def limiter(self) -> Limiter | None:
        """One limiter to share between the clients of a run (None: rate limiting off)."""
        from ghlsync.extract.limits import MarginLimiter

        if not self.rate_limit:
            return None
        made = MarginLimiter(self.burst, self.interval)
        self._limiters.append(made)
        return made

    @property
    def identity(self) -> str:
        """The rate-limit owner the client's buckets are keyed by (as its ``Auth`` says)."""
        return f"app:{self.oauth.client_id}" if self.oauth is not None else "extract"

    def budget(self, location_id: str) -> BudgetSnapshot | None:
        """What the run's limiter last knew of ``location_id``'s budget (None: unknown)."""
        from ghlsync.client import location_key

        key = location_key(self.identity, location_id)
        for limiter in reversed(self._limiters):
            snapshot = getattr(limiter, "snapshot", None)
            found = snapshot(key) if snapshot is not None else None
            if found is not None:
                return cast("BudgetSnapshot", found)
        return None

    def auth(self) -> Auth:
        """Private Integration tokens, or the OAuth app's tokens from the token store."""
        from ghlsync.client import OAuthAuth, PrivateTokenAuth, TokenStore
        from ghlsync.config import Settings

        if self.oauth is None:
            return PrivateTokenAuth(self.token, tokens=self.tokens, identity="extract")
        settings = Settings.from_env()
        store = TokenStore(
            self.oauth.token_store or settings.token_store_path, secret_key=settings.secret_key
        )
        return OAuthAuth(
            client_id=self.oauth.client_id,
            client_secret=self.oauth.client_secret,
            store=store,
            company_id=self.oauth.company_id,
            app_id=self.oauth.app_id,
        )

    def client(self, limiter: Limiter | None = None) -> AsyncGHLClient:
        """A client for every configured location (``limiter`` shared across clients)."""
        from ghlsync.client import AsyncGHLClient, OAuthAuth, RetryPolicy
        from ghlsync.client.outage import OutageWatch

        auth = self.auth()
        owned = (auth.store,) if isinstance(auth, OAuthAuth) else ()
        shared = limiter if limiter is not None else self.limiter()
        if self._outage is None:
            self._outage = OutageWatch()
        return AsyncGHLClient(
            auth,
            base_url=self.base_url,
            api_version=self.api_version,
            limiter=shared,
            owned=owned,
            retry=RetryPolicy(outage_window_s=self.outage_window),
            outage=self._outage,
        )

    async def installed_locations(self) -> list[str]:
        """Where the OAuth app is installed (every page of ``GET /oauth/installedLocations``)."""
        from ghlsync.client import OAuthAuth

        async with self.client() as client:
            auth = client.auth
            if not isinstance(auth, OAuthAuth):
                raise ConfigError("installed locations need an OAuth app", hint='add "oauth"')
            return [location_id async for location_id in auth.installed_locations()]

    def resolve_locations(self) -> list[str]:
        """With ``installed``: add the app's installed locations to ``locations`` (once)."""
        if self.installed:
            import asyncio

            found = asyncio.run(self.installed_locations())
            self.locations = list(dict.fromkeys([*self.locations, *found]))
            self.installed = False  # resolved
            if not self.locations:
                raise ConfigError(
                    "the OAuth app is installed in no location",
                    hint="install it in a sub-account, or list locations explicitly",
                )
        return self.locations


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """A JSON file's content, or a ``ConfigError`` naming the file and the problem."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{what} file {path} does not exist", hint="check the path (relative to this directory)"
        ) from None
    except OSError as error:
        raise ConfigError(
            f"cannot read {what} file {path}: {error.strerror}", hint="check its permissions"
        ) from None
    except ValueError as error:
        # the position only: the message never quotes the file (it may hold tokens)
        where = f"line {error.lineno}" if hasattr(error, "lineno") else "somewhere"
        raise ConfigError(
            f"{what} file {path} is not valid JSON ({where})", hint="fix the JSON syntax"
        ) from None


def _checked_date(value: str) -> str:
    """``value`` if it is an ISO date or timestamp (a date means its midnight UTC)."""
    from ghlsync.extract.state import parse_ts

    try:
        parse_ts(value)
    except ValueError:
        raise ConfigError(
            f"start_date {value!r} is not an ISO date",
            hint="e.g. 2026-01-01 or 2026-01-01T00:00:00Z",
        ) from None
    return value
