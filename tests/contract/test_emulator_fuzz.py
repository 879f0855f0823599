"""Fuzzing the emulator: schemathesis-generated requests, valid and invalid, never get a 5xx.

Every operation of the contacts, opportunities and locations specs (implemented or not) and of
the admin API (its own OpenAPI document, ``GET /_emulator/openapi.json``) is sent a few
derandomized examples in both of schemathesis' modes: positive (what the spec allows) and
negative (what it does not). Requests carry a valid token, ``Version`` and the seeded location
so they get past authentication into the handlers. The emulator is a server: whatever
arrives, it answers 2xx/3xx/4xx with HighLevel's error body, never 5xx (issue 11 item 5).

Bounded for CI: ``EXAMPLES`` examples per operation and mode, in-process (no socket).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from ghlsync.emulator import EmulatorSettings, SeedOptions, build, create_app
from ghlsync.emulator.admin_openapi import admin_openapi
from tests.contract._specs import APPS, require_specs

require_specs()

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

FUZZED_SPECS = ("contacts", "opportunities", "locations")
#: examples per operation and generation mode (positive and negative); CI keeps the default,
#: a deeper local run sets GHLSYNC_FUZZ_EXAMPLES=100
EXAMPLES = int(os.environ.get("GHLSYNC_FUZZ_EXAMPLES", "6"))
#: path parameters replaced by a seeded id, so requests reach the handlers past 403/404
_SEEDED_PARAMS = ("locationId", "contactId", "opportunityId", "pipelineId")
#: query and body fields naming the location, set to the seeded one
_LOCATION_FIELDS = ("locationId", "location_id", "altId")


class World:
    """One emulator for the whole module (the fuzz writes into it, which is fine)."""

    def __init__(self) -> None:
        store, state = build(SeedOptions(locations=2, contacts=40, opportunities=20, seed=11))
        # rate limit off: the fuzz sends far more than 100 requests per 10 s
        self.app = create_app(store, EmulatorSettings(seed=11, rate_limit=None))
        self.store = store
        self.location = state.locations[0]["id"]
        self.token = state.locations[0]["token"]
        contacts = store.collection(self.location, "contacts")
        opportunities = store.collection(self.location, "opportunities")
        self.ids = {
            "locationId": self.location,
            "contactId": next(iter(contacts.items)),
            "opportunityId": next(iter(opportunities.items)),
            "pipelineId": "",
        }
        # a 5xx is counted as a finding, not raised (nothing would be left to count)
        self.turn = 0
        self.client = TestClient(
            self.app, base_url="http://emulator", raise_server_exceptions=False
        )


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    instance = World()
    with instance.client:
        yield instance


def _operations(name: str) -> list[tuple[str, str]]:
    spec = json.loads((APPS / f"{name}.json").read_text())
    return [
        (path, method.upper())
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "delete", "patch")
    ]


def _query(params: dict[str, Any] | None) -> dict[str, Any]:
    """schemathesis' query values as httpx takes them (negative mode sends objects too)."""
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if isinstance(value, list):
            out[key] = [v if isinstance(v, str) else json.dumps(v) for v in value]
        else:
            out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


def _send(world: World, case: Any, *, admin: bool) -> Any:
    for name in _SEEDED_PARAMS:
        present = bool(case.path_parameters) and name in case.path_parameters
        # a DELETE of the seeded record would leave every later example a 404
        keep = case.method == "DELETE" and name != "locationId"
        if present and world.ids.get(name) and not keep:
            case.path_parameters[name] = world.ids[name]
    params = case.path_parameters or {}
    if admin and "kind" in params:
        # admin entity writes: the indexed kinds too, not only random ones
        world.turn += 1
        kind = ("contacts", "opportunities", "conversations", params["kind"])[world.turn % 4]
        params["kind"] = kind
        items = world.store.collection(world.location, kind).items
        if "entityId" in params and items and case.method != "DELETE":
            params["entityId"] = next(iter(items))
    if not admin:
        for part in (case.query, case.body):
            if isinstance(part, dict):
                for name in _LOCATION_FIELDS:
                    if name in part:
                        part[name] = world.location
    base_url = "http://emulator/_emulator" if admin else "http://emulator"
    kwargs = case.as_transport_kwargs(base_url=base_url)
    headers = {
        key: str(value)
        for key, value in kwargs["headers"].items()
        if key.lower() not in ("authorization", "version")
    }
    if not admin:
        headers["Authorization"] = f"Bearer {world.token}"
        headers["Version"] = "2021-07-28"
    content = None
    if "json" in kwargs:
        content = json.dumps(kwargs["json"]).encode()  # NaN and Infinity included, as sent
        headers.setdefault("Content-Type", "application/json")
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        content = data if isinstance(data, bytes) else str(data).encode()
    return world.client.request(
        kwargs["method"],
        kwargs["url"],
        params=_query(kwargs.get("params")),
        headers=headers,
        content=content,
    )


def _fuzz(world: World, operation: Any, *, admin: bool) -> list[str]:
    """Problems found sending ``EXAMPLES`` positive and ``EXAMPLES`` negative cases."""
    problems: list[str] = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        _fuzz_mode(world, operation, mode, admin=admin, problems=problems)
    return problems


