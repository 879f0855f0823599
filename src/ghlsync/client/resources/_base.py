"""What every resource shares: the ``Requester``, wire-name conversion and path quoting.

Python callers use snake_case keyword arguments; HighLevel wants camelCase. ``to_wire`` is the
one place that converts them (top-level keys only: nested values are sent as given, since some
nested wire names are snake_case, e.g. ``customFields[].field_value``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote

from ghlsync.client._protocol import Requester
from ghlsync.client.pagination import PageRequest, PageStream, Paginator, RecordStream
from ghlsync.errors import MalformedResponseError

P = ParamSpec("P")
R = TypeVar("R", bound="Resource")


def records_from(
    pages: Callable[Concatenate[R, P], PageStream],
) -> Callable[Concatenate[R, P], RecordStream]:
    """``iterate = records_from(pages)``: the same arguments, the records one by one."""

    def iterate(self: R, /, *args: P.args, **kwargs: P.kwargs) -> RecordStream:
        return pages(self, *args, **kwargs).records()

    iterate.__doc__ = f"The records of ``{pages.__name__}`` one by one (same arguments)."
    iterate.__pages__ = pages  # type: ignore[attr-defined]  # read by the sync-types generator
    return iterate


def camel(name: str) -> str:
    """``start_after_id`` -> ``startAfterId``; names already camelCase pass through."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_wire(values: Mapping[str, Any], aliases: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Snake_case keyword arguments -> camelCase wire fields, ``None`` values dropped.

    ``aliases`` names the exceptions HighLevel spells differently (``location_id`` stays
    ``location_id`` on ``GET /opportunities/search``).
    """
    aliases = aliases or {}
    return {aliases.get(k, camel(k)): v for k, v in values.items() if v is not None}


def segment(value: str) -> str:
    """One path segment, percent-encoded so an id can never change the path."""
    if not value:
        raise ValueError("an id in the path must not be empty")
    return quote(str(value), safe="")


def enveloped(response: Any, key: str) -> Any:
    """``response[key]`` when HighLevel wraps the record (``{"note": {...}}``), else the response."""
    if isinstance(response, Mapping) and key in response:
        return response[key]
    return response


def unwrap(response: Any, key: str, *, where: str) -> Any:
    """``response[key]`` or a ``MalformedResponseError`` naming the call."""
    if not isinstance(response, Mapping) or key not in response:
        raise MalformedResponseError(f"{where}: no {key!r} in the response")
    return response[key]


class Resource:
    """Base of the typed resources: holds the ``Requester`` (the client) and nothing else."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        location_id: str | None = None,
        company_id: str | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        return await self._requester.request(
            method,
            path,
            params=dict(params) if params else None,
            json=json,
            location_id=location_id,
            company_id=company_id,
            idempotent=idempotent,
        )

    def _stream(self, paginator: Paginator) -> PageStream:
        return PageStream(self._requester, paginator)

    @staticmethod
    def _get(
        path: str,
        params: Mapping[str, Any],
        *,
        location_id: str | None = None,
        company_id: str | None = None,
    ) -> PageRequest:
        return PageRequest(
            "GET", path, params=dict(params), location_id=location_id, company_id=company_id
        )
