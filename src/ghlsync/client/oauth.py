"""OAuth 2.0 for HighLevel apps: code exchange, rotating refresh, agency -> location tokens.

Tokens live in the ``TokenStore``:

| row                          | kind       | company_id | location_id | refresh token |
| ---------------------------- | ---------- | ---------- | ----------- | ------------- |
| agency (``user_type=Company``)   | ``oauth``    | C          | ""          | yes           |
| sub-account (``Location``)   | ``oauth``    | C or ""    | L           | yes           |
| minted for a location        | ``location`` | C          | L           | no            |

Refresh tokens are single-use: each refresh returns a new one and kills the old. So a refresh
runs inside the store's ``BEGIN IMMEDIATE`` transaction: read the row, and only if it still
holds the stale token, call ``POST /oauth/token``, write the new pair and commit, and only then
use the new access token. A process that waited for the lock re-reads the row and finds the
fresh token there: no process ever sends a refresh token another one already spent.

The lock is held only for a bounded time: the refresh call inside it uses ``refresh_retry``
(2 attempts, waits of at most 1 s) and a ``refresh_timeout`` of 10 s, so a process waiting
for the lock (the store's busy timeout is 30 s) gets it back well before it gives up.

Tokens are refreshed ahead of expiry (``refresh_skew`` seconds) and once more on a 401 whose
message says the token expired; a 401 for a missing scope is not refreshed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ghlsync.client.auth import Scope
from ghlsync.client.retry import RetryPolicy
from ghlsync.client.token_store import Kind, TokenRecord, TokenStore, Transaction
from ghlsync.errors import (
    APIError,
    AuthError,
    ConfigError,
    MalformedResponseError,
    OutcomeUnknownError,
)

if TYPE_CHECKING:
    from ghlsync.client._protocol import Requester

log = logging.getLogger("ghlsync.client.oauth")

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
LOCATION_TOKEN_PATH = "/oauth/locationToken"  # noqa: S105 - a path

#: The refresh runs holding the token store's write lock: at most 2 tries, short waits
#: (a long ``Retry-After`` is cut to 1 s), so the lock is never held for long.
REFRESH_RETRY = RetryPolicy(max_attempts=2, base_delay=0.2, max_delay=1.0, max_retry_after=1.0)
#: Seconds one refresh call may take (connect, send, read) inside the lock.
REFRESH_TIMEOUT = 10.0
INSTALLED_LOCATIONS_PATH = "/oauth/installedLocations"

_Key = tuple[Kind, str, str]


def record_from_token_response(
    body: Any,
    *,
    kind: Kind,
    now: float,
    company_id: str | None = None,
    location_id: str | None = None,
) -> TokenRecord:
    """A ``TokenRecord`` from a ``/oauth/token`` or ``/oauth/locationToken`` answer (pure)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("access_token"), str):
        raise MalformedResponseError("the token answer has no access_token")
    expires_in = body.get("expires_in")
    refresh = body.get("refresh_token")
    user_type = body.get("userType")
    company = body.get("companyId") or company_id
    location = body.get("locationId") or location_id
    if kind == "oauth" and user_type == "Company":
        location = None
    return TokenRecord(
        kind=kind,
        company_id=str(company) if company else None,
        location_id=str(location) if location else None,
        access_token=body["access_token"],
        refresh_token=refresh if isinstance(refresh, str) else None,
        expires_at=now + float(expires_in) if isinstance(expires_in, int | float) else None,
        scopes=str(body.get("scope") or ""),
        user_type=str(user_type) if user_type else None,
        updated_at=now,
    )


def _key(record: TokenRecord) -> _Key:
    return (record.kind, record.company_id or "", record.location_id or "")


