"""Every public resource method, driven once, against HighLevel's OpenAPI specs.

Methods are found by introspection, so a new public method without an entry in ``SAMPLES``
fails ``test_every_public_method_has_a_sample``. Each recorded request must match a templated
path of ``../shared/ghl-api/apps/*.json`` with that method, carry every required query and path
parameter and no undeclared query parameter, and send a JSON body that validates against the
operation's ``requestBody`` schema (``$ref``s resolved, top-level fields limited to the declared
properties, as HighLevel answers unknown properties with 422). Spec quirks are patched in one
list, ``QUIRKS``, each with its reason.

Requests go through the real ``AsyncGHLClient`` over ``httpx.MockTransport``, so what is
checked is what goes on the wire, ``Version`` header included (against the spec's enum). Form
bodies (``POST /oauth/token`` for both grants, ``POST /oauth/locationToken``) are checked against
the ``application/x-www-form-urlencoded`` schema, driven through ``OAuthAuth``.

Without ``../shared`` the module is skipped, except when ``CI`` is set: then it fails.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ghlsync.client import AsyncGHLClient, OAuthAuth, TokenRecord, TokenStore
from ghlsync.client.pagination import PageStream, RecordStream
from ghlsync.client.resources import ResourceSet
from tests.contract._specs import APPS as SPECS
from tests.contract._specs import require_specs

require_specs()

L, CO = "loc1", "co1"
NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)

# -- one sample call per public method -------------------------------------------------------------
# ``None`` marks a method that sends nothing by design (the reason is in the comment).
Sample = Callable[[ResourceSet], Any] | None

SAMPLES: dict[str, Sample] = {
    # contacts
    "contacts.create": lambda c: c.contacts.create(
        L,
        email="a@b.co",
        phone="+14155550100",
        first_name="Ann",
        last_name="Lee",
        tags=["vip"],
        custom_fields=[{"id": "f1", "field_value": "gold"}],
        company_name="Acme",
        source="ghlsync",
    ),
    "contacts.get": lambda c: c.contacts.get("c1", location_id=L),
    "contacts.update": lambda c: c.contacts.update(
        "c1", location_id=L, first_name="Ann", tags=["a"], dnd=False
    ),
    "contacts.delete": lambda c: c.contacts.delete("c1", location_id=L),
    "contacts.upsert": lambda c: c.contacts.upsert(
        L, email="a@b.co", phone="+14155550100", first_name="Ann", tags=["vip"]
    ),
    "contacts.find_duplicate": lambda c: c.contacts.find_duplicate(L, email="a@b.co"),
    "contacts.search": lambda c: c.contacts.search(
        L,
        query="ann",
        filters=[{"field": "tags", "operator": "eq", "value": "vip"}],
        sort=[{"field": "dateAdded", "direction": "desc"}],
        page=2,
        page_limit=50,
    ),
    "contacts.pages": lambda c: c.contacts.pages(L, since=NOW, page_size=100),
    "contacts.iterate": lambda c: c.contacts.iterate(L, search_after=[1, "c0"]),
    "contacts.list_page": lambda c: c.contacts.list_page(L, query="ann", start_after=1),
    "contacts.list_pages": lambda c: c.contacts.list_pages(L, page_size=50),
    "contacts.add_tags": lambda c: c.contacts.add_tags("c1", ["a"], location_id=L),
    "contacts.remove_tags": lambda c: c.contacts.remove_tags("c1", ["a"], location_id=L),
    "contacts.bulk_update_tags": lambda c: c.contacts.bulk_update_tags(
        L, "add", contact_ids=["c1", "c2"], tags=["a"]
    ),
    "contacts.list_notes": lambda c: c.contacts.list_notes("c1", location_id=L),
    "contacts.create_note": lambda c: c.contacts.create_note(
        "c1", "called", location_id=L, title="Call"
    ),
    "contacts.get_note": lambda c: c.contacts.get_note("c1", "n1", location_id=L),
    "contacts.update_note": lambda c: c.contacts.update_note(
        "c1", "n1", location_id=L, body="called back"
    ),
    "contacts.delete_note": lambda c: c.contacts.delete_note("c1", "n1", location_id=L),
    "contacts.list_tasks": lambda c: c.contacts.list_tasks("c1", location_id=L),
    "contacts.create_task": lambda c: c.contacts.create_task(
        "c1", title="Call", due_date=NOW, body="x", location_id=L
    ),
    "contacts.get_task": lambda c: c.contacts.get_task("c1", "t1", location_id=L),
    "contacts.update_task": lambda c: c.contacts.update_task(
        "c1", "t1", location_id=L, title="Call", completed=True
    ),
    "contacts.set_task_completed": lambda c: c.contacts.set_task_completed(
        "c1", "t1", location_id=L
    ),
    "contacts.delete_task": lambda c: c.contacts.delete_task("c1", "t1", location_id=L),
    "contacts.list_appointments": lambda c: c.contacts.list_appointments("c1", location_id=L),
    # custom fields and tags
    "custom_fields.list": lambda c: c.custom_fields.list(L, model="contact"),
    "custom_fields.get": lambda c: c.custom_fields.get(L, "f1"),
    "custom_fields.create": lambda c: c.custom_fields.create(
        L, name="Tier", data_type="TEXT", model="contact", placeholder="tier", position=1
    ),
    "custom_fields.update": lambda c: c.custom_fields.update(L, "f1", name="Tier 2"),
    "custom_fields.delete": lambda c: c.custom_fields.delete(L, "f1"),
    "custom_fields.field_map": lambda c: c.custom_fields.field_map(L),
    "custom_fields.resolve": lambda c: c.custom_fields.resolve(L, "contact.tier"),
    "custom_fields.invalidate": None,  # drops the local cache; no request
    "tags.list": lambda c: c.tags.list(L),
    "tags.create": lambda c: c.tags.create(L, "vip"),
    "tags.get": lambda c: c.tags.get(L, "t1"),
    "tags.update": lambda c: c.tags.update(L, "t1", "vip2"),
    "tags.delete": lambda c: c.tags.delete(L, "t1"),
    # locations
    "locations.get": lambda c: c.locations.get(L),
    "locations.search": lambda c: c.locations.search(CO, limit=10, order="asc"),
    "locations.pages": lambda c: c.locations.pages(CO, page_size=10),
    "locations.iterate": lambda c: c.locations.iterate(CO, email="a@b.co"),
    "locations.installed_pages": lambda c: c.locations.installed_pages(CO, "app1"),
    "locations.iterate_installed": lambda c: c.locations.iterate_installed(CO, "app1"),
    # opportunities and pipelines
    "opportunities.search": lambda c: c.opportunities.search(
        L, status="open", pipeline_id="p1", order="added_asc", page=2, limit=50
    ),
    "opportunities.pages": lambda c: c.opportunities.pages(L, since=NOW.date(), until=NOW.date()),
    "opportunities.iterate": lambda c: c.opportunities.iterate(L, status="won", contact_id="c1"),
    "opportunities.get": lambda c: c.opportunities.get("o1", location_id=L),
    "opportunities.create": lambda c: c.opportunities.create(
        L, pipeline_id="p1", name="Deal", contact_id="c1", monetary_value=100.0
    ),
    "opportunities.update": lambda c: c.opportunities.update(
        "o1", location_id=L, pipeline_stage_id="s2", monetary_value=5.0
    ),
    "opportunities.update_status": lambda c: c.opportunities.update_status(
        "o1", "lost", lost_reason_id="r1", location_id=L
    ),
    "opportunities.delete": lambda c: c.opportunities.delete("o1", location_id=L),
    "opportunities.upsert": lambda c: c.opportunities.upsert(
        L, pipeline_id="p1", name="Deal", status="open", monetary_value=3.0
    ),
    "pipelines.list": lambda c: c.pipelines.list(L),
    # small catalogues
    "campaigns.list": lambda c: c.campaigns.list(L, status="published"),
    "users.list": lambda c: c.users.list(L),
    "users.get": lambda c: c.users.get("u1", location_id=L),
    "users.search": lambda c: c.users.search(CO, location_id=L, query="ann"),
    "users.search_pages": lambda c: c.users.search_pages(CO, page_size=10),
    "businesses.get": lambda c: c.businesses.get("b1", location_id=L),
    "businesses.pages": lambda c: c.businesses.pages(L, page_size=10),
    "businesses.iterate": lambda c: c.businesses.iterate(L),
    # calendars and conversations
    "calendars.list": lambda c: c.calendars.list(L, show_drafted=True),
    "calendars.events": lambda c: c.calendars.events(
        L, start=NOW, end=NOW + dt.timedelta(days=1), calendar_id="cal1"
    ),
    "calendars.iterate_events": lambda c: c.calendars.iterate_events(
        L, start=NOW, end=NOW + dt.timedelta(days=40), user_id="u1"
    ),
    "conversations.pages": lambda c: c.conversations.pages(L, since=NOW, page_size=50),
    "conversations.iterate": lambda c: c.conversations.iterate(L, contact_id="c1"),
    "conversations.message_pages": lambda c: c.conversations.message_pages(
        "cv1", location_id=L, types=["TYPE_SMS"]
    ),
    "conversations.iterate_messages": lambda c: c.conversations.iterate_messages(
        "cv1", location_id=L
    ),
    "conversations.send_message": lambda c: c.conversations.send_message(
        "c1", type="SMS", message="hello", location_id=L
    ),
    # forms and surveys
    "forms.pages": lambda c: c.forms.pages(L, page_size=10),
    "forms.iterate": lambda c: c.forms.iterate(L),
    "forms.submission_pages": lambda c: c.forms.submission_pages(
        L, since=NOW.date(), until=NOW.date(), parent_id="f1"
    ),
    "forms.iterate_submissions": lambda c: c.forms.iterate_submissions(L),
    "surveys.pages": lambda c: c.surveys.pages(L),
    "surveys.iterate": lambda c: c.surveys.iterate(L, page_size=10),
    "surveys.submission_pages": lambda c: c.surveys.submission_pages(L, parent_id="s1"),
    "surveys.iterate_submissions": lambda c: c.surveys.iterate_submissions(L, q="ann"),
    # commerce
    "invoices.pages": lambda c: c.invoices.pages(L, since=NOW.date(), status="paid"),
    "invoices.iterate": lambda c: c.invoices.iterate(L),
    "products.get": lambda c: c.products.get("p1", L),
    "products.pages": lambda c: c.products.pages(L, search="shirt"),
    "products.iterate": lambda c: c.products.iterate(L),
    "payments.order_pages": lambda c: c.payments.order_pages(L, since=NOW.date()),
    "payments.iterate_orders": lambda c: c.payments.iterate_orders(L),
    "payments.transaction_pages": lambda c: c.payments.transaction_pages(L, until=NOW.date()),
    "payments.iterate_transactions": lambda c: c.payments.iterate_transactions(L),
    "objects.list": lambda c: c.objects.list(L),
    "objects.get": lambda c: c.objects.get("custom_objects.pet", L, fetch_properties=True),
    "objects.fields": lambda c: c.objects.fields("custom_objects.pet", L),
    "objects.record_pages": lambda c: c.objects.record_pages("custom_objects.pet", L),
    "objects.iterate_records": lambda c: c.objects.iterate_records("custom_objects.pet", L),
    "objects.get_record": lambda c: c.objects.get_record("custom_objects.pet", "r1", L),
    "objects.create_record": lambda c: c.objects.create_record(
        "custom_objects.pet", L, {"name": "Rex"}, owner=["u1"], followers=[]
    ),
    "objects.update_record": lambda c: c.objects.update_record(
        "custom_objects.pet", "r1", L, {"age": 5}
    ),
    "objects.delete_record": lambda c: c.objects.delete_record("custom_objects.pet", "r1", L),
    "associations.pages": lambda c: c.associations.pages(L, page_size=10),
    "associations.iterate": lambda c: c.associations.iterate(L),
    "associations.get": lambda c: c.associations.get("a1", location_id=L),
    "associations.relation_pages": lambda c: c.associations.relation_pages(
        "r1", L, association_ids=["a1"]
    ),
    "associations.iterate_relations": lambda c: c.associations.iterate_relations("r1", L),
    "associations.create_relation": lambda c: c.associations.create_relation(L, "a1", "c1", "r1"),
    "associations.delete_relation": lambda c: c.associations.delete_relation("rel1", L),
    "custom_values.list": lambda c: c.custom_values.list(L),
    "custom_values.get": lambda c: c.custom_values.get(L, "v1"),
    "custom_values.create": lambda c: c.custom_values.create(L, name="Hotline", value="1"),
    "custom_values.update": lambda c: c.custom_values.update(L, "v1", name="Hotline", value="2"),
    "custom_values.delete": lambda c: c.custom_values.delete(L, "v1"),
    "workflows.list": lambda c: c.workflows.list(L),
}

# -- spec quirks, patched here and nowhere else ------------------------------------------------------
# GHL-NOTES "Contacts": the spec's body schema for contact search is empty; the documented fields.
CONTACT_SEARCH_BODY = {
    "type": "object",
    "required": ["locationId", "pageLimit"],
    "additionalProperties": False,
    "properties": {
        "locationId": {"type": "string"},
        "pageLimit": {"type": "integer", "minimum": 1, "maximum": 500},
        "page": {"type": "integer", "minimum": 1},
        "searchAfter": {"type": "array", "minItems": 1},
        "filters": {"type": "array"},
        "sort": {"type": "array"},
        "query": {"type": "string", "maxLength": 75},
    },
    "not": {"required": ["page", "searchAfter"]},
}


@dataclass(frozen=True)
class Quirk:
    """How the spec is patched for one operation, and why."""

    reason: str
    body_schema: Mapping[str, Any] | None = None
    extra_params: frozenset[str] = frozenset()
    not_required: frozenset[str] = frozenset()
    properties: Mapping[str, Any] = field(default_factory=dict)


QUIRKS: dict[tuple[str, str], Quirk] = {
    ("POST", "/contacts/search"): Quirk(
        "SearchBodyV2DTO is empty; check against GHL-NOTES 'Contacts' (page/searchAfter rules)",
        body_schema=CONTACT_SEARCH_BODY,
    ),
    ("POST", "/objects/{schemaKey}/records/search"): Quirk(
        "SearchRecordsBody requires page, pageLimit, query and searchAfter together; page and "
        "searchAfter are alternatives (the search pages as contact search does, GHL-NOTES §4)",
        not_required=frozenset({"page", "searchAfter"}),
    ),
    ("GET", "/payments/orders"): Quirk(
        "the spec omits altType, which HighLevel's own examples send with altId (seeds/004)",
        extra_params=frozenset({"altType"}),
    ),
    ("POST", "/conversations/messages"): Quirk(
        "SendMessageBodyDto requires subType (typed object, example a string) and status "
        "(a delivery state set by HighLevel); neither is sent when sending a message",
        not_required=frozenset({"subType", "status"}),
    ),
    ("POST", "/opportunities/upsert"): Quirk(
        "UpsertOpportunityDto types monetaryValue as an object (example 220); CreateDto and "
        "UpdateOpportunityDto type it as a number",
        properties={"monetaryValue": {"type": "number"}},
    ),
}


# -- the specs -----------------------------------------------------------------------------------------
@dataclass
class Operation:
    app: str
    method: str
    template: str
    pattern: re.Pattern[str]
    literal_segments: int
    spec: dict[str, Any]
    uri: str


@dataclass
class Specs:
    operations: list[Operation] = field(default_factory=list)
    registry: Registry[Any] = field(default_factory=Registry)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def find(self, method: str, path: str) -> list[Operation]:
        found = [op for op in self.operations if op.method == method and op.pattern.fullmatch(path)]
        best = max((op.literal_segments for op in found), default=0)
        return [op for op in found if op.literal_segments == best]

    def paths_matching(self, path: str) -> set[str]:
        return {op.method for op in self.operations if op.pattern.fullmatch(path)}


def _load_specs(folder: Path = SPECS) -> Specs:
    specs = Specs()
    folder = folder.resolve()
    common = folder / "common" / "common-schemas.json"
    if not common.exists():
        common = folder.parent / "common" / "common-schemas.json"
    files = [*sorted(folder.glob("*.json")), *([common] if common.exists() else [])]
    resources = []
    for file in files:
        document = json.loads(file.read_text())
        uri = file.as_uri()
        specs.documents[uri] = document
        resources.append((uri, Resource.from_contents(document, DRAFT202012)))
        if file == common:
            continue
        for template, item in document.get("paths", {}).items():
            regex = "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}]+\})", template)
            )
            literal = sum(1 for s in template.split("/") if s and not s.startswith("{"))
            for method, operation in item.items():
                if method in ("get", "post", "put", "delete", "patch"):
                    specs.operations.append(
                        Operation(
                            file.stem,
                            method.upper(),
                            template,
                            re.compile(regex),
                            literal,
                            operation,
                            uri,
                        )
                    )
    specs.registry = Registry().with_resources(resources)  # type: ignore[arg-type]
    return specs


@pytest.fixture(scope="module")
def specs() -> Specs:
    return _load_specs()


@pytest.fixture(scope="module")
def specs_v3() -> Specs:
    return _load_specs(SPECS / "v3")


def _parameters(specs: Specs, op: Operation) -> Iterator[dict[str, Any]]:
    for parameter in op.spec.get("parameters", []):
        if "$ref" in parameter:
            resolved = specs.registry.resolver(op.uri).lookup(parameter["$ref"]).contents
            yield resolved
        else:
            yield parameter


def _declared_properties(specs: Specs, op: Operation, schema: Mapping[str, Any]) -> set[str]:
    """Top-level property names of a (possibly ``$ref``/``allOf``) object schema."""
    if "$ref" in schema:
        schema = specs.registry.resolver(op.uri).lookup(schema["$ref"]).contents
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= _declared_properties(specs, op, part)
    return names


# -- recording --------------------------------------------------------------------------------------------
@dataclass
class Sent:
    method: str
    path: str
    params: dict[str, Any]
    body: Any
    headers: dict[str, str]
    location_id: str | None
    company_id: str | None
    idempotent: bool | None = None
    #: ``json`` or ``form`` (``application/x-www-form-urlencoded``, the ``/oauth/*`` calls)
    body_kind: str = "json"


# The POSTs that are safe to resend, and so marked ``idempotent=True``; every other POST must
# not be (docs/client-resources.md "Retry safety").
RESENDABLE_POSTS = {
    "/contacts/search",
    "/objects/{schemaKey}/records/search",
    "/contacts/upsert",
    "/opportunities/upsert",
    "/contacts/{contactId}/tags",
    "/contacts/bulk/tags/update/{type}",
}

_RECORD = {
    "id": "x1",
    "fieldKey": "contact.tier",
    "dataType": "TEXT",
    "searchAfter": [1, "x1"],
    "lastMessageDate": 1,
}
_COLLECTIONS = [
    "contacts",
    "opportunities",
    "customFields",
    "tags",
    "locations",
    "users",
    "campaigns",
    "calendars",
    "events",
    "conversations",
    "messages",
    "forms",
    "surveys",
    "submissions",
    "invoices",
    "products",
    "data",
    "businesses",
    "pipelines",
    "notes",
    "tasks",
    "objects",
    "records",
    "associations",
    "relations",
    "customValues",
    "workflows",
]
_SINGLES = [
    "contact",
    "opportunity",
    "customField",
    "tag",
    "location",
    "user",
    "business",
    "note",
    "task",
    "product",
    "record",
    "customValue",
]


def answer(first: bool) -> dict[str, Any]:
    """One answer fits every endpoint: each collection key, with one record on the first page
    of a path (so paginators ask for a second page) and none after."""
    records = [dict(_RECORD)] if first else []
    body: dict[str, Any] = {key: list(records) for key in _COLLECTIONS}
    body |= {key: dict(_RECORD) for key in _SINGLES}
    body |= {
        "meta": {"total": 2, "startAfter": 1, "startAfterId": "x1", "nextPage": 2},
        "total": 2,
        "totalCount": 2,
        "count": 2,
        "nextPage": first,
        "lastMessageId": "m1",
        "succeded": True,
    }
    return body


TOKEN_ANSWER = {
    "access_token": "contract-access",
    "refresh_token": "contract-refresh",
    "expires_in": 86_399,
    "token_type": "Bearer",
    "scope": "contacts.readonly",
    "userType": "Company",
    "companyId": CO,
}


TOKEN_ANSWER_V3 = {
    "accessToken": "contract-access",
    "refreshToken": "contract-refresh",
    "expiresIn": 86_399,
    "tokenType": "Bearer",
    "scope": "contacts.readonly",
    "userType": "Company",
    "companyId": CO,
}


class Recorder:
    """``AsyncGHLClient`` over ``httpx.MockTransport``: records each HTTP request as sent, with
    the scope and ``idempotent`` flag the resource passed to ``request``."""

    def __init__(self, auth: Any = "contract-test-token", api_version: str = "v2") -> None:
        self.sent: list[Sent] = []
        self._seen_paths: set[tuple[str, str]] = set()
        self._call: dict[str, Any] = {}
        self.client = AsyncGHLClient(
            auth,
            transport=httpx.MockTransport(self._answer),
            limiter=None,
            api_version=api_version,
        )
        real_request = self.client.request

        async def request(method: str, path: str, **kwargs: Any) -> Any:
            self._call = kwargs
            return await real_request(method, path, **kwargs)

        self.client.request = request  # type: ignore[method-assign]

    def _answer(self, request: httpx.Request) -> httpx.Response:
        body: Any = None
        kind = "json"
        if request.content:
            if request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                kind = "form"
                body = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
            else:
                body = json.loads(request.content)
        self.sent.append(
            Sent(
                request.method,
                request.url.path,
                dict(request.url.params),
                body,
                {k.lower(): v for k, v in request.headers.items()},
                self._call.get("location_id"),
                self._call.get("company_id"),
                self._call.get("idempotent"),
                kind,
            )
        )
        if request.url.path in ("/oauth/token", "/oauth/locationToken"):
            return httpx.Response(200, json=TOKEN_ANSWER)
        if request.url.path == "/oauth/location-token":  # v3 answers camelCase
            return httpx.Response(200, json=TOKEN_ANSWER_V3)
        key = (request.method, request.url.path)
        first = key not in self._seen_paths
        self._seen_paths.add(key)
        return httpx.Response(200, json=answer(first))


def _public_methods(client: ResourceSet) -> dict[str, Callable[..., Any]]:
    found = {}
    for name, resource in client._resources().items():
        for attr, _member in inspect.getmembers(type(resource), inspect.isfunction):
            if not attr.startswith("_"):
                found[f"{name}.{attr}"] = getattr(resource, attr)
    return found


async def _drive(result: Any) -> None:
    if isinstance(result, PageStream | RecordStream) or inspect.isasyncgen(result):
        async for _ in result:
            pass
    elif inspect.isawaitable(result):
        await result


# -- the tests --------------------------------------------------------------------------------------------
def test_every_public_method_has_a_sample() -> None:
    methods = set(_public_methods(Recorder().client))
    missing = sorted(methods - set(SAMPLES))
    stale = sorted(set(SAMPLES) - methods)
    assert not missing, f"public methods without a sample call in SAMPLES: {missing}"
    assert not stale, f"SAMPLES names methods that no longer exist: {stale}"


def _check(specs: Specs, sent: Sent) -> list[str]:
    where = f"{sent.method} {sent.path}"
    operations = specs.find(sent.method, sent.path)
    if not operations:
        methods = specs.paths_matching(sent.path)
        if methods:
            return [f"{where}: the spec has this path only for {sorted(methods)}"]
        return [f"{where}: no templated path of the spec matches"]
    problems: list[str] = []
    for op in operations:
        problems = _check_operation(specs, op, sent)
        if not problems:
            return []
    return problems


def _check_operation(specs: Specs, op: Operation, sent: Sent) -> list[str]:
    where = f"{sent.method} {sent.path} ({op.app}: {op.template})"
    quirk = QUIRKS.get((op.method, op.template), Quirk(""))
    problems: list[str] = []
    declared_query: set[str] = set()
    for parameter in _parameters(specs, op):
        name, place = parameter.get("name"), parameter.get("in")
        if place == "query":
            declared_query.add(name)
            if parameter.get("required") and name not in sent.params:
                problems.append(f"{where}: required query parameter {name!r} missing")
        elif (
            place == "header"
            and name == "Version"
            and sent.headers
            and (op.method, op.template) != ("POST", "/oauth/token")  # no Version (quirk)
        ):
            allowed = parameter.get("schema", {}).get("enum", [])
            if allowed and sent.headers.get("version") not in allowed:
                problems.append(f"{where}: Version {sent.headers.get('version')!r} not {allowed}")
    undeclared = set(sent.params) - declared_query - quirk.extra_params
    if undeclared:
        problems.append(f"{where}: query parameters not in the spec: {sorted(undeclared)}")

    content = op.spec.get("requestBody", {}).get("content", {})
    media = "application/x-www-form-urlencoded" if sent.body_kind == "form" else "application/json"
    schema = quirk.body_schema or content.get(media, {}).get("schema")
    if sent.body is None:
        if op.spec.get("requestBody", {}).get("required") and content:
            problems.append(f"{where}: the spec requires a body ({sorted(content)})")
        return problems
    if schema is None:
        takes = sorted(content) or "no body"
        problems.append(f"{where}: a {media} body was sent but the spec takes {takes}")
        return problems
    if quirk.body_schema is None:
        properties = _declared_properties(specs, op, schema)
        if properties and isinstance(sent.body, dict):
            unknown = set(sent.body) - properties
            if unknown:
                problems.append(f"{where}: body fields not in the spec: {sorted(unknown)}")
    registry = specs.registry
    if quirk.not_required or quirk.properties:
        registry, schema = _patched(specs, op, schema, quirk)
    elif "$ref" in schema:
        schema = {"$ref": op.uri + schema["$ref"]}
    validator = Draft202012Validator(schema, registry=registry)
    for error in validator.iter_errors(sent.body):
        path = "/".join(str(p) for p in error.absolute_path) or "(body)"
        problems.append(f"{where}: body {path}: {error.message}")
    return problems


def _patched(
    specs: Specs, op: Operation, schema: Mapping[str, Any], quirk: Quirk
) -> tuple[Registry[Any], dict[str, Any]]:
    """A copy of the operation's spec with the quirk applied to its body schema, registered
    beside the original (so its relative ``$ref``s still resolve)."""
    name = str(schema["$ref"]).rsplit("/", 1)[-1]
    document = json.loads(json.dumps(specs.documents[op.uri]))
    target = document["components"]["schemas"][name]
    target["required"] = [r for r in target.get("required", []) if r not in quirk.not_required]
    target.setdefault("properties", {}).update(quirk.properties)
    uri = op.uri.removesuffix(".json") + ".patched.json"
    registry = specs.registry.with_resource(uri, Resource.from_contents(document, DRAFT202012))
    return registry, {"$ref": f"{uri}#/components/schemas/{name}"}


async def test_every_request_matches_the_spec(specs: Specs) -> None:
    recorder = Recorder()
    problems: list[str] = []
    unscoped: list[str] = []
    for name, sample in SAMPLES.items():
        if sample is None:
            continue
        before = len(recorder.sent)
        await _drive(sample(recorder.client))
        calls = recorder.sent[before:]
        if not calls:
            problems.append(f"{name}: sent no request")
        for sent in calls:
            problems.extend(f"{name}: {p}" for p in _check(specs, sent))
            if not (sent.location_id or sent.company_id):
                unscoped.append(f"{name}: {sent.method} {sent.path}")
            if sent.method == "POST":
                templates = {op.template for op in specs.find("POST", sent.path)}
                if bool(templates & RESENDABLE_POSTS) != bool(sent.idempotent):
                    problems.append(f"{name}: POST {sent.path} idempotent={sent.idempotent}")
    await recorder.client.aclose()
    assert not problems, "\n".join(problems)
    assert not unscoped, f"requests without location_id/company_id: {unscoped}"


async def test_paging_requests_are_checked_too(specs: Specs) -> None:
    """The second page of each style carries its cursor parameters, and those are checked."""
    recorder = Recorder()
    for name in ("contacts.list_pages", "conversations.iterate_messages", "locations.pages"):
        await _drive(SAMPLES[name](recorder.client))  # type: ignore[misc]
    params = [sent.params for sent in recorder.sent]
    assert {"startAfter", "startAfterId"} <= set(params[1])
    assert "lastMessageId" in params[3]
    assert params[5].get("skip") == "1"
    await recorder.client.aclose()
    assert not [p for sent in recorder.sent for p in _check(specs, sent)]


def test_the_checker_catches_mistakes(specs: Specs) -> None:
    def sent(
        method: str, path: str, params: dict[str, Any], body: Any = None, version: str = ""
    ) -> Sent:
        return Sent(method, path, params, body, {"version": version} if version else {}, L, None)

    events = {"locationId": L, "startTime": "1", "endTime": "2"}
    assert _check(specs, sent("GET", "/calendars/events", events, version="2021-07-28"))
    assert not _check(specs, sent("GET", "/calendars/events", events, version="2021-04-15"))

    assert _check(specs, sent("GET", "/contacts/", {"location_id": L}))  # wrong name
    assert _check(specs, sent("PATCH", "/contacts/c1", {}))  # wrong method
    assert _check(specs, sent("GET", "/nowhere", {}))
    assert _check(specs, sent("POST", "/contacts/", {}, {"locationId": L, "first_name": "A"}))
    assert _check(specs, sent("POST", "/contacts/", {}, {"email": "a@b.co"}))  # no locationId
    too_big = {"locationId": L, "pageLimit": 501}
    assert _check(specs, sent("POST", "/contacts/search", {}, too_big))
    both = {"locationId": L, "pageLimit": 5, "page": 1, "searchAfter": [1, "x"]}
    assert _check(specs, sent("POST", "/contacts/search", {}, both))
    assert not _check(specs, sent("POST", "/contacts/", {}, {"locationId": L, "firstName": "A"}))
    # a patched schema still checks the rest
    assert _check(specs, sent("POST", "/conversations/messages", {}, {"type": "SMS"}))
    assert not _check(
        specs, sent("POST", "/conversations/messages", {}, {"type": "SMS", "contactId": "c1"})
    )


def test_every_quirk_names_an_operation_of_the_spec(specs: Specs) -> None:
    known = {(op.method, op.template) for op in specs.operations}
    assert set(QUIRKS) <= known, sorted(set(QUIRKS) - known)


async def test_oauth_requests_match_the_spec(specs: Specs, tmp_path: Path) -> None:
    """The ``/oauth/*`` calls (form bodies) against their ``requestBody`` schemas: the code
    exchange, a refresh, a location token minted with the agency token, installed locations."""
    store = TokenStore(tmp_path / "tokens.sqlite3")
    auth = OAuthAuth(
        client_id="app1-client", client_secret="contract-secret", store=store, company_id=CO
    )
    recorder = Recorder(auth)
    await auth.exchange_code("contract-code", user_type="Company", redirect_uri="http://cb.test")
    agency = store.find("oauth", company_id=CO, location_id="")
    assert agency is not None
    store.put(TokenRecord(**{**agency.__dict__, "expires_at": 0.0}))  # expired: refresh next
    await _drive(SAMPLES["locations.pages"](recorder.client))  # company scope: refreshes
    await _drive(SAMPLES["contacts.get"](recorder.client))  # location scope: mints a token
    [i async for i in auth.installed_locations(app_id="app1", page_size=1)]
    await recorder.client.aclose()
    store.close()

    oauth = [s for s in recorder.sent if s.path.startswith("/oauth/")]
    grants = [s.body.get("grant_type") for s in oauth if s.path == "/oauth/token"]
    assert grants == ["authorization_code", "refresh_token"]
    assert {s.path for s in oauth} == {
        "/oauth/token",
        "/oauth/locationToken",
        "/oauth/installedLocations",
    }
    assert all(s.body_kind == "form" for s in oauth if s.method == "POST")
    problems = [p for sent in recorder.sent for p in _check(specs, sent)]
    assert not problems, "\n".join(problems)


def test_the_checker_catches_form_mistakes(specs: Specs) -> None:
    def form(path: str, body: dict[str, Any], kind: str = "form") -> Sent:
        return Sent("POST", path, {}, body, {}, None, CO, body_kind=kind)

    good = {"client_id": "a", "client_secret": "b", "grant_type": "refresh_token"}
    assert not _check(specs, form("/oauth/token", good))
    assert _check(specs, form("/oauth/token", {**good, "grant_type": "password"}))  # enum
    assert _check(specs, form("/oauth/token", {"client_id": "a", "grant_type": "refresh_token"}))
    assert _check(specs, form("/oauth/token", {**good, "clientSecret": "b"}))  # unknown field
    assert _check(specs, form("/oauth/token", good, kind="json"))  # the spec takes a form
    assert _check(specs, form("/oauth/locationToken", {"companyId": CO}))  # no locationId


async def test_the_scope_table_matches_the_spec(specs: Specs) -> None:
    """``ghlsync.client.scopes``: every entry is the spec's ``security`` scope of that
    operation, and every operation the resources call that names a scope has an entry."""
    from ghlsync.client.scopes import REQUIRED_SCOPES, required_scope

    operations = {(op.method, op.template): op for op in specs.operations}
    wrong = []
    for (method, template), scope in REQUIRED_SCOPES.items():
        op = operations.get((method, template))
        declared = (
            {s for e in op.spec.get("security", []) for v in e.values() for s in v} if op else set()
        )
        if scope not in declared:
            wrong.append(f"{method} {template}: {scope!r} not in {sorted(declared)}")
    recorder = Recorder()
    for sample in SAMPLES.values():
        if sample is not None:
            await _drive(sample(recorder.client))
    await recorder.client.aclose()
    missing = []
    for sent in recorder.sent:
        for op in specs.find(sent.method, sent.path):
            declared = {s for e in op.spec.get("security", []) for v in e.values() for s in v}
            if declared and required_scope(sent.method, sent.path) not in declared:
                missing.append(f"{sent.method} {op.template}: {sorted(declared)}")
    assert not wrong, wrong
    assert not missing, sorted(set(missing))


async def test_every_v3_request_matches_the_v3_spec(specs_v3: Specs) -> None:
    """``api_version="v3"``: the same sample calls through the v2 -> v3 map of
    ``ghlsync.client.v3``, checked against ``apps/v3``. Calls v3 lacks are refused unsent."""
    from ghlsync.client import v3
    from ghlsync.errors import ConfigError

    recorder = Recorder(api_version="v3")
    problems: list[str] = []
    refused: set[tuple[str, str]] = set()
    for name, sample in SAMPLES.items():
        if sample is None:
            continue
        before = len(recorder.sent)
        try:
            await _drive(sample(recorder.client))
        except ConfigError as error:
            known = {**v3.ABSENT, **v3.UNSUPPORTED}
            refused |= {call for call in known if f"{call[0]} {call[1]} " in error.message}
            assert "API v3" in error.message and refused, (name, error)
            assert len(recorder.sent) == before  # refused before sending
            continue
        for sent in recorder.sent[before:]:
            problems.extend(f"{name}: {p}" for p in _check(specs_v3, sent))
            if sent.path != "/oauth/token":
                assert sent.headers.get("version") == "v3", (name, sent.path)
    await recorder.client.aclose()
    assert not problems, "\n".join(problems)
    assert refused == {
        ("GET", "/contacts/"),
        ("GET", "/users/"),
        ("GET", "/oauth/installedLocations"),
    }


async def test_v3_oauth_requests_match_the_v3_spec(specs_v3: Specs, tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.sqlite3")
    auth = OAuthAuth(
        client_id="app1-client", client_secret="contract-secret", store=store, company_id=CO
    )
    recorder = Recorder(auth, api_version="v3")
    await auth.exchange_code("contract-code", user_type="Company", redirect_uri="http://cb.test")
    agency = store.find("oauth", company_id=CO, location_id="")
    assert agency is not None and agency.access_token == "contract-access"
    store.put(TokenRecord(**{**agency.__dict__, "expires_at": 0.0}))
    await _drive(SAMPLES["locations.pages"](recorder.client))  # refresh (camelCase form)
    await _drive(SAMPLES["contacts.get"](recorder.client))  # /oauth/location-token
    await recorder.client.aclose()
    store.close()
    oauth = [s for s in recorder.sent if s.path.startswith("/oauth/")]
    assert [s.path for s in oauth] == ["/oauth/token", "/oauth/token", "/oauth/location-token"]
    assert [s.body.get("grantType") for s in oauth[:2]] == ["authorization_code", "refresh_token"]
    problems = [p for sent in recorder.sent for p in _check(specs_v3, sent)]
    assert not problems, "\n".join(problems)
