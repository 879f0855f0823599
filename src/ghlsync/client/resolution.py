"""``TokenChain``: the one token resolution every command uses, in one documented order.

For a call acting for location ``L`` the bearer is the first of:

1. the CLI flag (``--token``; ``open_session(token=...)`` in Python), for every location;
2. the config: ``L``'s own ``locations[].token``, else the config's ``token``;
3. the token store: the Private Integration token saved for ``L`` by
   ``ghlsync auth add-token --location L``;
4. the environment: ``GHL_TOKEN`` (read by ``Settings.from_env()``);
5. OAuth: the agency app's location token for ``L`` (minted from the agency token and cached in
   the store), when the config has ``oauth`` or ``GHL_CLIENT_ID``/``GHL_CLIENT_SECRET`` are set.

A call naming only a company (agency endpoints) goes to OAuth first, then to a default token.
Only an OAuth token can be refreshed after a 401; a static one is reported as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ghlsync.client.auth import Auth, Scope
from ghlsync.client.connection import Connection, OAuthApp
from ghlsync.client.oauth import OAuthAuth
from ghlsync.client.token_store import TokenStore
from ghlsync.config import Settings
from ghlsync.errors import ConfigError

if TYPE_CHECKING:
    from ghlsync.client._protocol import Requester

#: opens the token store at a path (``create=False``: only if the file exists, else None)
StoreOpener = Callable[..., "TokenStore | None"]

#: what ``TokenChain.source`` answers, in the order they are tried
SOURCES = ("flag", "config", "store", "env", "oauth")


class TokenChain:
    """``Auth`` trying flag, config, token store, environment, then OAuth (module docstring)."""

    def __init__(
        self,
        *,
        flag: str | None = None,
        config_token: str | None = None,
        config_tokens: Mapping[str, str] | None = None,
        store: TokenStore | None = None,
        env: str | None = None,
        oauth: Auth | None = None,
    ) -> None:
        self._flag = flag or None
        self._config_token = config_token or None
        self._config_tokens = dict(config_tokens or {})
        self._store = store
        self._env = env or None
        self.oauth = oauth
        #: tokens read from the store, kept for the life of this auth (one lookup per location)
        self._stored: dict[str, str | None] = {}

    @property
    def identity(self) -> str:
        """The rate-limit owner: the OAuth app when there is one, else ``"private"``."""
        return self.oauth.identity if self.oauth is not None else "private"

    def bind(self, requester: Requester) -> None:
        if self.oauth is not None:
            self.oauth.bind(requester)

    def _from_store(self, location_id: str) -> str | None:
        if self._store is None:
            return None
        if location_id not in self._stored:
            record = self._store.get("private", location_id=location_id)
            self._stored[location_id] = record.access_token if record is not None else None
        return self._stored[location_id]

    def source(self, location_id: str | None) -> str | None:
        """Which of ``SOURCES`` gives the token for ``location_id`` (None: none of them).
        ``"oauth"`` means the OAuth app will be asked (it may still have no token)."""
        if self._flag:
            return "flag"
        if (location_id and location_id in self._config_tokens) or self._config_token:
            return "config"
        if location_id and self._from_store(location_id):
            return "store"
        if self._env:
            return "env"
        return "oauth" if self.oauth is not None else None

    def _static(self, location_id: str | None) -> str | None:
        if self._flag:
            return self._flag
        if location_id and location_id in self._config_tokens:
            return self._config_tokens[location_id]
        if self._config_token:
            return self._config_token
        if location_id:
            stored = self._from_store(location_id)
            if stored:
                return stored
        return self._env

    async def token_for(self, scope: Scope) -> str:
        if self.oauth is not None and scope.company_id and not scope.location_id:
            return await self.oauth.token_for(scope)
        token = self._static(scope.location_id)
        if token:
            return token
        if self.oauth is not None:
            return await self.oauth.token_for(scope)
        raise ConfigError(
            f"no token for {scope.describe()}",
            hint="pass --token, add it to the config, run `ghlsync auth add-token --location"
            " ID`, set GHL_TOKEN, or configure an OAuth app",
        )

    def is_static(self, scope: Scope, token: str | None) -> bool:
        """Whether ``token`` (sent for ``scope``) is a static one (flag, config, store,
        environment: Private Integration tokens, which never expire) rather than OAuth's."""
        return self.oauth is None or (
            token is not None and token == self._static(scope.location_id)
        )

    async def refresh_after_401(self, scope: Scope, failed_token: str) -> bool:
        if self.oauth is None or failed_token == self._static(scope.location_id):
            return False  # a static token cannot be refreshed
        return await self.oauth.refresh_after_401(scope, failed_token)

    async def resolve_scope(self, scope: Scope) -> Scope:
        """A call naming no location uses a default token (flag, config, environment); else
        the one location with a config token; else the OAuth app decides."""
        if scope.location_id or scope.company_id:
            return scope
        if self._flag or self._config_token or self._env:
            return scope
        if len(self._config_tokens) == 1 and self.oauth is None:
            return Scope(location_id=next(iter(self._config_tokens)))
        if self.oauth is not None:
            return await self.oauth.resolve_scope(scope)
        if self._config_tokens:
            shown = ", ".join(sorted(self._config_tokens)[:5])
            raise ConfigError(
                f"a call names no location and several location tokens are given ({shown})",
                hint="pass location_id= to the call (or a default token)",
            )
        return scope

    def __repr__(self) -> str:
        return (
            f"TokenChain(flag={'set' if self._flag else 'unset'}, "
            f"config={'set' if self._config_token else 'unset'}, "
            f"locations={sorted(self._config_tokens)!r}, store={'yes' if self._store else 'no'}, "
            f"env={'set' if self._env else 'unset'}, oauth={self.oauth!r})"
        )