def _fuzz_mode(
    world: World, operation: Any, mode: GenerationMode, *, admin: bool, problems: list[str]
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        response = _send(world, case, admin=admin)
        where = f"{case.method} {case.formatted_path} ({mode.value})"
        if admin and response.json().get("message") == f"Cannot {case.method} {response.url.path}":
            problems.append(f"{where}: the route was not reached")
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code} {response.text[:200]}")
        elif response.status_code >= 400:
            body = response.json()
            if body.get("statusCode") != response.status_code or "message" not in body:
                problems.append(f"{where}: not a NestJS error body: {response.text[:200]}")

    check()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("fuzz-specs")
    (root / "apps").mkdir()
    (root / "common").mkdir()
    for item in (APPS.parent / "common").glob("*.json"):
        (root / "common" / item.name).write_text(item.read_text())
    out: dict[str, Any] = {}
    for name in FUZZED_SPECS:
        target = root / "apps" / f"{name}.json"
        target.write_text((APPS / f"{name}.json").read_text())
        out[name] = schemathesis.openapi.from_path(str(target))
    out["admin"] = schemathesis.openapi.from_dict(fuzzed_admin_openapi())
    return out


def fuzzed_admin_openapi() -> dict[str, Any]:
    """The admin document with seed sizes capped at 3: an in-range size is seeded for real, and
    a million contacts per example is a benchmark, not a fuzz (the budget, not the API's bound)."""
    spec = admin_openapi()
    for path in ("/reset", "/seed"):
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        properties = body["schema"]["properties"]
        for name in ("locations", "contacts", "opportunities"):
            properties[name]["maximum"] = 3
        properties["counts"]["additionalProperties"]["maximum"] = 3
    # no deliveries to made-up hosts, and no flush that waits for them
    hooks = spec["paths"]["/webhooks"]["put"]["requestBody"]["content"]["application/json"]
    hooks["schema"]["properties"]["url"] = {"type": "string", "enum": [""], "nullable": True}
    flush = spec["paths"]["/webhooks/flush"]["post"]["requestBody"]["content"]["application/json"]
    flush["schema"]["properties"]["timeoutMs"]["maximum"] = 50
    return spec


_CASES = [
    pytest.param(name, path, method, id=f"{name}:{method} {path}")
    for name in FUZZED_SPECS
    for path, method in _operations(name)
]


@pytest.mark.parametrize(("spec_name", "path", "method"), _CASES)
def test_fuzzed_spec_requests_never_get_a_server_error(
    world: World, loaded: dict[str, Any], spec_name: str, path: str, method: str
) -> None:
    operation = loaded[spec_name][path][method]
    assert _fuzz(world, operation, admin=False) == []
    assert world.store.counters.get("server_errors", 0) == 0


def _admin_operations() -> list[tuple[str, str]]:
    return [
        (path, method.upper())
        for path, item in admin_openapi()["paths"].items()
        for method in item
        if path not in ("/reset",)  # fuzzed apart below: it reseeds the world
    ]


@pytest.mark.parametrize(
    ("path", "method"), _admin_operations(), ids=[f"{m} {p}" for p, m in _admin_operations()]
)
def test_fuzzed_admin_requests_never_get_a_server_error(
    world: World, loaded: dict[str, Any], path: str, method: str
) -> None:
    operation = loaded["admin"][path][method]
    assert _fuzz(world, operation, admin=True) == []


def test_fuzzed_resets_never_get_a_server_error(loaded: dict[str, Any]) -> None:
    """``/reset`` on its own emulator: it reseeds, and the others keep their tokens."""
    world = World()
    with world.client:
        assert _fuzz(world, loaded["admin"]["/reset"]["POST"], admin=True) == []


def test_the_admin_document_covers_every_admin_route(world: World) -> None:
    """Each admin route is in the document the fuzz reads, and the app serves the document."""
    from starlette.routing import Mount

    mount = next(r for r in world.app.routes if isinstance(r, Mount) and r.path == "/_emulator")
    served = {
        (route.path, method)
        for route in mount.routes
        for method in (getattr(route, "methods", None) or ())
        if method != "HEAD"
    } | {
        (route.path.removeprefix("/_emulator"), method)  # webhooks.attach adds its own
        for route in world.app.routes
        if getattr(route, "path", "").startswith("/_emulator/")
        for method in (getattr(route, "methods", None) or ())
        if method != "HEAD"
    }
    documented = {(path, method) for path, method in _admin_operations()} | {("/reset", "POST")}
    assert served == documented
    assert world.client.get("/_emulator/openapi.json").json() == admin_openapi()


def test_the_state_the_fuzz_left_still_serves(world: World) -> None:
    """After every write above (API and admin), listing and searching still answer 200: no
    write left a record the routes cannot serve (issue 11: "never a broken state")."""
    headers = {"Authorization": f"Bearer {world.token}", "Version": "2021-07-28"}
    # the admin fuzz may have left a 1-byte body limit or faults on: undo the settings only
    restored = world.client.put(
        "/_emulator/settings", json={"maxBodyBytes": 1 << 20, "faults": "", "rateLimit": None}
    )
    assert restored.status_code == 200, restored.text
    for method, path, body in (
        ("GET", f"/contacts/?locationId={world.location}&limit=100", None),
        ("POST", "/contacts/search", {"locationId": world.location, "pageLimit": 100}),
        (
            "POST",
            "/contacts/search",
            {
                "locationId": world.location,
                "pageLimit": 100,
                "sort": [{"field": "dateUpdated", "direction": "desc"}],
            },
        ),
        ("GET", f"/opportunities/search?location_id={world.location}&limit=100", None),
        ("GET", f"/conversations/search?locationId={world.location}", None),
    ):
        version = "2021-04-15" if path.startswith("/conversations") else "2021-07-28"
        response = world.client.request(
            method, path, json=body, headers={**headers, "Version": version}
        )
        assert response.status_code == 200, (path, response.text[:300])
    for path in ("/_emulator/state", "/_emulator/requests?limit=1000", "/_emulator/counts"):
        assert world.client.get(path).status_code == 200, path
    assert world.store.counters.get("server_errors", 0) == 0
