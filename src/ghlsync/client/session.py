"""``RunSession``: the I/O side of a run (tokens, clients, one limiter, budgets, locations).

A config is a value (``Connection``, parsed once, frozen); everything that needs I/O lives in
the session that ``open_session`` builds from ``Settings`` plus that value. ``ghlsync extract``,
``push`` and ``serve`` all build theirs here, so they resolve tokens the same way
(``ghlsync.client.resolution``: flag, config, token store, environment, OAuth), share one
limiter per run and find an agency's locations the same way.

```python
from ghlsync.client.session import Connection, open_session
from ghlsync.config import Settings

connection = Connection.from_mapping({"locations": ["loc1"], "base_url": "http://127.0.0.1:8765"})
async with open_session(Settings.from_env(), connection) as session:
    for location_id in await session.locations():
        page = await session.client.contacts.search(location_id, page_limit=10)
        print(location_id, session.budget(location_id))
```

A run driven by another event loop (dlt runs a source's async generators on its own) takes a
client per task with ``session.new_client()``; each shares the session's limiter, so
``budget()`` sees every call of the run. Without ``async with``, call ``close()`` (sync) or
``aclose()`` at the end: it flushes the limiter's daily counts and closes the token store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ghlsync.client.connection import Connection, LocationEntry, OAuthApp
from ghlsync.client.core import AsyncGHLClient
from ghlsync.client.limiter import BudgetSnapshot, InMemoryLimiter, Limiter, location_key
from ghlsync.client.oauth import OAuthAuth
from ghlsync.client.outage import OutageWatch
from ghlsync.client.resolution import SOURCES, OAuthCredentials, TokenChain, resolve_auth
from ghlsync.client.retry import RetryPolicy
from ghlsync.client.token_store import TokenStore
from ghlsync.config import Settings
from ghlsync.errors import ConfigError


class RunSession:
    """Clients, tokens, one limiter and the budgets of one run; see the module docstring.

    Build it with ``open_session``. ``client`` is the session's own client (inside
    ``async with``); ``new_client()`` makes another on the running loop, sharing the limiter.
    """

    def __init__(
        self,
        settings: Settings,
        connection: Connection,
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self.settings = settings
        self.connection = connection
        self.base_url = (connection.base_url or settings.base_url).rstrip("/")
        self.api_version = connection.api_version or settings.api_version
        self._flag = token or None
        self._transport = transport
        self._credentials = OAuthCredentials.of(connection.oauth, settings)  # ConfigError
        #: the rate-limit owner of every client of this session (``Auth.identity``)
        self.identity = self._credentials.identity if self._credentials else "private"
        self._owns_limiter = limiter is None
        if limiter is None and connection.rate_limit:
            limiter = InMemoryLimiter(
                burst=connection.burst,
                interval=connection.interval,
                daily_store=settings.rate_state_path,
            )
        #: the run's one limiter (None: client-side limiting off)
        self.limiter = limiter
        #: shared by the run's clients: "waiting for HighLevel" is said once, not once per task
        self.outage = OutageWatch()
        self._stores: dict[Path, TokenStore] = {}
        self._client: AsyncGHLClient | None = None
        self._installed: list[str] | None = None  # found once per session
        self._closed = False

    # -- tokens -------------------------------------------------------------------------------

    def _store(self, path: Path, *, create: bool) -> TokenStore | None:
        if path not in self._stores:
            if not create and not path.exists():
                return None
            self._stores[path] = TokenStore(path, secret_key=self.settings.secret_key)
        return self._stores[path]

    def auth(self) -> TokenChain:
        """A fresh ``Auth`` resolving tokens in the documented order (one per client: an OAuth
        auth is bound to the client that calls ``/oauth/*`` for it)."""
        return resolve_auth(
            self.settings, self.connection, token=self._flag, open_store=self._store
        )

    def token_source(self, location_id: str) -> str | None:
        """Where ``location_id``'s token comes from: one of ``SOURCES`` (None: nowhere)."""
        return self.auth().source(location_id)

    # -- clients ------------------------------------------------------------------------------

    def new_client(self, **options: Any) -> AsyncGHLClient:
        """A client on the running event loop, sharing this session's limiter; close it (or
        use ``async with``) when its task is done. ``options``: other ``AsyncGHLClient``
        arguments (``retry``, ``timeout``...)."""
        if self._closed:
            raise RuntimeError("this RunSession is closed")
        options.setdefault(
            "retry", RetryPolicy(outage_window_s=self.connection.outage_window_seconds)
        )
        options.setdefault("outage", self.outage)
        return AsyncGHLClient(
            self.auth(),
            base_url=self.base_url,
            api_version=self.api_version,
            settings=self.settings,
            transport=self._transport,
            limiter=self.limiter,
            **options,
        )

    @property
    def client(self) -> AsyncGHLClient:
        """The session's own client (made on ``async with`` entry, or on first use)."""
        if self._client is None:
            self._client = self.new_client()
        return self._client

    # -- locations and budgets ----------------------------------------------------------------

    async def locations(self, explicit: Sequence[str] = ()) -> list[str]:
        """The run's locations: ``explicit`` (else the connection's), plus, with
        ``installed``, every location the OAuth app is installed in (``GET
        /oauth/installedLocations``, every page; asked once per session). ``ConfigError``
        when there are none."""
        listed = list(explicit) or list(self.connection.location_ids)
        if self.connection.installed:
            if self._installed is None:
                self._installed = await self._discover()
            found = self._installed
            listed = list(dict.fromkeys([*listed, *found]))
            if not listed:
                raise ConfigError(
                    "the OAuth app is installed in no location",
                    hint="install it in a sub-account, or list locations explicitly",
                )
        if not listed:
            raise ConfigError(
                "no locations configured",
                hint='add "locations": ["<location id>"], or "installed": true with "oauth"',
            )
        return listed

    async def _discover(self) -> list[str]:
        # a short-lived client: this may run on a loop of its own (``asyncio.run``) before the
        # run's clients are made on another
        async with self.new_client() as client:
            auth = client.auth
            oauth = auth.oauth if isinstance(auth, TokenChain) else None
            if not isinstance(oauth, OAuthAuth):  # pragma: no cover - checked on construction
                raise ConfigError("installed locations need an OAuth app", hint='add "oauth"')
            return [location_id async for location_id in oauth.installed_locations()]

    def budget(self, location_id: str) -> BudgetSnapshot | None:
        """What the run's limiter last knew of ``location_id``'s budget (None: unknown, or
        rate limiting is off). No I/O: safe to call from a progress display's thread."""
        if self.limiter is None:
            return None
        return self.limiter.snapshot(location_key(self.identity, location_id))

    # -- life cycle ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the session's client, flush and close the limiter, close the token stores."""
        if self._closed:
            return
        self._closed = True
        if self._client is not None:
            await self._client.aclose()
        if self.limiter is not None:
            if self._owns_limiter:
                await self.limiter.aclose()
            else:
                await self.limiter.flush()
        for store in self._stores.values():
            store.close()

    def close(self) -> None:
        """``aclose`` from synchronous code (no event loop running in this thread)."""
        if not self._closed:
            asyncio.run(self.aclose())

    async def __aenter__(self) -> RunSession:
        _ = self.client
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __enter__(self) -> RunSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"RunSession(base_url={self.base_url!r}, identity={self.identity!r}, "
            f"locations={list(self.connection.location_ids)!r}, "
            f"installed={self.connection.installed}, "
            f"rate_limit={'on' if self.limiter is not None else 'off'})"
        )


def open_session(
    settings: Settings,
    connection: Connection,
    *,
    token: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    limiter: Limiter | None = None,
) -> RunSession:
    """The one factory of run sessions (extract, push and serve use it).

    ``settings``: ``Settings.from_env()`` (the only place the environment is read).
    ``token``: a ``--token`` flag, first in the resolution order. ``transport``: replaces the
    network (``httpx.ASGITransport(app=create_app(...))`` in tests). ``limiter``: replaces the
    session's own (``InMemoryLimiter`` with the connection's burst/interval and the daily counts
    under ``GHLSYNC_HOME``; none with ``rate_limit: false``). No I/O until first used;
    ``ConfigError`` now for an OAuth app without credentials.

    Example::

        async with open_session(Settings.from_env(), Connection.from_mapping(data)) as session:
            ids = await session.locations()
    """
    return RunSession(settings, connection, token=token, transport=transport, limiter=limiter)


__all__ = [
    "SOURCES",
    "BudgetSnapshot",
    "Connection",
    "LocationEntry",
    "OAuthApp",
    "RunSession",
    "TokenChain",
    "open_session",
]
