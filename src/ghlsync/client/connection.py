"""``Connection``: what a run connects to, as a frozen, validated value (no I/O, no environment).

```python
from ghlsync.client.connection import Connection

connection = Connection.from_mapping(
    {"base_url": "http://127.0.0.1:8765", "locations": [{"id": "loc1", "token": "pit-..."}, "loc2"]}
)
connection.location_ids  # ('loc1', 'loc2')
```

Keys (every other key, at every level, is refused with a ``ConfigError`` naming it):

| key           | meaning                                                              |
| ------------- | -------------------------------------------------------------------- |
| base_url      | HighLevel's API base URL (default: ``Settings.base_url``)            |
| api_version   | ``v2`` or ``v3`` (default: ``Settings.api_version``)                 |
| token         | a default Private Integration token for every location               |
| locations     | ``"id"`` or ``{"id": ..., "token": ...}`` entries (``location_ids``: the same) |
| oauth         | an agency app: ``client_id``, ``client_secret``, ``company_id``, ``app_id``, ``token_store`` |
| installed     | also every location the OAuth app is installed in                    |
| rate_limit    | client-side rate limiting (``false`` only against an unlimited server) |
| burst, interval | the client-side burst budget per location (100 calls per 10 s)     |
| outage_window_seconds | how long a call that gets no answer is retried (default 300; 0: only the client's attempts) |

Nothing here reads the environment: ``GHL_TOKEN``, ``GHL_CLIENT_ID`` and the rest are read once,
by ``Settings.from_env()``, and combined with this value by ``ghlsync.client.session``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ghlsync.errors import ConfigError

_STRICT = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class LocationEntry(BaseModel):
    """One sub-account (location) to read or write, with its own token if it has one."""

    model_config = _STRICT

    id: str = Field(min_length=1)
    token: SecretStr | None = None


class OAuthApp(BaseModel):
    """A Marketplace app (agency): its credentials (else ``GHL_CLIENT_ID``/``GHL_CLIENT_SECRET``)
    and where its agency and location tokens live (default: ghlsync's token store)."""

    model_config = _STRICT

    client_id: str | None = None
    client_secret: SecretStr | None = None
    company_id: str | None = None
    app_id: str | None = None
    token_store: str | None = None


class Connection(BaseModel):
    """Where and as whom a run connects; see the module docstring. Frozen: never mutated."""

    model_config = _STRICT

    base_url: str | None = None
    api_version: Literal["v2", "v3"] | None = None
    token: SecretStr | None = None
    locations: tuple[LocationEntry, ...] = ()
    oauth: OAuthApp | None = None
    installed: bool = False
    rate_limit: bool = True
    burst: int = Field(default=100, gt=0)
    interval: float = Field(default=10.0, gt=0)
    #: how long a call that gets no answer (HighLevel down, network out) is retried
    outage_window_seconds: float = Field(default=300.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _location_ids_alias(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "location_ids" in data:
            if "locations" in data:
                raise ValueError('give "locations" or "location_ids", not both')
            data = {**data, "locations": data["location_ids"]}
            del data["location_ids"]
        return data

    @field_validator("locations", mode="before")
    @classmethod
    def _entries(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ValueError('a list of "id" or {"id": ..., "token": ...}')
        return [{"id": item} if isinstance(item, str) else item for item in value]

    @model_validator(mode="after")
    def _installed_needs_oauth(self) -> Connection:
        if self.installed and self.oauth is None:
            raise ValueError(
                'installed locations need an OAuth app: add "oauth": {"client_id", '
                '"client_secret", "company_id", "app_id"}'
            )
        ids = [entry.id for entry in self.locations]
        if len(set(ids)) != len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"locations listed twice: {', '.join(twice)}")
        return self

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Connection:
        """The connection ``data`` describes, or a one-line ``ConfigError`` naming the first
        bad or unknown key with its path (``locations[0].tokn``)."""
        if not isinstance(data, Mapping):
            raise ConfigError("the connection must be a JSON object", hint='e.g. {"locations": []}')
        try:
            return cls.model_validate(dict(data))
        except pydantic.ValidationError as error:
            raise config_error(error, cls) from None

    @property
    def location_ids(self) -> tuple[str, ...]:
        """The locations listed explicitly (``installed`` ones are found by the session)."""
        return tuple(entry.id for entry in self.locations)

    def location_tokens(self) -> dict[str, str]:
        """The per-location tokens of the config (a fresh dict; secrets: never log it)."""
        return {e.id: e.token.get_secret_value() for e in self.locations if e.token is not None}


#: every key ``Connection.from_mapping`` accepts (``location_ids`` is ``locations``' old name)
CONNECTION_KEYS = frozenset({*Connection.model_fields, "location_ids"})
OAUTH_KEYS = frozenset(OAuthApp.model_fields)
LOCATION_KEYS = frozenset(LocationEntry.model_fields)


def config_error(error: pydantic.ValidationError, model: type[BaseModel]) -> ConfigError:
    """The first problem pydantic found as one line: the key's path, what is wrong, a hint.
    Never the value (it may be a token)."""
    first = error.errors()[0]
    where = _path(first["loc"])
    if first["type"] == "extra_forbidden":
        parent, _, key = where.rpartition(".")
        known = _known_keys(model, first["loc"][:-1])
        place = f" in {parent}" if parent else ""
        return ConfigError(f"unknown key {key!r}{place}", hint=f"known keys: {', '.join(known)}")
    message = str(first["msg"]).removeprefix("Value error, ")
    more = len(error.errors()) - 1
    extra = f" (and {more} more)" if more else ""
    if not where:
        return ConfigError(f"{message}{extra}", hint="fix the config")
    return ConfigError(f"{where}: {message}{extra}", hint="fix this key in the config")


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in {"function-after", "function-before"} or "[" in str(part):
            continue  # pydantic's validator frames, not keys
        else:
            text += f".{part}" if text else str(part)
    return text


def _known_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys the object at ``loc`` accepts (walks nested models by field name)."""
    current: type[BaseModel] = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(str(part))
        nested = _model_in(field.annotation) if field is not None else None
        if nested is None:
            break
        current = nested
    names = sorted(current.model_fields)
    if current is Connection:
        names = sorted({*names, "location_ids"})
    return names


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


__all__ = [
    "CONNECTION_KEYS",
    "LOCATION_KEYS",
    "OAUTH_KEYS",
    "Connection",
    "LocationEntry",
    "OAuthApp",
    "config_error",
]
