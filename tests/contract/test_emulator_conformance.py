"""The emulator against the official specs (``../shared/ghl-api/apps/*.json``), in-process.

One scenario drives every operation the emulator implements with a valid token and Version
header; schemathesis then validates each documented response against the operation's response
schema (``response_schema_conformance``). The route table is the source of truth: every
implemented operation must map to a spec operation and be exercised, and the spec operations the
emulator leaves out are listed explicitly (``NOT_IMPLEMENTED``), so a new route or a new spec
operation fails this test until it is accounted for. Known spec errors are patched in one list,
``SPEC_QUIRKS``, each with its reason; nothing else is loosened.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from ghlsync.emulator import EmulatorSettings, SeedOptions, build, create_app
from tests.contract._scenario_objects import OBJECT_QUIRKS, exercise_objects
from tests.contract._specs import APPS, require_specs

#: the shared schemas the specs' ``../common/common-schemas.json`` refs name (error bodies)
COMMON = APPS.parent / "common"
require_specs()

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

#: the specs whose every operation is accounted for (implemented and checked, or listed below)
CORE_SPECS = (
    "contacts",
    "locations",
    "opportunities",
    "oauth",
    "users",
    "calendars",
    "conversations",
)
#: further specs the emulator implements a part of; their implemented operations are checked too
EXTRA_SPECS = (
    "campaigns",
    "businesses",
    "forms",
    "surveys",
    "invoices",
    "products",
    "payments",
    "custom-fields",
    "objects",
    "associations",
    "workflows",
)

_NULLABLE_NUMBER = {"type": ["number", "null"]}
_NULLABLE_STRING = {"type": ["string", "null"]}
_ISO_STRING = {"type": "string"}

#: (spec, JSON path inside the spec, replacement, why). The only places validation differs from
#: the published schemas.
SPEC_QUIRKS: list[tuple[str, tuple[str | int, ...], Any, str]] = [
    (
        "opportunities",
        ("components", "schemas", "PipelinesResponseSchema", "properties", "stages", "items"),
        {
            "type": "object",
            "required": ["id", "name", "position", "showInFunnel", "showInPieChart"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "position": {"type": "number"},
                "showInFunnel": {"type": "boolean"},
                "showInPieChart": {"type": "boolean"},
            },
        },
        "stages are objects, not arrays (GHL-NOTES 'Where the specs are wrong'; seeds/002)",
    ),
    *[
        (
            "opportunities",
            (
                "components",
                "schemas",
                "SearchOpportunitiesResponseSchema",
                "properties",
                name,
                "items",
            ),
            {},
            f"{name} holds ids or objects, typed as arrays of arrays (GHL-NOTES)",
        )
        for name in ("notes", "tasks", "calendarEvents", "followers")
    ],
    *[
        (
            "opportunities",
            ("components", "schemas", "SearchMetaResponseSchema", "properties", name),
            schema,
            f"meta.{name} is null on the last page (as contacts' list meta; GHL-NOTES stop rule)",
        )
        for name, schema in (
            ("nextPageUrl", _NULLABLE_STRING),
            ("startAfterId", _NULLABLE_STRING),
            ("startAfter", _NULLABLE_NUMBER),
            ("nextPage", _NULLABLE_NUMBER),
            ("prevPage", _NULLABLE_NUMBER),
        )
    ],
    *[
        (
            "calendars",
            ("components", "schemas", "CalendarEventDTO", "properties", name),
            _ISO_STRING,
            f"CalendarEventDTO.{name} is typed object; HighLevel sends an ISO string "
            "(the spec's own example and the Appointment webhook docs)",
        )
        for name in ("startTime", "endTime", "dateAdded", "dateUpdated")
    ],
    (
        "locations",
        ("components", "schemas", "LocationTaskListSuccessfulResponseDto", "properties", "tasks"),
        {"type": "array", "items": {"type": "object"}},
        "tasks are objects, typed as arrays of arrays (GHL-NOTES 'Where the specs are wrong')",
    ),
    (
        "contacts",
        ("components", "schemas", "CustomFieldSchema", "properties", "value"),
        {},
        "custom field values keep their type (number, list, ...): docs/emulator.md, GHL-NOTES",
    ),
    (
        "contacts",
        ("components", "schemas", "UpdateTagsResponseDTO", "properties", "responses", "items"),
        {"type": "object"},
        "bulk tag results are objects (the schema's own example), typed as strings",
    ),
    (
        "invoices",
        ("components", "schemas", "GetInvoiceResponseDto", "properties", "invoiceItems", "items"),
        {"type": "object"},
        "invoice items are objects (the property's own example; InvoiceItemDto), typed as strings",
    ),
    *[
        (
            "payments",
            ("components", "schemas", schema, "properties", "status"),
            {"type": "string"},
            "a transaction status is a string (the property's own example 'succeeded'), "
            "typed object",
        )
        for schema in ("TxnResponseSchema", "GetTxnResponseSchema")
    ],
    (
        "conversations",
        ("paths", "/conversations/search", "get", "parameters", 8, "schema"),
        {"type": "number", "example": 1600854},
        "startAfterDate is typed 'any', which is no JSON Schema type; it takes the last sort "
        "value, a number (ms) for the date sorts",
    ),
    *[
        (
            spec,
            ("components", "schemas", "metaSchema", "properties", name),
            _NULLABLE_NUMBER,
            f"{spec} submissions meta.{name} is null at either end of the list",
        )
        for spec in ("forms", "surveys")
        for name in ("nextPage", "prevPage")
    ],
    *OBJECT_QUIRKS,
]

#: emulator routes that are not HighLevel API operations of any spec, with the reason
NOT_IN_SPECS = {
    "GET /oauth/chooselocation": "the marketplace consent page (browser), not an API operation",
    "GET /v2/oauth/chooselocation": "the same consent page under its v2 prefix",
    "GET /contacts": "alias of GET /contacts/ (HighLevel answers both)",
    "POST /contacts": "alias of POST /contacts/ (HighLevel answers both)",
    "POST /oauth/location-token": "API v3 only (checked by test_emulator_conformance_v3.py)",
    "GET /oauth/installed-locations": "API v3 only (checked by test_emulator_conformance_v3.py)",
}


def _spec_key(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


@dataclass
class Specs:
    raw: dict[str, dict[str, Any]] = field(default_factory=dict)
    loaded: dict[str, Any] = field(default_factory=dict)
    #: (METHOD, normalised path) -> (spec name, spec path)
    index: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)


def _patched(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    for target, path, replacement, _reason in SPEC_QUIRKS:
        if target != name:
            continue
        node: Any = spec
        for key in path[:-1]:
            node = node[key]
        last = path[-1]
        present = last < len(node) if isinstance(last, int) else last in node
        assert present, f"quirk {path} no longer matches {name}.json: drop it"
        node[last] = copy.deepcopy(replacement)
    return spec


def write_specs(
    root: Path, sources: dict[str, Path], common: Path, patch: Any = None
) -> dict[str, Path]:
    """Write (patched) specs to ``root/apps/`` beside a copy of ``common/``.

    Loaded from files, the specs' ``../common/common-schemas.json#...`` refs resolve, so the
    400/401/422 bodies are validated (``from_dict`` leaves those refs unresolved and every error
    body passes).
    """
    (root / "apps").mkdir(parents=True, exist_ok=True)
    (root / "common").mkdir(exist_ok=True)
    for item in common.glob("*.json"):
        (root / "common" / item.name).write_text(item.read_text())
    out = {}
    for name, source in sources.items():
        spec = json.loads(source.read_text())
        if patch is not None:
            spec = patch(name, spec)
        target = root / "apps" / source.name
        target.write_text(json.dumps(spec))
        out[name] = target
    return out


def validates(operation: Any, response: httpx.Response, **case: Any) -> list[str]:
    """Schema violations of ``response`` for ``operation`` (empty when it conforms)."""
    try:
        operation.Case(**case).validate_response(response, checks=[response_schema_conformance])
    except (Exception, BaseExceptionGroup) as exc:  # FailureGroup; collect all, report together
        return [
            line.strip(" |")
            for line in str(exc).splitlines()
            if "is not" in line or "Schema at" in line or "required property" in line
        ] or [str(exc)[:300]]
    return []


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> Specs:
    out = Specs()
    names = (*CORE_SPECS, *EXTRA_SPECS)
    files = write_specs(
        tmp_path_factory.mktemp("specs"),
        {name: APPS / f"{name}.json" for name in names},
        COMMON,
        _patched,
    )
    for name in names:
        spec = json.loads(files[name].read_text())
        out.raw[name] = spec
        out.loaded[name] = schemathesis.openapi.from_path(str(files[name]))
        for path, operations in spec["paths"].items():
            for method in operations:
                if method in ("get", "post", "put", "delete", "patch"):
                    out.index.setdefault((method.upper(), _spec_key(path)), (name, path))
    return out


@dataclass
class Call:
    method: str
    route: str  # the emulator's route template
    response: httpx.Response
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    path_values: list[str] = field(default_factory=list)


@dataclass
class Scenario:
    client: httpx.AsyncClient
    calls: list[Call] = field(default_factory=list)

    async def call(
        self,
        method: str,
        route: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        data: dict[str, str] | None = None,
        expect: int | tuple[int, ...] = (200, 201),
        **path: str,
    ) -> Any:
        url = route.format(**path)
        response = await self.client.request(
            method, url, params=params, headers=headers, json=json_body, data=data
        )
        wanted = (expect,) if isinstance(expect, int) else expect
        assert response.status_code in wanted, f"{method} {url}: {response.text[:300]}"
        names = re.findall(r"\{([^}]+)\}", route)
        self.calls.append(
            Call(
                method,
                route,
                response,
                params or {},
                headers or {},
                json_body,
                [path[name] for name in names],
            )
        )
        return response.json() if response.content else None


def _implemented(app: Any) -> set[str]:
    found = set()
    for route in app.router.routes:
        if isinstance(route, Route) and not route.path.startswith("/_emulator"):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add(f"{method} {route.path}")
    return found


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator")


@pytest.fixture(scope="module")
def world() -> tuple[Any, Scenario, Any]:
    """A small seeded emulator and the scenario's recorded calls (run once per module)."""
    options = SeedOptions(locations=2, contacts=30, opportunities=20, seed=3)
    store, state = build(options)
    app = create_app(
        store,
        # the scenario writes and reads back at once (no search lag), and drives the filter
        # search HighLevel closes to public tokens so its 2xx body is checked too
        EmulatorSettings(
            seed=3, rate_limit=None, search_index_delay_ms=0, opportunity_filter_search=True
        ),
    )

    async def run() -> Scenario:
        async with _client(app) as client:
            scenario = Scenario(client)
            await _exercise(scenario, state)
            return scenario

    return app, asyncio.run(run()), state