@dataclass(frozen=True)
class OAuthCredentials:
    """An OAuth app's credentials: the config's ``oauth`` first, then ``GHL_CLIENT_ID`` /
    ``GHL_CLIENT_SECRET`` (``Settings``). The one place they are combined."""

    client_id: str
    client_secret: str = field(repr=False)
    company_id: str | None
    app_id: str | None
    store_path: Path

    @classmethod
    def of(cls, app: OAuthApp | None, settings: Settings) -> OAuthCredentials | None:
        """The credentials, None when no app is configured anywhere; ``ConfigError`` when the
        config has ``oauth`` without a client id and secret in it or in the environment."""
        given = app or OAuthApp()
        secret = given.client_secret.get_secret_value() if given.client_secret else None
        client_id = given.client_id or settings.client_id
        client_secret = secret or settings.client_secret
        if not (client_id and client_secret):
            if app is None:
                return None
            raise ConfigError(
                "oauth needs a client id and a client secret",
                hint='set "client_id"/"client_secret" in "oauth", or GHL_CLIENT_ID/'
                "GHL_CLIENT_SECRET",
            )
        store = Path(given.token_store) if given.token_store else settings.token_store_path
        return cls(client_id, client_secret, given.company_id, given.app_id, store)

    @property
    def identity(self) -> str:
        return f"app:{self.client_id}"

    def auth(self, store: TokenStore, **options: object) -> OAuthAuth:
        """The ``OAuthAuth`` of these credentials (``options``: ``OAuthAuth``'s others)."""
        kwargs: dict[str, object] = {"company_id": self.company_id, "app_id": self.app_id}
        kwargs.update(options)
        return OAuthAuth(
            client_id=self.client_id,
            client_secret=self.client_secret,
            store=store,
            **kwargs,  # type: ignore[arg-type]
        )


def resolve_auth(
    settings: Settings,
    connection: Connection | None = None,
    *,
    token: str | None = None,
    open_store: StoreOpener,
    **oauth_options: object,
) -> TokenChain:
    """The ``TokenChain`` of ``settings`` + ``connection`` + a ``--token`` flag.

    ``open_store(path, create=...)`` opens the token store (the caller owns and closes it): the
    Private Integration tokens' store only if its file exists, the OAuth app's always."""
    connection = connection or Connection()
    credentials = OAuthCredentials.of(connection.oauth, settings)
    oauth: Auth | None = None
    if credentials is not None:
        store = open_store(credentials.store_path, create=True)
        if store is None:  # pragma: no cover - create=True always opens
            raise ConfigError(f"cannot open the token store {credentials.store_path}")
        oauth = credentials.auth(store, **oauth_options)
    config_token = connection.token
    return TokenChain(
        flag=token,
        config_token=config_token.get_secret_value() if config_token is not None else None,
        config_tokens=connection.location_tokens(),
        store=open_store(settings.token_store_path, create=False),
        env=settings.token,
        oauth=oauth,
    )


__all__ = ["SOURCES", "OAuthCredentials", "StoreOpener", "TokenChain", "resolve_auth"]
