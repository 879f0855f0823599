"""Where the bearer token of each call comes from, behind one small interface.

``Auth`` is what the request pipeline (``core.py``) needs: a token for a scope (a location or a
company), a way to refresh after a 401 that says the token expired, and a non-secret
``identity`` naming the rate-limit owner (the app, or the Private Integration). Implementations:

- ``PrivateTokenAuth``: Private Integration tokens (static bearers), one default token and/or one
  per location (given, or read from the ``TokenStore``, kind ``private``).
- ``OAuthAuth`` (``oauth.py``): OAuth 2.0 with refresh-token rotation and agency -> location
  tokens, persisted in the ``TokenStore``.

No implementation ever puts a token in a message, a log line or its ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ghlsync.errors import ConfigError

if TYPE_CHECKING:
    from ghlsync.client._protocol import Requester
    from ghlsync.client.token_store import TokenStore


@dataclass(frozen=True)
class Scope:
    """Which sub-account (location) or agency (company) a call acts for."""

    location_id: str | None = None
    company_id: str | None = None

    @property
    def bucket(self) -> str:
        """The rate-limit resource: the location, else the company, else ``"-"``."""
        if self.location_id:
            return f"location:{self.location_id}"
        if self.company_id:
            return f"company:{self.company_id}"
        return "-"

    def describe(self) -> str:
        if self.location_id:
            return f"location {self.location_id}"
        if self.company_id:
            return f"company {self.company_id}"
        return "no location or company"


@runtime_checkable
class Auth(Protocol):
    """The token source the client asks before each call."""

    @property
    def identity(self) -> str:
        """A non-secret name of the rate-limit owner (an app id, ``"private"``...)."""
        ...

    def bind(self, requester: Requester) -> None:
        """Give the auth the client to call ``/oauth/*`` with (unauthenticated calls)."""
        ...

    async def token_for(self, scope: Scope) -> str:
        """A bearer token valid for ``scope`` (refreshing ahead of expiry when it can)."""
        ...

    async def refresh_after_401(self, scope: Scope, failed_token: str) -> bool:
        """HighLevel said ``failed_token`` expired: refresh; ``True`` if a resend may succeed."""
        ...

    async def resolve_scope(self, scope: Scope) -> Scope:
        """The scope a call naming no location or company acts for (so that its token and its
        rate-limit bucket are the right ones); ``ConfigError`` when that is ambiguous."""
        ...


class PrivateTokenAuth:
    """Private Integration tokens: static bearers, minted per sub-account.

    ``token`` serves any scope without a more specific token; ``tokens`` maps location ids to
    their own token; ``store`` is consulted for ``private`` rows (``ghlsync auth add-token``).
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        tokens: Mapping[str, str] | None = None,
        store: TokenStore | None = None,
        identity: str = "private",
    ) -> None:
        self._token = token
        self._tokens = dict(tokens or {})
        self._store = store
        self._identity = identity

    @property
    def identity(self) -> str:
        return self._identity

    def bind(self, requester: Requester) -> None:
        return None

    async def token_for(self, scope: Scope) -> str:
        if scope.location_id and scope.location_id in self._tokens:
            return self._tokens[scope.location_id]
        if self._store is not None and scope.location_id:
            record = self._store.get("private", location_id=scope.location_id)
            if record is not None and record.access_token:
                self._tokens[scope.location_id] = record.access_token
                return record.access_token
        if self._token:
            return self._token
        raise ConfigError(
            f"no Private Integration token for {scope.describe()}",
            hint="set GHL_TOKEN, pass token=..., or run `ghlsync auth add-token --location ID`",
        )

    async def refresh_after_401(self, scope: Scope, failed_token: str) -> bool:
        return False  # a static token cannot be refreshed

    async def resolve_scope(self, scope: Scope) -> Scope:
        """A call without a location uses the default token; with no default token and
        exactly one location token, that location (its bucket too); else ``ConfigError``."""
        if scope.location_id or scope.company_id or self._token:
            return scope
        if len(self._tokens) == 1:
            return Scope(location_id=next(iter(self._tokens)))
        if self._tokens:
            shown = ", ".join(sorted(self._tokens)[:5])
            raise ConfigError(
                f"a call names no location and several location tokens are given ({shown})",
                hint="pass location_id= to the call (or a default token)",
            )
        return scope

    def __repr__(self) -> str:
        locations = sorted(self._tokens)
        return (
            f"PrivateTokenAuth(default={'set' if self._token else 'unset'}, "
            f"locations={locations!r}, store={'yes' if self._store else 'no'})"
        )