def _refresh_of(granted: dict[str, Any]) -> str:
    """The refresh token of a token answer, v2 (``refresh_token``) or v3 (``refreshToken``)."""
    value: str = granted.get("refresh_token") or granted["refreshToken"]
    return value


async def _exercise(s: Scenario, state: Any) -> None:
    loc = state.locations[0]["id"]
    h = {"Authorization": f"Bearer {state.locations[0]['token']}", "Version": "2021-07-28"}
    h415 = {**h, "Version": "2021-04-15"}
    agency = {"Authorization": f"Bearer {state.agency_token}", "Version": "2021-07-28"}

    # --- OAuth
    consent = await s.client.get(
        "/oauth/chooselocation",
        params={
            "response_type": "code",
            "client_id": state.client_id,
            "redirect_uri": "http://127.0.0.1/callback",
            "locationId": loc,
        },
    )
    code = consent.headers["location"].split("code=")[1].split("&")[0]
    creds = {"client_id": state.client_id, "client_secret": state.client_secret}
    granted = await s.call(
        "POST",
        "/oauth/token",
        data={**creds, "grant_type": "authorization_code", "code": code, "user_type": "Location"},
    )
    await s.call(
        "POST",
        "/oauth/token",
        data={**creds, "grant_type": "refresh_token", "refresh_token": _refresh_of(granted)},
    )
    await s.call(
        "POST",
        "/oauth/locationToken",
        data={"companyId": state.company_id, "locationId": loc},
        headers=agency,
    )
    await s.call(
        "GET",
        "/oauth/installedLocations",
        params={"companyId": state.company_id, "appId": state.app_id},
        headers=agency,
    )

    # --- locations, tags, custom fields, tasks
    await s.call("GET", "/locations/search", params={"companyId": state.company_id}, headers=agency)
    await s.call("GET", "/locations/{locationId}", headers=h, locationId=loc)
    await s.call(
        "PUT",
        "/locations/{locationId}",
        json_body={
            "companyId": state.company_id,
            "name": "Conformance Location",
            "settings": {"allowDuplicateContact": False},
        },
        headers=agency,
        locationId=loc,
    )
    base = "/locations/{locationId}"
    await s.call("GET", base + "/tags", headers=h, locationId=loc)
    tag = (
        await s.call("POST", base + "/tags", json_body={"name": "conf"}, headers=h, locationId=loc)
    )["tag"]
    tag_path = base + "/tags/{tagId}"
    await s.call("GET", tag_path, headers=h, locationId=loc, tagId=tag["id"])
    await s.call(
        "PUT", tag_path, json_body={"name": "conf2"}, headers=h, locationId=loc, tagId=tag["id"]
    )
    await s.call("DELETE", tag_path, headers=h, locationId=loc, tagId=tag["id"])
    await s.call("GET", base + "/customFields", headers=h, locationId=loc)
    field_ = (
        await s.call(
            "POST",
            base + "/customFields",
            json_body={"name": "Conformance", "dataType": "TEXT"},
            headers=h,
            locationId=loc,
        )
    )["customField"]
    cf_path = base + "/customFields/{id}"
    await s.call("GET", cf_path, headers=h, locationId=loc, id=field_["id"])
    await s.call(
        "PUT", cf_path, json_body={"name": "Conf 2"}, headers=h, locationId=loc, id=field_["id"]
    )
    await s.call("DELETE", cf_path, headers=h, locationId=loc, id=field_["id"])
    await s.call("POST", base + "/tasks/search", json_body={"limit": 5}, headers=h, locationId=loc)

    # --- contacts
    await s.call("GET", "/contacts/", params={"locationId": loc, "limit": 5}, headers=h)
    await s.call(
        "POST", "/contacts/search", json_body={"locationId": loc, "pageLimit": 5}, headers=h
    )
    contact = (
        await s.call(
            "POST",
            "/contacts/",
            json_body={"locationId": loc, "email": "conf@example.com", "firstName": "Conf"},
            headers=h,
        )
    )["contact"]
    cid = contact["id"]
    await s.call(
        "GET",
        "/contacts/search/duplicate",
        params={"locationId": loc, "email": "conf@example.com"},
        headers=h,
    )
    await s.call(
        "POST",
        "/contacts/upsert",
        json_body={"locationId": loc, "email": "conf@example.com"},
        headers=h,
    )
    c_path = "/contacts/{contactId}"
    await s.call("GET", c_path, headers=h, contactId=cid)
    await s.call("PUT", c_path, json_body={"lastName": "Formance"}, headers=h, contactId=cid)
    await s.call("POST", c_path + "/tags", json_body={"tags": ["x"]}, headers=h, contactId=cid)
    await s.call("DELETE", c_path + "/tags", json_body={"tags": ["x"]}, headers=h, contactId=cid)
    await s.call(
        "POST",
        "/contacts/bulk/tags/update/{type}",
        json_body={"locationId": loc, "contacts": [cid], "tags": ["q"]},
        headers=h,
        type="add",
    )
    note = (
        await s.call("POST", c_path + "/notes", json_body={"body": "n"}, headers=h, contactId=cid)
    )["note"]
    await s.call("GET", c_path + "/notes", headers=h, contactId=cid)
    n_path = c_path + "/notes/{id}"
    await s.call("GET", n_path, headers=h, contactId=cid, id=note["id"])
    await s.call("PUT", n_path, json_body={"body": "m"}, headers=h, contactId=cid, id=note["id"])
    await s.call("DELETE", n_path, headers=h, contactId=cid, id=note["id"])
    task = (
        await s.call(
            "POST",
            c_path + "/tasks",
            json_body={"title": "t", "dueDate": "2027-01-01T00:00:00Z", "completed": False},
            headers=h,
            contactId=cid,
        )
    )["task"]
    await s.call("GET", c_path + "/tasks", headers=h, contactId=cid)
    t_path = c_path + "/tasks/{taskId}"
    await s.call("GET", t_path, headers=h, contactId=cid, taskId=task["id"])
    await s.call(
        "PUT", t_path, json_body={"title": "u"}, headers=h, contactId=cid, taskId=task["id"]
    )
    await s.call(
        "PUT",
        t_path + "/completed",
        json_body={"completed": True},
        headers=h,
        contactId=cid,
        taskId=task["id"],
    )
    await s.call("DELETE", t_path, headers=h, contactId=cid, taskId=task["id"])
    await s.call("GET", c_path + "/appointments", headers=h, contactId=cid)

    # --- users
    users = (await s.call("GET", "/users/", params={"locationId": loc}, headers=h))["users"]
    await s.call(
        "GET", "/users/search", params={"companyId": state.company_id, "limit": 2}, headers=agency
    )
    await s.call("GET", "/users/{userId}", headers=h, userId=users[0]["id"])

    made_user = await s.call(
        "POST",
        "/users/",
        json_body={
            "companyId": state.company_id,
            "firstName": "Conf",
            "lastName": "User",
            "email": "conf.user@example.com",
            "password": "s3cret!pass",
            "type": "account",
            "role": "user",
            "locationIds": [loc],
        },
        headers=h,
    )
    await s.call(
        "PUT",
        "/users/{userId}",
        json_body={"lastName": "Renamed"},
        headers=h,
        userId=made_user["id"],
    )
    await s.call("DELETE", "/users/{userId}", headers=h, userId=made_user["id"])

    # --- opportunities
    pipelines = (
        await s.call("GET", "/opportunities/pipelines", params={"locationId": loc}, headers=h)
    )["pipelines"]
    first = await s.call(
        "GET", "/opportunities/search", params={"location_id": loc, "limit": 3}, headers=h
    )
    await s.call(
        "GET",
        "/opportunities/search",
        params={
            "location_id": loc,
            "limit": 3,
            "startAfter": first["meta"]["startAfter"],
            "startAfterId": first["meta"]["startAfterId"],
        },
        headers=h,
    )
    await s.call(
        "POST",
        "/opportunities/search",
        json_body={"locationId": loc, "query": "", "limit": 5, "page": 1},
        headers=h,
    )
    pipeline = pipelines[0]
    opp = (
        await s.call(
            "POST",
            "/opportunities/",
            json_body={
                "locationId": loc,
                "pipelineId": pipeline["id"],
                "name": "Conformance deal",
                "status": "open",
                "contactId": cid,
                "monetaryValue": 100,
                "customFields": [{"key": "deal_source", "field_value": "conformance"}],
            },
            headers=h,
        )
    )["opportunity"]
    o_path = "/opportunities/{id}"
    await s.call("GET", o_path, headers=h, id=opp["id"])
    await s.call(
        "PUT",
        o_path,
        json_body={"monetaryValue": 250, "pipelineStageId": pipeline["stages"][1]["id"]},
        headers=h,
        id=opp["id"],
    )
    await s.call("PUT", o_path + "/status", json_body={"status": "won"}, headers=h, id=opp["id"])
    await s.call(
        "POST",
        "/opportunities/upsert",
        json_body={
            "locationId": loc,
            "pipelineId": pipeline["id"],
            "contactId": cid,
            "name": "Conformance deal",
            "followers": [],
            "isRemoveAllFollowers": False,
            "followersActionType": "add",
        },
        headers=h,
    )
    user_id = users[0]["id"]
    await s.call(
        "POST", o_path + "/followers", json_body={"followers": [user_id]}, headers=h, id=opp["id"]
    )
    await s.call(
        "DELETE", o_path + "/followers", json_body={"followers": [user_id]}, headers=h, id=opp["id"]
    )
    await s.call(
        "GET",
        "/opportunities/search",
        params={
            "location_id": loc,
            "getNotes": "true",
            "getTasks": "true",
            "getCalendarEvents": "true",
        },
        headers=h,
    )
    await s.call("GET", "/opportunities/lost-reason", params={"locationId": loc}, headers=h)
    await s.call("DELETE", o_path, headers=h, id=opp["id"])

    # --- calendars (Version 2021-04-15)
    calendars = (await s.call("GET", "/calendars/", params={"locationId": loc}, headers=h415))[
        "calendars"
    ]
    await s.call("GET", "/calendars/{calendarId}", headers=h415, calendarId=calendars[0]["id"])
    now_ms = int(time.time() * 1000)
    await s.call(
        "GET",
        "/calendars/events",
        params={
            "locationId": loc,
            "calendarId": calendars[0]["id"],
            "startTime": now_ms - 400 * 86_400_000,
            "endTime": now_ms + 400 * 86_400_000,
        },
        headers=h415,
    )
    made = await s.call(
        "POST",
        "/calendars/events/appointments",
        json_body={
            "calendarId": calendars[0]["id"],
            "locationId": loc,
            "contactId": cid,
            "startTime": "2027-03-01T10:00:00Z",
        },
        headers=h415,
    )
    a_path = "/calendars/events/appointments/{eventId}"
    await s.call("GET", a_path, headers=h415, eventId=made["id"])
    await s.call(
        "PUT", a_path, json_body={"appointmentStatus": "showed"}, headers=h415, eventId=made["id"]
    )
    await s.call(
        "DELETE", "/calendars/events/{eventId}", headers=h415, eventId=made["id"], expect=201
    )

    await s.call("GET", "/calendars/groups", params={"locationId": loc}, headers=h415)
    new_calendar = (
        await s.call(
            "POST",
            "/calendars/",
            json_body={"locationId": loc, "name": "Conformance Calendar", "slotDuration": 45},
            headers=h415,
        )
    )["calendar"]
    await s.call(
        "PUT",
        "/calendars/{calendarId}",
        json_body={"name": "Renamed", "slotDurationUnit": "mins"},
        headers=h415,
        calendarId=new_calendar["id"],
    )
    await s.call("DELETE", "/calendars/{calendarId}", headers=h415, calendarId=new_calendar["id"])

    # --- conversations (Version 2021-04-15)
    found = await s.call(
        "GET", "/conversations/search", params={"locationId": loc, "limit": 3}, headers=h415
    )
    conversation = found["conversations"][0]
    await s.call(
        "GET", "/conversations/{conversationId}", headers=h415, conversationId=conversation["id"]
    )
    await s.call(
        "GET",
        "/conversations/{conversationId}/messages",
        params={"limit": 2},
        headers=h415,
        conversationId=conversation["id"],
    )
    messages = await s.call(
        "GET",
        "/conversations/{conversationId}/messages",
        headers=h415,
        conversationId=conversation["id"],
    )
    await s.call(
        "GET", "/conversations/messages/{id}", headers=h415, id=messages["messages"][0]["id"]
    )
    await s.call(
        "POST",
        "/conversations/messages",
        json_body={"type": "Email", "contactId": cid, "message": "hello", "subject": "hi"},
        headers=h415,
    )

    inbound = await s.call(
        "POST",
        "/conversations/messages/inbound",
        json_body={
            "type": "SMS",
            "conversationId": conversation["id"],
            "contactId": conversation["contactId"],
            "conversationProviderId": "provider-1",
            "message": "inbound hello",
        },
        headers=h415,
    )
    assert inbound["success"] is True
    await s.call(
        "PUT",
        "/conversations/{conversationId}",
        json_body={"locationId": loc, "unreadCount": 0, "starred": True},
        headers=h415,
        conversationId=conversation["id"],
    )
    other = (
        await s.call(
            "POST",
            "/contacts/",
            json_body={"locationId": loc, "email": "talk@example.com"},
            headers=h,
        )
    )["contact"]
    fresh = await s.call(
        "POST",
        "/conversations/",
        json_body={"locationId": loc, "contactId": other["id"]},
        headers=h415,
    )
    await s.call(
        "DELETE",
        "/conversations/{conversationId}",
        headers=h415,
        conversationId=fresh["conversation"]["id"],
    )

    # --- the rest of the surface
    await s.call("GET", "/campaigns/", params={"locationId": loc}, headers=h)
    businesses = await s.call(
        "GET", "/businesses/", params={"locationId": loc, "limit": 2}, headers=h
    )
    await s.call(
        "GET", "/businesses/{businessId}", headers=h, businessId=businesses["businesses"][0]["id"]
    )
    await s.call("GET", "/forms/", params={"locationId": loc}, headers=h)
    await s.call("GET", "/forms/submissions", params={"locationId": loc, "limit": 3}, headers=h)
    await s.call("GET", "/surveys/", params={"locationId": loc}, headers=h)
    await s.call("GET", "/surveys/submissions", params={"locationId": loc, "limit": 3}, headers=h)
    alt = {"altId": loc, "altType": "location"}
    invoices = await s.call("GET", "/invoices/", params={**alt, "limit": 2, "offset": 0}, headers=h)
    await s.call(
        "GET",
        "/invoices/{invoiceId}",
        params=alt,
        headers=h,
        invoiceId=invoices["invoices"][0]["_id"],
    )
    products = await s.call("GET", "/products/", params={"locationId": loc, "limit": 2}, headers=h)
    await s.call(
        "GET",
        "/products/{productId}",
        params={"locationId": loc},
        headers=h,
        productId=products["products"][0]["_id"],
    )
    orders = await s.call("GET", "/payments/orders", params={"altId": loc, "limit": 2}, headers=h)
    await s.call(
        "GET",
        "/payments/orders/{orderId}",
        params={"altId": loc},
        headers=h,
        orderId=orders["data"][0]["_id"],
    )
    txns = await s.call("GET", "/payments/transactions", params={**alt, "limit": 2}, headers=h)
    await s.call(
        "GET",
        "/payments/transactions/{transactionId}",
        params=alt,
        headers=h,
        transactionId=txns["data"][0]["_id"],
    )
    await s.call(
        "GET",
        "/contacts/business/{businessId}",
        params={"locationId": loc, "limit": 5},
        headers=h,
        businessId=businesses["businesses"][0]["id"],
    )
    await s.call(
        "POST",
        "/users/search/filter-by-email",
        json_body={"companyId": state.company_id, "emails": users[0]["email"]},
        headers=agency,
    )
    await s.call("DELETE", c_path, headers=h, contactId=cid)
    await exercise_objects(s, state)


