"""What an extract connects to: base URL, locations and their tokens (a JSON file or arguments).

```json
{"base_url": "http://127.0.0.1:8765", "token": "pit-default (optional)",
 "locations": [{"id": "loc1", "token": "pit-..."}, "loc2"],
 "streams": ["contacts", "opportunities"], "start_date": "2026-01-01T00:00:00Z",
 "overlap_seconds": 300, "rate_limit": true, "outage_window_seconds": 300}
```
The same file is the Singer tap's ``--config``. Every key but ``streams``, ``start_date``,
``overlap_seconds`` and ``page_size`` belongs to the ``Connection`` (``ghlsync.client.connection``);
unknown keys are refused at every level (``locations[0].tokn`` included), before any request.
The config never reads the environment: ``GHL_TOKEN``, ``GHL_BASE_URL``, ``GHL_CLIENT_ID``... are
read by ``Settings.from_env()`` and combined with it by the run session
(``ghlsync.client.session.open_session``), which resolves each location's token in one order:
``--token``, the config, the token store (``ghlsync auth add-token``), ``GHL_TOKEN``, OAuth.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ghlsync.client.connection import CONNECTION_KEYS, OAUTH_KEYS, Connection, OAuthApp
from ghlsync.errors import ConfigError

#: the extract's own keys; the rest of a config file is its ``Connection``
EXTRACT_KEYS = frozenset({"streams", "start_date", "overlap_seconds", "page_size"})
#: every key the config file (and the tap's --config, and Meltano's settings) may hold
CONFIG_KEYS = CONNECTION_KEYS | EXTRACT_KEYS
DEFAULT_OVERLAP = dt.timedelta(minutes=5)

__all__ = ["CONFIG_KEYS", "EXTRACT_KEYS", "OAUTH_KEYS", "ExtractConfig", "read_json"]


@dataclass(frozen=True)
class ExtractConfig:
    """What an extract reads and how: a ``Connection`` plus the extract's options.

    A frozen, validated value: no I/O, no environment reads (``Settings.from_env()`` and the run
    session do those), never mutated (``replace`` makes a changed copy).

    ```python
    config = ExtractConfig.of(["loc1"], token="pit-...", streams=["contacts"])
    config.replace(start_date="2026-01-01").start_date  # '2026-01-01'
    ```
    """

    connection: Connection
    streams: tuple[str, ...] | None = None
    start_date: str | None = None
    overlap: dt.timedelta = DEFAULT_OVERLAP
    #: records per contacts search page (HighLevel's maximum: 500)
    page_size: int = 500
    _tokens: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.connection.location_ids and not self.connection.installed:
            raise ConfigError(
                "no locations configured",
                hint='add "locations": ["<location id>"], or "installed": true with "oauth"',
            )
        if self.streams is not None and (
            isinstance(self.streams, str) or not all(isinstance(x, str) for x in self.streams)
        ):
            raise ConfigError("streams must be a list of names", hint='"streams": ["contacts"]')
        if self.streams is not None and not isinstance(self.streams, tuple):
            object.__setattr__(self, "streams", tuple(self.streams))
        if self.start_date is not None:
            _checked_date(self.start_date)
        if self.page_size <= 0 or self.overlap < dt.timedelta(0):
            raise ConfigError(
                "page_size must be positive and overlap_seconds not negative",
                hint="e.g. page_size 500, overlap_seconds 300",
            )
        object.__setattr__(self, "_tokens", MappingProxyType(self.connection.location_tokens()))

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ExtractConfig:
        """The config ``data`` holds (a config file, the tap's ``--config``), or one
        ``ConfigError`` line naming the first unknown or bad key, at any depth."""
        if not isinstance(data, Mapping):
            raise ConfigError("the config must hold a JSON object", hint='e.g. {"locations": []}')
        unknown = sorted(set(data) - CONFIG_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown config keys {unknown}", hint=f"known keys: {sorted(CONFIG_KEYS)}"
            )
        connection = Connection.from_mapping(
            {k: v for k, v in data.items() if k in CONNECTION_KEYS}
        )
        overlap = data.get("overlap_seconds")
        try:
            overlap_delta = (
                dt.timedelta(seconds=float(overlap)) if overlap is not None else DEFAULT_OVERLAP
            )
            page_size = int(data.get("page_size", 500))
        except (TypeError, ValueError) as error:
            raise ConfigError(
                f"bad number in config: {error}",
                hint="overlap_seconds and page_size are numbers",
            ) from None
        streams = data.get("streams")
        if streams is not None and not isinstance(streams, list):
            raise ConfigError("streams must be a list of names", hint='"streams": ["contacts"]')
        start_date = data.get("start_date")
        return cls(
            connection,
            streams=tuple(streams) if streams else None,
            start_date=str(start_date) if start_date else None,
            overlap=overlap_delta,
            page_size=page_size,
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ExtractConfig:
        return cls.from_mapping(read_json(path, "config"))

    @classmethod
    def of(
        cls,
        locations: Sequence[str] = (),
        *,
        tokens: Mapping[str, str] | None = None,
        token: str | None = None,
        base_url: str | None = None,
        api_version: str | None = None,
        rate_limit: bool = True,
        burst: int = 100,
        interval: float = 10.0,
        oauth: Mapping[str, Any] | OAuthApp | None = None,
        installed: bool = False,
        streams: Sequence[str] | None = None,
        start_date: str | None = None,
        overlap: dt.timedelta = DEFAULT_OVERLAP,
        page_size: int = 500,
    ) -> ExtractConfig:
        """A config from Python arguments, validated like a config file."""
        tokens = dict(tokens or {})
        entries: list[Any] = [
            {"id": i, "token": tokens.pop(i)} if i in tokens else i for i in locations
        ]
        if tokens:  # a token for a location not read would be silently unused
            raise ConfigError(
                f"tokens given for locations not listed: {', '.join(sorted(tokens))}",
                hint="list those locations too, or drop their tokens",
            )
        data: dict[str, Any] = {
            "locations": entries,
            "rate_limit": rate_limit,
            "burst": burst,
            "interval": interval,
            "installed": installed,
        }
        for key, value in (("token", token), ("base_url", base_url), ("api_version", api_version)):
            if value is not None:
                data[key] = value
        if oauth is not None:
            data["oauth"] = oauth.model_dump() if isinstance(oauth, OAuthApp) else dict(oauth)
            if isinstance(oauth, OAuthApp) and oauth.client_secret is not None:
                data["oauth"]["client_secret"] = oauth.client_secret.get_secret_value()
        return cls(
            Connection.from_mapping(data),
            streams=tuple(streams) if streams is not None else None,
            start_date=start_date,
            overlap=overlap,
            page_size=page_size,
        )

    def replace(self, **changes: Any) -> ExtractConfig:
        """A copy with ``changes``: the extract's options (``streams``, ``start_date``,
        ``overlap``, ``page_size``) or any ``of`` argument (``locations``, ``tokens``,
        ``rate_limit``...). ``tokens`` replaces the per-location tokens as a whole."""
        own = {
            k: changes.pop(k)
            for k in ("streams", "start_date", "overlap", "page_size")
            if k in changes
        }
        if "streams" in own and own["streams"] is not None:
            own["streams"] = tuple(own["streams"])
        if not changes:
            return replace(self, **own)
        connection = self.connection
        current: dict[str, Any] = {
            "locations": list(connection.location_ids),
            "tokens": dict(self._tokens),
            "token": connection.token.get_secret_value() if connection.token else None,
            "base_url": connection.base_url,
            "api_version": connection.api_version,
            "rate_limit": connection.rate_limit,
            "burst": connection.burst,
            "interval": connection.interval,
            "oauth": connection.oauth,
            "installed": connection.installed,
        }
        unknown = sorted(set(changes) - set(current))
        if unknown:
            raise TypeError(f"ExtractConfig.replace() got unknown fields {unknown}")
        current.update(changes)
        if "locations" in changes and "tokens" not in changes:
            kept = set(current["locations"])
            current["tokens"] = {k: v for k, v in current["tokens"].items() if k in kept}
        made = ExtractConfig.of(**current)
        return replace(self, connection=made.connection, **own)

    def with_locations(self, location_ids: Sequence[str]) -> ExtractConfig:
        """This config reading exactly ``location_ids`` (e.g. once the session found where an
        agency app is installed): ``installed`` is then resolved, so off."""
        return self.replace(locations=list(location_ids), installed=False)

    # -- reading (the connection's parts, read-only) ------------------------------------------

    @property
    def locations(self) -> list[str]:
        """The locations listed explicitly (a copy; ``installed`` ones come from the session)."""
        return list(self.connection.location_ids)

    @property
    def tokens(self) -> Mapping[str, str]:
        """The per-location tokens (read-only)."""
        return self._tokens

    @property
    def token(self) -> str | None:
        token = self.connection.token
        return token.get_secret_value() if token is not None else None

    @property
    def base_url(self) -> str | None:
        return self.connection.base_url

    @property
    def rate_limit(self) -> bool:
        return self.connection.rate_limit

    @property
    def installed(self) -> bool:
        return self.connection.installed

    @property
    def oauth(self) -> OAuthApp | None:
        return self.connection.oauth

    def __repr__(self) -> str:
        # tokens never in a repr: only which locations have one
        return (
            f"ExtractConfig(locations={self.locations!r}, tokens={sorted(self._tokens)!r}, "
            f"token={'set' if self.connection.token else 'unset'}, base_url={self.base_url!r}, "
            f"streams={self.streams!r}, oauth={'set' if self.oauth else 'unset'}, "
            f"installed={self.installed})"
        )


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