class OAuthAuth:
    """``Auth`` for a HighLevel Marketplace app (see the module docstring).

    ``company_id`` is the default agency for minting location tokens when a call names only a
    location. ``clock`` (epoch seconds) is injectable for tests.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        store: TokenStore,
        company_id: str | None = None,
        app_id: str | None = None,
        redirect_uri: str | None = None,
        refresh_skew: float = 300.0,
        refresh_retry: RetryPolicy = REFRESH_RETRY,
        refresh_timeout: float = REFRESH_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not client_id or not client_secret:
            raise ConfigError(
                "OAuth needs a client id and a client secret",
                hint="set GHL_CLIENT_ID and GHL_CLIENT_SECRET",
            )
        self.client_id = client_id
        self._client_secret = client_secret
        self.store = store
        self.company_id = company_id
        self.app_id = app_id
        self.redirect_uri = redirect_uri
        self.refresh_skew = refresh_skew
        self.refresh_retry = refresh_retry
        self.refresh_timeout = refresh_timeout
        self._clock = clock
        self._requester: Requester | None = None
        self._cache: dict[_Key, TokenRecord] = {}
        self._scope_keys: dict[Scope, _Key] = {}
        self._locks: dict[_Key, asyncio.Lock] = {}

    @property
    def identity(self) -> str:
        return f"app:{self.client_id}"

    def bind(self, requester: Requester) -> None:
        self._requester = requester

    @property
    def requester(self) -> Requester:
        if self._requester is None:
            raise ConfigError(
                "OAuthAuth is not attached to a client", hint="pass it to AsyncGHLClient(auth=...)"
            )
        return self._requester

    def _lock(self, key: _Key) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def _fresh(self, record: TokenRecord | None) -> bool:
        return record is not None and not record.expires_within(self.refresh_skew, self._clock())

    # -- Auth ------------------------------------------------------------------------------

    async def token_for(self, scope: Scope) -> str:
        key = self._scope_keys.get(scope)
        if key is not None:
            cached = self._cache.get(key)
            if cached is not None and self._fresh(cached):
                return cached.access_token
        record = await self._record_for(scope, stale_token=None)
        self._scope_keys[scope] = _key(record)
        return record.access_token

    async def refresh_after_401(self, scope: Scope, failed_token: str) -> bool:
        record = await self._record_for(scope, stale_token=failed_token)
        self._scope_keys[scope] = _key(record)
        return record.access_token != failed_token

    # -- finding the row for a scope --------------------------------------------------------

    async def _record_for(self, scope: Scope, *, stale_token: str | None) -> TokenRecord:
        if scope.location_id:
            own = await asyncio.to_thread(self.store.find, "oauth", location_id=scope.location_id)
            if own is not None:
                return await self._refreshed(own, stale_token)
            minting = scope.company_id or self.company_id or await self._only_company()
            return await self.location_token(minting, scope.location_id, stale_token=stale_token)
        company = scope.company_id or self.company_id
        if company:
            agency = await asyncio.to_thread(
                self.store.find, "oauth", company_id=company, location_id=""
            )
            if agency is None:
                raise ConfigError(
                    f"no OAuth token for company {company}",
                    hint="authorise the app for the agency: `ghlsync auth login --code ...`",
                )
            return await self._refreshed(agency, stale_token)
        resolved = await self.resolve_scope(scope)
        if not (resolved.location_id or resolved.company_id):  # pragma: no cover - defensive
            raise ConfigError("no location or company for this call", hint="pass location_id=")
        return await self._record_for(resolved, stale_token=stale_token)

    async def resolve_scope(self, scope: Scope) -> Scope:
        """A call naming no location or company acts for ``company_id`` (given to
        ``OAuthAuth``), else for the one OAuth token stored; with several stored it is
        ambiguous: ``ConfigError`` (never the newest row of some location)."""
        if scope.location_id or scope.company_id:
            return scope
        if self.company_id:
            return Scope(company_id=self.company_id)
        rows = [i for i in await asyncio.to_thread(self.store.list) if i.kind == "oauth"]
        if not rows:
            raise ConfigError(
                "no OAuth token in the store",
                hint="authorise the app: `ghlsync auth login --code ...`",
            )
        if len(rows) > 1:
            shown = ", ".join(
                f"location {r.location_id}" if r.location_id else f"company {r.company_id}"
                for r in rows[:5]
            )
            raise ConfigError(
                f"a call names no location or company and {len(rows)} OAuth tokens are stored"
                f" ({shown}{', ...' if len(rows) > 5 else ''})",
                hint="pass location_id= or company_id= to the call, or OAuthAuth(company_id=...)",
            )
        only = rows[0]
        if only.location_id:
            return Scope(location_id=only.location_id, company_id=only.company_id)
        return Scope(company_id=only.company_id)

    async def _only_company(self) -> str:
        agency = await asyncio.to_thread(self.store.find, "oauth", location_id="")
        if agency is None or not agency.company_id:
            raise ConfigError(
                "no token for this location and no agency token to mint one",
                hint="authorise the app for the location or the agency, or pass company_id=",
            )
        return agency.company_id

    # -- refresh with rotation --------------------------------------------------------------

    async def _refreshed(self, record: TokenRecord, stale_token: str | None) -> TokenRecord:
        """``record`` if usable, else the row after a locked refresh (see module docstring)."""
        if self._fresh(record) and record.access_token != stale_token:
            self._cache[_key(record)] = record
            return record
        key = _key(record)
        async with self._lock(key):
            cached = self._cache.get(key)
            if (
                cached is not None
                and self._fresh(cached)
                and cached.access_token not in (stale_token, record.access_token)
            ):
                return cached  # another task of this process refreshed while we waited
            transaction = await asyncio.to_thread(self.store.begin)
            try:
                current = await asyncio.to_thread(
                    transaction.get, record.kind, company_id=key[1], location_id=key[2]
                )
                if current is None:
                    raise ConfigError(
                        "the OAuth token was removed from the store",
                        hint="re-authorise: `ghlsync auth login --code ...`",
                    )
                if self._fresh(current) and current.access_token != stale_token:
                    await asyncio.to_thread(transaction.rollback)
                    self._cache[key] = current
                    return current  # another process refreshed it: use what it stored
                fresh = await self._refresh_grant(current)
                await asyncio.to_thread(transaction.put, fresh)
                await asyncio.to_thread(transaction.commit)
            finally:
                await asyncio.to_thread(transaction.rollback)  # no-op after commit
            log.info("refreshed the OAuth token for %s", _describe(fresh))
            self._cache[key] = fresh
            return fresh

    async def _refresh_grant(self, current: TokenRecord) -> TokenRecord:
        if not current.refresh_token:
            raise AuthError(
                status=401,
                method="POST",
                path=TOKEN_PATH,
                messages=["the stored OAuth token has no refresh token"],
                hint="re-authorise: `ghlsync auth login --code ...`",
            )
        form = self._form(
            grant_type="refresh_token",
            refresh_token=current.refresh_token,
            user_type=current.user_type or ("Location" if current.location_id else "Company"),
        )
        body = await self._token_call(form, in_lock=True)
        fresh = record_from_token_response(
            body,
            kind="oauth",
            now=self._clock(),
            company_id=current.company_id,
            location_id=current.location_id,
        )
        # keep the row's key even if the answer omits or reshapes ids
        return TokenRecord(
            kind=current.kind,
            company_id=current.company_id,
            location_id=current.location_id,
            access_token=fresh.access_token,
            refresh_token=fresh.refresh_token or current.refresh_token,
            expires_at=fresh.expires_at,
            scopes=fresh.scopes or current.scopes,
            user_type=fresh.user_type or current.user_type,
            updated_at=fresh.updated_at,
        )

    def _form(self, **fields: str | None) -> dict[str, str]:
        form = {"client_id": self.client_id, "client_secret": self._client_secret}
        form.update({k: v for k, v in fields.items() if v is not None})
        return form

    async def _token_call(self, form: dict[str, str], *, in_lock: bool = False) -> Any:
        """``POST /oauth/token``; ``in_lock``: bounded retries and timeout (the store's write
        lock is held)."""
        try:
            if in_lock:
                return await self.requester.request(
                    "POST",
                    TOKEN_PATH,
                    data=form,
                    authenticated=False,
                    retry=self.refresh_retry,
                    http_timeout=self.refresh_timeout,
                )
            return await self.requester.request("POST", TOKEN_PATH, data=form, authenticated=False)
        except OutcomeUnknownError as exc:
            exc.hint = (
                "the token call got no answer; a refresh may have spent the refresh token: "
                "if the next refresh is refused, re-authorise with `ghlsync auth login --code`"
            )
            raise
        except APIError as exc:
            if exc.status in (400, 401, 422):
                raise AuthError(
                    status=exc.status,
                    method="POST",
                    path=TOKEN_PATH,
                    messages=exc.messages,
                    trace_id=exc.trace_id,
                    reason="invalid",
                    hint="HighLevel refused the grant; re-authorise: `ghlsync auth login --code`",
                ) from None
            raise

    # -- authorization code ------------------------------------------------------------------

    async def exchange_code(
        self, code: str, *, user_type: str = "Location", redirect_uri: str | None = None
    ) -> TokenRecord:
        """Trade an authorization ``code`` for tokens and store them (returns the row)."""
        form = self._form(
            grant_type="authorization_code",
            code=code,
            user_type=user_type,
            redirect_uri=redirect_uri or self.redirect_uri,
        )
        body = await self._token_call(form)
        record = record_from_token_response(body, kind="oauth", now=self._clock())
        if record.user_type is None:
            record = TokenRecord(**{**record.__dict__, "user_type": user_type})
        if not record.company_id and not record.location_id:
            raise MalformedResponseError("the token answer names neither companyId nor locationId")
        await asyncio.to_thread(self.store.put, record)
        self._cache[_key(record)] = record
        log.info("stored the OAuth token for %s", _describe(record))
        return record

    # -- agency -> location ------------------------------------------------------------------

    async def location_token(
        self, company_id: str, location_id: str, *, stale_token: str | None = None
    ) -> TokenRecord:
        """A location token minted with the agency token, cached until it expires."""
        key: _Key = ("location", company_id, location_id)
        cached = self._cache.get(key)
        if self._fresh(cached) and cached is not None and cached.access_token != stale_token:
            return cached
        async with self._lock(key):
            cached = self._cache.get(key)
            if self._fresh(cached) and cached is not None and cached.access_token != stale_token:
                return cached
            stored = await asyncio.to_thread(
                self.store.get, "location", company_id=company_id, location_id=location_id
            )
            if self._fresh(stored) and stored is not None and stored.access_token != stale_token:
                self._cache[key] = stored
                return stored
            body = await self.requester.request(
                "POST",
                LOCATION_TOKEN_PATH,
                data={"companyId": company_id, "locationId": location_id},
                company_id=company_id,
                idempotent=True,
            )
            record = record_from_token_response(
                body,
                kind="location",
                now=self._clock(),
                company_id=company_id,
                location_id=location_id,
            )
            record = TokenRecord(
                **{
                    **record.__dict__,
                    "company_id": company_id,
                    "location_id": location_id,
                    "refresh_token": None,
                }
            )
            await asyncio.to_thread(self.store.put, record)
            self._cache[key] = record
            log.info("minted a location token for %s", _describe(record))
            return record

    async def installed_locations(
        self, company_id: str | None = None, app_id: str | None = None, *, page_size: int = 100
    ) -> AsyncIterator[str]:
        """Ids of the locations where the app is installed (``GET /oauth/installedLocations``)."""
        company = company_id or self.company_id or await self._only_company()
        app = app_id or self.app_id or self.client_id.split("-", 1)[0]
        async for location_id in installed_location_ids(
            self.requester, company, app, page_size=page_size
        ):
            yield location_id

    def __repr__(self) -> str:
        return (
            f"OAuthAuth(client_id={self.client_id!r}, store={self.store!r}, "
            f"company_id={self.company_id!r}, refresh_skew={self.refresh_skew:g})"
        )


async def installed_location_ids(
    requester: Requester, company_id: str, app_id: str, *, page_size: int = 100
) -> AsyncIterator[str]:
    """Every location id where ``app_id`` is installed in ``company_id``.

    The paging is ``LocationsResource.installed_pages`` (``skip``/``limit``, total in
    ``count``, loop detection): written once, used by the resource and here.
    """
    from ghlsync.client.resources.locations import LocationsResource

    locations = LocationsResource(requester).iterate_installed(
        company_id, app_id, page_size=page_size
    )
    async for location in locations:
        location_id = location.get("_id") or location.get("id")
        if location_id:
            yield str(location_id)


def _describe(record: TokenRecord) -> str:
    parts: list[str] = [record.kind]
    if record.company_id:
        parts.append(f"company {record.company_id}")
    if record.location_id:
        parts.append(f"location {record.location_id}")
    return ", ".join(parts)


__all__ = ["OAuthAuth", "Transaction", "installed_location_ids", "record_from_token_response"]