def test_the_validator_checks_error_bodies(specs: Specs) -> None:
    """A deliberately bad 401/422 body fails (the common-schemas refs are resolved)."""
    operation = specs.loaded["contacts"]["/contacts/{contactId}"]["GET"]
    request = httpx.Request("GET", "http://emulator/contacts/x")

    def answer(status: int, body: Any) -> httpx.Response:
        response = httpx.Response(status, json=body, request=request)
        response.elapsed = dt.timedelta(0)
        return response

    good = {"statusCode": 401, "message": "Invalid JWT", "error": "Unauthorized"}
    case = {"path_parameters": {"contactId": "x"}}
    assert validates(operation, answer(401, good), **case) == []
    assert validates(operation, answer(401, {"statusCode": "401", "message": 5}), **case)
    create = specs.loaded["contacts"]["/contacts/"]["POST"]
    assert (
        validates(create, answer(422, {"statusCode": 422, "message": ["email must be an email"]}))
        == []
    )
    assert validates(create, answer(422, {"statusCode": 422, "message": "not a list"}))


def _spec_op(specs: Specs, operation: str) -> tuple[str, str] | None:
    method, path = operation.split(" ", 1)
    for candidate in (path, path.rstrip("/"), path if path.endswith("/") else path + "/"):
        found = specs.index.get((method, _spec_key(candidate)))
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------- the checks
def test_every_route_maps_to_a_spec_operation(world: Any, specs: Specs) -> None:
    app, _, _ = world
    unmapped = sorted(
        op for op in _implemented(app) if op not in NOT_IN_SPECS and _spec_op(specs, op) is None
    )
    assert unmapped == [], f"routes matching no spec operation: {unmapped}"
    stale = sorted(set(NOT_IN_SPECS) - _implemented(app))
    assert stale == [], f"NOT_IN_SPECS lists routes that are gone: {stale}"


