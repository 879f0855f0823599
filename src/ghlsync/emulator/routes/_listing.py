"""Small helpers shared by the route modules: time parsing, windows, paging, location queries.

Not a route module (no ``routes``, not in ``app.API_ROUTES``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from ghlsync.emulator.common import ApiError
from ghlsync.emulator.state import Entity, ms_from_iso

DAY_MS = 86_400_000


def parse_time_ms(value: str, name: str) -> int:
    """Epoch ms, an ISO-8601 date/time, or ``mm-dd-yyyy`` (opportunity search) -> epoch ms."""
    text = value.strip()
    try:
        if text.lstrip("-").isdigit():
            # epoch ms a datetime can hold (years 1..9999), or 422 rather than an overflow
            if len(text) > 16 or not -62_135_596_800_000 <= int(text) <= 253_402_300_799_999:
                raise ValueError(text)
            return int(text)
        if len(text) == 10 and text[2] == "-" and text[5] == "-":
            parsed = datetime.strptime(text, "%m-%d-%Y").replace(tzinfo=UTC)
            return int(parsed.timestamp() * 1000)
        if text.endswith("Z") and "T" in text and "." in text:
            return ms_from_iso(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    except (ValueError, OverflowError):
        raise ApiError(422, [f"{name} must be a valid date"]) from None


def time_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    return None if raw in (None, "") else parse_time_ms(raw, name)


def in_window(stamp: str | None, start_ms: int | None, end_ms: int | None) -> bool:
    if start_ms is None and end_ms is None:
        return True
    if not stamp:
        return False
    ms = ms_from_iso(stamp) if stamp.endswith("Z") else parse_time_ms(stamp, "time")
    return (start_ms is None or ms >= start_ms) and (end_ms is None or ms <= end_ms)


def required_query(request: Request, *names: str) -> dict[str, str]:
    """The named query parameters, or one 422 listing those missing."""
    values = {name: request.query_params.get(name, "") for name in names}
    missing = [f"{name} should not be empty" for name, value in values.items() if not value]
    if missing:
        raise ApiError(422, missing)
    return values


def by_created(items: list[Entity], field: str = "dateAdded") -> list[Entity]:
    return sorted(items, key=lambda item: (item.get(field) or "", item["id"]))


def strip_private(entity: Entity) -> dict[str, Any]:
    return {key: value for key, value in entity.items() if not key.startswith("_")}


def location_query(request: Request, scope: str | tuple[str, ...], **kwargs: Any) -> str:
    """The required ``locationId`` query parameter, checked against the token (422 if absent)."""
    from ghlsync.emulator.common import require

    location_id = request.query_params.get("locationId") or ""
    if not location_id:
        require(request, scope=scope, **kwargs)
        raise ApiError(422, ["locationId should not be empty"])
    require(request, scope=scope, location_id=location_id, **kwargs)
    return location_id


def alt_location(request: Request, scope: str, *, type_required: bool = True, **kwargs: Any) -> str:
    """``altId`` + ``altType=location`` (invoices, payments): the location addressed."""
    from ghlsync.emulator.common import require

    alt_id = request.query_params.get("altId") or ""
    alt_type = request.query_params.get("altType") or ("location" if not type_required else "")
    messages = []
    if not alt_id:
        messages.append("altId should not be empty")
    if alt_type != "location":
        messages.append("altType must be one of the following values: location")
    if messages:
        require(request, scope=scope, **kwargs)
        raise ApiError(422, messages)
    require(request, scope=scope, location_id=alt_id, **kwargs)
    return alt_id


def page_meta(total: int, page: int, limit: int) -> dict[str, Any]:
    """``meta`` of page-numbered lists (forms and survey submissions)."""
    more = page * limit < total
    return {
        "total": total,
        "currentPage": page,
        "nextPage": page + 1 if more else None,
        "prevPage": page - 1 if page > 1 else None,
    }


def date_window(
    request: Request, start: str = "startAt", end: str = "endAt"
) -> tuple[int | None, int | None]:
    """``startAt``/``endAt`` as inclusive epoch-ms bounds (a bare date covers its whole day)."""
    q = request.query_params
    start_ms = parse_time_ms(q[start], start) if q.get(start) else None
    end_ms = parse_time_ms(q[end], end) if q.get(end) else None
    if end_ms is not None and len(q.get(end, "")) == 10:
        end_ms += DAY_MS - 1
    return start_ms, end_ms
