"""A recording ``Requester`` and an in-memory contacts-search responder for the unit tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, Any] | None
    json: Any
    location_id: str | None
    company_id: str | None
    idempotent: bool | None


Handler = Callable[[Call], Any]


@dataclass
class RecordingRequester:
    """Records every call and answers it with ``handler`` (default: an empty object)."""

    handler: Handler = field(default=lambda call: {})
    calls: list[Call] = field(default_factory=list)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        location_id: str | None = None,
        company_id: str | None = None,
        idempotent: bool | None = None,
        authenticated: bool = True,
    ) -> Any:
        call = Call(
            method,
            path,
            dict(params) if params is not None else None,
            json,
            location_id,
            company_id,
            idempotent,
        )
        self.calls.append(call)
        return self.handler(call)


class SearchLocation:
    """``POST /contacts/search`` over ``n`` contacts, as HighLevel pages it.

    Sorted by ``dateUpdated`` then ``id``; ``page`` is refused past the 10,000-record window
    (as HighLevel does) and ``page`` with ``searchAfter`` together is refused; every record and
    response carries its ``searchAfter`` cursor.
    """

    def __init__(self, n: int, *, window: int = 10_000) -> None:
        self.window = window
        self.contacts = [
            {
                "id": f"c{i:06d}",
                "dateUpdated": f"2026-01-01T00:00:{i // 1000:02d}.{i % 1000:03d}Z",
            }
            for i in range(n)
        ]

    def __call__(self, call: Call) -> Any:
        body = call.json
        size = int(body["pageLimit"])
        assert size <= 500
        if "page" in body and "searchAfter" in body:
            raise AssertionError("page and searchAfter sent together")
        if "searchAfter" in body:
            after = tuple(body["searchAfter"])
            rows = [c for c in self.contacts if (c["dateUpdated"], c["id"]) > after][:size]
        else:
            page = int(body.get("page", 1))
            if page * size > self.window:
                raise AssertionError(f"page {page} x {size} crosses the {self.window} window")
            rows = self.contacts[(page - 1) * size : page * size]
        out = [dict(c, searchAfter=[c["dateUpdated"], c["id"]]) for c in rows]
        response: dict[str, Any] = {"contacts": out, "total": len(self.contacts)}
        if out:
            response["searchAfter"] = out[-1]["searchAfter"]
        return response