def test_every_implemented_operation_is_exercised(world: Any) -> None:
    app, scenario, _ = world
    exercised = {f"{call.method} {call.route}" for call in scenario.calls}
    missing = sorted(_implemented(app) - exercised - set(NOT_IN_SPECS))
    assert missing == [], f"implemented but not checked: {missing}"


def test_responses_validate_against_the_spec(world: Any, specs: Specs) -> None:
    _, scenario, _ = world
    failures = []
    for call in scenario.calls:
        spec_name, spec_path = _spec_op(specs, f"{call.method} {call.route}") or (None, None)
        assert spec_name is not None and spec_path is not None
        operation = specs.loaded[spec_name][spec_path][call.method]
        names = re.findall(r"\{([^}]+)\}", spec_path)
        detail = validates(
            operation,
            call.response,
            path_parameters=dict(zip(names, call.path_values, strict=True)),
            query=call.query,
            headers=call.headers,
        )
        if detail:
            failures.append(f"{call.method} {call.route} ({spec_name}): {' / '.join(detail[:4])}")
    assert failures == [], "\n\n".join(failures)


def test_spec_operations_not_implemented_are_listed(world: Any, specs: Specs) -> None:
    app, _, _ = world
    implemented = set()
    for operation in _implemented(app):
        found = _spec_op(specs, operation)
        if found is not None:
            implemented.add((operation.split(" ", 1)[0], *found))
    missing = sorted(
        f"{method.upper()} {path}"
        for name in CORE_SPECS
        for path, operations in specs.raw[name]["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "delete", "patch")
        and (method.upper(), name, path) not in implemented
    )
    assert missing == sorted(NOT_IMPLEMENTED), (
        "update NOT_IMPLEMENTED: newly implemented "
        f"{sorted(set(NOT_IMPLEMENTED) - set(missing))}, newly missing "
        f"{sorted(set(missing) - set(NOT_IMPLEMENTED))}"
    )


@pytest.mark.parametrize(
    ("method", "path", "params", "version"),
    [
        ("GET", "/opportunities/search", {"location_id": "{loc}"}, "2021-07-28"),
        ("GET", "/opportunities/pipelines", {"locationId": "{loc}"}, "2021-07-28"),
        ("GET", "/users/", {"locationId": "{loc}"}, "2021-07-28"),
        ("GET", "/calendars/", {"locationId": "{loc}"}, "2021-04-15"),
        ("GET", "/conversations/search", {"locationId": "{loc}"}, "2021-04-15"),
        ("GET", "/contacts/", {"locationId": "{loc}"}, "2021-07-28"),
        ("GET", "/forms/submissions", {"locationId": "{loc}"}, "2021-07-28"),
    ],
)
async def test_bad_token_and_bad_version_are_4xx_with_the_error_body(
    world: Any, method: str, path: str, params: dict[str, str], version: str
) -> None:
    app, _, state = world
    loc = state.locations[0]["id"]
    query = {key: value.format(loc=loc) for key, value in params.items()}
    good = f"Bearer {state.locations[0]['token']}"
    cases = [
        ({"Authorization": "Bearer not-a-token", "Version": version}, 401),
        ({"Version": version}, 401),
        ({"Authorization": good, "Version": "1999-01-01"}, 400),
        ({"Authorization": good}, 400),
    ]
    async with _client(app) as client:
        responses = [
            (await client.request(method, path, params=query, headers=headers), status)
            for headers, status in cases
        ]
    for response, status in responses:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["statusCode"] == status
        assert isinstance(body["message"], str | list)
        assert isinstance(body["error"], str)


#: operations of CORE_SPECS the emulator does not implement (the test fails when this drifts)
NOT_IMPLEMENTED: list[str] = [
    "DELETE /calendars/appointments/{appointmentId}/notes/{noteId}",
    "DELETE /calendars/groups/{groupId}",
    "DELETE /calendars/resources/{resourceType}/{id}",
    "DELETE /calendars/schedules/{id}",
    "DELETE /calendars/schedules/{id}/associations/{calendarId}",
    "DELETE /calendars/{calendarId}/notifications/{notificationId}",
    "DELETE /conversations/messages/email/{emailMessageId}/schedule",
    "DELETE /conversations/messages/{messageId}/schedule",
    "DELETE /locations/{locationId}",
    "DELETE /locations/{locationId}/recurring-tasks/{id}",
    "DELETE /locations/{locationId}/templates/{id}",
    "GET /calendars/appointments/{appointmentId}/notes",
    "GET /calendars/blocked-slots",
    "GET /calendars/resources/{resourceType}",
    "GET /calendars/resources/{resourceType}/{id}",
    "GET /calendars/schedules/search",
    "GET /calendars/schedules/{id}",
    "GET /calendars/{calendarId}/free-slots",
    "GET /calendars/{calendarId}/notifications",
    "GET /calendars/{calendarId}/notifications/{notificationId}",
    "GET /conversations/locations/{locationId}/messages/{messageId}/transcription",
    "GET /conversations/locations/{locationId}/messages/{messageId}/transcription/download",
    "GET /conversations/messages/email/{id}",
    "GET /conversations/messages/export",
    "GET /conversations/messages/{messageId}/locations/{locationId}/recording",
    "GET /conversations/preferences/custom-subtypes",
    "GET /conversations/preferences/unsubscriptions/status",
    "GET /locations/{locationId}/recurring-tasks/{id}",
    "GET /locations/{locationId}/templates",
    "GET /locations/{locationId}/timezones",
    "POST /calendars/appointments/{appointmentId}/notes",
    "POST /calendars/events/block-slots",
    "POST /calendars/groups",
    "POST /calendars/groups/validate-slug",
    "POST /calendars/resources/{resourceType}",
    "POST /calendars/schedules",
    "POST /calendars/{calendarId}/notifications",
    "POST /contacts/bulk/business",
    "POST /conversations/messages/outbound",
    "POST /conversations/messages/review-reply",
    "POST /conversations/messages/upload",
    "POST /conversations/messages/upload/complete",
    "POST /conversations/messages/upload/initiate",
    "POST /conversations/preferences/custom-subtypes",
    "POST /conversations/preferences/unsubscriptions/user-change",
    "POST /conversations/providers/live-chat/typing",
    "POST /locations/",
    "POST /locations/{locationId}/customFields/upload",
    "POST /locations/{locationId}/recurring-tasks",
    "PUT /calendars/appointments/{appointmentId}/notes/{noteId}",
    "PUT /calendars/events/block-slots/{eventId}",
    "PUT /calendars/groups/{groupId}",
    "PUT /calendars/groups/{groupId}/status",
    "PUT /calendars/resources/{resourceType}/{id}",
    "PUT /calendars/schedules/{id}",
    "PUT /calendars/schedules/{id}/associations/{calendarId}",
    "PUT /calendars/{calendarId}/notifications/{notificationId}",
    "PUT /conversations/messages/{messageId}/attachments",
    "PUT /conversations/messages/{messageId}/status",
    "PUT /conversations/preferences/custom-subtypes/{id}",
    "PUT /locations/{locationId}/recurring-tasks/{id}",
]


# --------------------------------------------------------------------------- generated cases
#: query parameters that name the location: generated values are replaced by the seeded one so
#: that most generated requests reach the handler instead of stopping at 403
_LOCATION_PARAMS = ("locationId", "location_id", "altId")
EXAMPLES_PER_OPERATION = 10


def _generated_get_operations() -> list[tuple[str, str]]:
    """The implemented GET operations, as (spec, spec path), known at collection time."""
    if not APPS.exists():
        return []
    from ghlsync.emulator.app import API_ROUTES

    index: dict[tuple[str, str], tuple[str, str]] = {}
    for name in (*CORE_SPECS, *EXTRA_SPECS):
        spec = json.loads((APPS / f"{name}.json").read_text())
        for path, operations in spec["paths"].items():
            if "get" in operations:
                index.setdefault(("GET", _spec_key(path)), (name, path))
    found = set()
    for route in API_ROUTES:
        if isinstance(route, Route) and "GET" in (route.methods or ()):
            for candidate in (route.path, route.path.rstrip("/"), route.path + "/"):
                hit = index.get(("GET", _spec_key(candidate)))
                if hit is not None:
                    found.add(hit)
                    break
    return sorted(found)


@pytest.mark.parametrize(("spec_name", "spec_path"), _generated_get_operations())
def test_generated_requests_get_documented_answers(
    world: Any, specs: Specs, spec_name: str, spec_path: str
) -> None:
    """schemathesis-generated queries (a few per implemented GET operation): never a 5xx, and
    every documented status answers with its documented shape (400/401/422 bodies included)."""
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error

    app, _, state = world
    operation = specs.loaded[spec_name][spec_path]["GET"]
    token = state.locations[0]["token"]
    loc = state.locations[0]["id"]
    loop = asyncio.new_event_loop()
    client = _client(app)

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        query = dict(case.query or {})
        for name in _LOCATION_PARAMS:
            if name in query:
                query[name] = loc
        case.query = query
        response = loop.run_until_complete(
            client.request("GET", case.formatted_path, params=query, headers=case.headers)
        )
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    try:
        check()
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()


def _spec_scopes(specs: Specs, spec_name: str, spec_path: str, method: str) -> set[str]:
    operation = specs.raw[spec_name]["paths"][spec_path][method.lower()]
    return {
        scope
        for entry in operation.get("security", [])
        for scopes in entry.values()
        for scope in scopes
    }


def test_each_operation_accepts_exactly_its_spec_scopes(world: Any, specs: Specs) -> None:
    """Replays every authorised scenario call with a token holding only the scopes the spec's
    ``security`` lists (never 401), then with an unrelated scope (always 401)."""
    app, scenario, state = world

    async def run() -> list[str]:
        problems = []
        async with _client(app) as client:

            async def mint(scopes: list[str], agency: bool) -> str:
                body: dict[str, Any] = {"scopes": scopes}
                if not agency:
                    body["locationId"] = state.locations[0]["id"]
                token: str = (await client.post("/_emulator/tokens", json=body)).json()["token"]
                return token

            for call in scenario.calls:
                auth = call.headers.get("Authorization")
                if not auth:
                    continue
                spec_name, spec_path = _spec_op(specs, f"{call.method} {call.route}") or ("", "")
                wanted = _spec_scopes(specs, spec_name, spec_path, call.method)
                if not wanted:
                    continue
                agency = auth == f"Bearer {state.agency_token}"
                url = call.route.format(
                    **dict(
                        zip(re.findall(r"\{([^}]+)\}", call.route), call.path_values, strict=True)
                    )
                )
                for scopes, should_pass in ((sorted(wanted), True), (["medias.readonly"], False)):
                    token = await mint(scopes, agency)
                    response = await client.request(
                        call.method,
                        url,
                        params=call.query,
                        headers={**call.headers, "Authorization": f"Bearer {token}"},
                        json=call.body,
                    )
                    refused = response.status_code == 401
                    if refused == should_pass:
                        problems.append(
                            f"{call.method} {call.route} with {scopes}: {response.status_code}"
                        )
        return problems

    assert asyncio.run(run()) == []


def test_every_operation_refuses_a_bad_token_and_a_bad_version(world: Any, specs: Specs) -> None:
    """Each authorised scenario call, replayed with an unknown token (401) and with an unknown
    ``Version`` (400), answers HighLevel's error body, valid against the operation's schema."""
    app, scenario, _ = world

    async def run() -> list[str]:
        problems = []
        async with _client(app) as client:
            for call in scenario.calls:
                if "Authorization" not in call.headers or "Version" not in call.headers:
                    continue
                url = call.route.format(
                    **dict(
                        zip(re.findall(r"\{([^}]+)\}", call.route), call.path_values, strict=True)
                    )
                )
                variants = (
                    ({**call.headers, "Authorization": "Bearer nope"}, 401),
                    ({**call.headers, "Version": "2000-01-01"}, 400),
                )
                for headers, status in variants:
                    response = await client.request(
                        call.method, url, params=call.query, headers=headers, json=call.body
                    )
                    body = response.json()
                    if response.status_code != status or body.get("statusCode") != status:
                        problems.append(f"{call.method} {call.route}: {response.status_code}")
                    elif not isinstance(body.get("message"), str | list) or not body.get("error"):
                        problems.append(f"{call.method} {call.route}: body {body}")
                    found = _spec_op(specs, f"{call.method} {call.route}")
                    if found is not None:
                        spec_name, spec_path = found
                        operation = specs.loaded[spec_name][spec_path][call.method]
                        names = re.findall(r"\{([^}]+)\}", spec_path)
                        detail = validates(
                            operation,
                            response,
                            path_parameters=dict(zip(names, call.path_values, strict=True)),
                        )
                        if detail:
                            problems.append(f"{call.method} {call.route} {status}: {detail[:2]}")
        return problems

    assert asyncio.run(run()) == []


def test_filter_opportunity_search_answers_the_iam_401_by_default(specs: Specs) -> None:
    """GHL-NOTES §5 (hl-docs#74): HighLevel's default; the body is a valid documented 401."""
    store, state = build(SeedOptions(locations=1, contacts=3, opportunities=2, seed=4))
    app = create_app(store, EmulatorSettings(seed=4, rate_limit=None))
    headers = {"Authorization": f"Bearer {state.locations[0]['token']}", "Version": "2021-07-28"}

    async def run() -> httpx.Response:
        async with _client(app) as client:
            return await client.post(
                "/opportunities/search",
                json={"locationId": state.locations[0]["id"], "filters": []},
                headers=headers,
            )

    response = asyncio.run(run())
    assert response.status_code == 401
    assert "not yet supported by the IAM Service" in response.json()["message"]
    operation = specs.loaded["opportunities"]["/opportunities/search"]["POST"]
    assert validates(operation, response) == []
