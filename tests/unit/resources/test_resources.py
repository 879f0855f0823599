"""Resources over a recording ``Requester``: wire names, retry flags, reconciliation, caching."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ghlsync.client.resources import ResourceSet
from ghlsync.client.resources._base import camel, segment, to_wire
from ghlsync.errors import NetworkFailureError, OutcomeUnknownError

from .fakes import Call, Handler, RecordingRequester


class Client(ResourceSet):
    """A ``ResourceSet`` whose ``request`` goes to a ``RecordingRequester``."""

    def __init__(self, handler: Handler = lambda call: {}) -> None:
        self.recorder = RecordingRequester(handler)
        self._init_resources()

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self.recorder.request(method, path, **kwargs)

    @property
    def calls(self) -> list[Call]:
        return self.recorder.calls


def test_camel_case_conversion_is_one_helper() -> None:
    assert camel("start_after_id") == "startAfterId"
    assert camel("locationId") == "locationId"
    assert camel("q") == "q"
    assert to_wire(
        {"first_name": "A", "last_name": None, "custom_fields": [{"field_value": 1}]}
    ) == {
        "firstName": "A",
        "customFields": [{"field_value": 1}],
    }
    assert to_wire({"location_id": "L", "end_date": "x"}, {"location_id": "location_id"}) == {
        "location_id": "L",
        "endDate": "x",
    }
    assert segment("a/b?c") == "a%2Fb%3Fc"


async def test_contact_create_sends_camel_case_and_is_not_idempotent() -> None:
    client = Client(lambda call: {"contact": {"id": "c1"}})
    created = await client.contacts.create(
        "L",
        email="a@b.co",
        first_name="Ann",
        date_of_birth="1990-01-01",
        custom_fields=[{"key": "contact.tier", "field_value": "gold"}],
    )
    assert created == {"contact": {"id": "c1"}, "reconciled": False}
    (call,) = client.calls
    assert (call.method, call.path, call.location_id, call.idempotent) == (
        "POST",
        "/contacts/",
        "L",
        None,
    )
    assert call.json == {
        "locationId": "L",
        "email": "a@b.co",
        "firstName": "Ann",
        "dateOfBirth": "1990-01-01",
        "customFields": [{"key": "contact.tier", "field_value": "gold"}],
    }


async def test_resendable_posts_say_so() -> None:
    client = Client(lambda call: {"contacts": [], "opportunity": {}, "contact": {}})
    await client.contacts.upsert("L", email="a@b.co")
    await client.contacts.search("L", query="ann")
    await client.opportunities.upsert("L", pipeline_id="p", name="deal")
    await client.contacts.add_tags("c1", ["vip"], location_id="L")
    assert [c.idempotent for c in client.calls] == [True, True, True, True]
    assert all(c.location_id == "L" for c in client.calls)


def _outcome_unknown() -> OutcomeUnknownError:
    return OutcomeUnknownError(
        "read timeout", method="POST", path="/contacts/", location_id="L", attempts=1
    )


async def test_create_reconciles_through_the_duplicate_lookup() -> None:
    def handler(call: Call) -> Any:
        if call.method == "POST":
            raise _outcome_unknown()
        return {"contact": {"id": "c9", "email": "a@b.co"}, "matchingField": "email"}

    client = Client(handler)
    created = await client.contacts.create("L", email="a@b.co", phone="+14155550100")
    assert created == {"contact": {"id": "c9", "email": "a@b.co"}, "reconciled": True}
    post, lookup = client.calls
    assert post.method == "POST"  # sent once, never resent
    assert (lookup.method, lookup.path) == ("GET", "/contacts/search/duplicate")
    assert lookup.params == {"locationId": "L", "email": "a@b.co", "number": "+14155550100"}
    assert lookup.location_id == "L"


async def test_create_reraises_when_the_contact_is_not_found() -> None:
    def handler(call: Call) -> Any:
        if call.method == "POST":
            raise _outcome_unknown()
        return {"contact": None}

    client = Client(handler)
    with pytest.raises(OutcomeUnknownError, match="no contact with this email/phone") as info:
        await client.contacts.create("L", phone="+14155550100")
    assert isinstance(info.value.cause, OutcomeUnknownError)
    # the scope and attempts of the failed create survive for the caller's reconciliation
    assert (info.value.location_id, info.value.attempts, info.value.method) == ("L", 1, "POST")
    assert [c.method for c in client.calls] == ["POST", "GET"]


async def test_create_without_email_or_phone_cannot_reconcile() -> None:
    def handler(call: Call) -> Any:
        raise _outcome_unknown()

    client = Client(handler)
    with pytest.raises(OutcomeUnknownError, match="neither email nor phone") as info:
        await client.contacts.create("L", first_name="Ann")
    assert len(client.calls) == 1
    assert info.value.location_id == "L" and info.value.attempts == 1


async def test_create_reraises_when_the_lookup_fails_too() -> None:
    def handler(call: Call) -> Any:
        if call.method == "POST":
            raise _outcome_unknown()
        raise NetworkFailureError("refused", method="GET", path="/contacts/search/duplicate")

    client = Client(handler)
    with pytest.raises(OutcomeUnknownError, match="duplicate lookup that would tell failed"):
        await client.contacts.create("L", email="a@b.co")


async def test_incremental_contacts_filter_and_sort_on_date_updated() -> None:
    client = Client(lambda call: {"contacts": [], "total": 0})
    since = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    stream = client.contacts.iterate("L", since=since, page_size=1_000)
    assert await stream.collect() == []
    body = client.calls[0].json
    assert body == {
        "locationId": "L",
        "filters": [
            {
                "field": "dateUpdated",
                "operator": "range",
                "value": {"gte": "2026-01-02T03:04:05.000Z"},
            }
        ],
        "sort": [{"field": "dateUpdated", "direction": "asc"}],
        "pageLimit": 500,
        "page": 1,
    }
    assert stream.progress.done and stream.progress.pages == 1


async def test_opportunities_keep_their_snake_case_query_names() -> None:
    client = Client(lambda call: {"opportunities": [], "meta": {"total": 0}})
    await client.opportunities.iterate(
        "L", since=dt.date(2026, 3, 4), pipeline_id="p", status="open"
    ).collect()
    assert client.calls[0].params == {
        "location_id": "L",
        "date": "03-04-2026",
        "status": "open",
        "pipeline_id": "p",
        "limit": 100,
    }


async def test_custom_field_map_is_cached_and_invalidated_on_writes() -> None:
    definitions = [{"id": "f1", "fieldKey": "contact.tier", "dataType": "SINGLE_OPTIONS"}]

    def handler(call: Call) -> Any:
        if call.method == "GET":
            return {"customFields": list(definitions)}
        definitions.append({"id": "f2", "fieldKey": "contact.size", "dataType": "NUMERICAL"})
        return {"customField": definitions[-1]}

    client = Client(handler)
    fields = client.custom_fields
    assert (await fields.resolve("L", "tier") or {}).get("id") == "f1"
    assert (await fields.resolve("L", "contact.tier") or {}).get("id") == "f1"
    assert len(client.calls) == 1  # cached
    assert client.calls[0].params == {"model": "all"}  # contact and opportunity fields

    await fields.create("L", name="Size", data_type="NUMERICAL", model="contact")
    assert (await fields.resolve("L", "contact.size") or {}).get("id") == "f2"
    assert [c.method for c in client.calls] == ["GET", "POST", "GET"]

    # an unknown key refetches once, then is answered from the cache
    assert await fields.resolve("L", "contact.nope") is None
    assert await fields.resolve("L", "contact.nope") is None
    assert [c.method for c in client.calls] == ["GET", "POST", "GET", "GET"]


async def test_messages_read_nested_and_flat_pages() -> None:
    answers = iter(
        [
            {"messages": {"messages": [{"id": "m1"}], "nextPage": True, "lastMessageId": "m1"}},
            {"messages": [{"id": "m2"}], "nextPage": False, "lastMessageId": "m2"},
        ]
    )
    client = Client(lambda call: next(answers))
    records = await client.conversations.iterate_messages("cv1", location_id="L").collect()
    assert [r["id"] for r in records] == ["m1", "m2"]
    assert client.calls[1].params == {"limit": 100, "lastMessageId": "m1"}
    assert client.calls[1].path == "/conversations/cv1/messages"


async def test_calendar_events_are_read_by_window_once_each() -> None:
    client = Client(lambda call: {"events": [{"id": "e1"}, {"id": f"e{call.params['startTime']}"}]})
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    events = [
        e
        async for e in client.calendars.iterate_events(
            "L",
            start=start,
            end=start + dt.timedelta(days=10),
            window=dt.timedelta(days=4),
            calendar_id="cal",
        )
    ]
    assert len(client.calls) == 3
    assert [e["id"] for e in events].count("e1") == 1 and len(events) == 4
    first = client.calls[0].params or {}
    assert first["startTime"] == int(start.timestamp() * 1000)
    assert first["calendarId"] == "cal"


async def test_form_submissions_send_an_explicit_start_date() -> None:
    client = Client(lambda call: {"submissions": [], "meta": {"total": 0}})
    await client.forms.iterate_submissions("L").collect()
    assert (client.calls[0].params or {})["startAt"] == "2010-01-01"
