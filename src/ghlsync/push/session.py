"""How push opens its run session: the one place push meets token resolution.

``ghlsync.client.session.open_session`` builds it from ``Settings`` and a ``Connection`` (the
``--config`` file, with ``--location``/``--base-url`` laid over it); tokens resolve exactly as
for ``ghlsync extract``: ``--token``, the config's per-location tokens, the token store, the
environment, OAuth. One limiter for the run, each location its own bucket and budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ghlsync.client.session import Connection, RunSession, open_session
from ghlsync.config import Settings


def connection_for(
    connection: Mapping[str, Any] | None,
    *,
    locations: tuple[str, ...] = (),
    tokens: Mapping[str, str] | None = None,
    base_url: str | None = None,
    rate_limit: bool = True,
) -> Connection:
    """The run's ``Connection``: the config mapping, then the command line's values over it."""
    data: dict[str, Any] = dict(connection or {})
    listed = list(data.pop("locations", None) or data.pop("location_ids", None) or [])
    entries: dict[str, dict[str, Any]] = {}
    for item in listed:
        entry = {"id": item} if isinstance(item, str) else dict(item)
        entries[str(entry.get("id"))] = entry
    for location_id in locations:
        entries.setdefault(location_id, {"id": location_id})
    for location_id, token in (tokens or {}).items():
        entries.setdefault(location_id, {"id": location_id})["token"] = token
    data["locations"] = list(entries.values())
    if base_url:
        data["base_url"] = base_url
    if not rate_limit:
        data["rate_limit"] = False
    return Connection.from_mapping(data)


def open_push_session(
    settings: Settings, connection: Connection, *, token: str | None = None
) -> RunSession:
    return open_session(settings, connection, token=token)
