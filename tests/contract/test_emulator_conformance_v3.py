"""The emulator against the v3 specs (``apps/v3/*-v3.json``) with ``Version: v3``, in-process.

The v2 scenario (``test_emulator_conformance._exercise``) is replayed through a transport that
turns each request into its v3 form, as the official SDK 3.x sends it: ``Version: v3``, the
camelCase ``/oauth/token`` fields, the renamed OAuth paths (``/oauth/location-token``,
``/oauth/installed-locations``) and the camelCase opportunity search filters. Every answer is
validated against the v3 operation (error bodies included: the specs are loaded from files
beside a copy of ``apps/v3/common``). Routes with no v3 operation are listed (``V2_ONLY``).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest

from ghlsync.emulator import EmulatorSettings, SeedOptions, build, create_app
from tests.contract.test_emulator_conformance import (
    APPS,
    CORE_SPECS,
    NOT_IN_SPECS,
    Scenario,
    _exercise,
    _implemented,
    _patched,
    _spec_key,
    validates,
    write_specs,
)

schemathesis = pytest.importorskip("schemathesis")

V3_DIR = APPS / "v3"
#: v2 paths and their v3 names
PATHS_V3 = {
    "/oauth/locationToken": "/oauth/location-token",
    "/oauth/installedLocations": "/oauth/installed-locations",
}
#: v2 query/form names and their v3 spellings, per path
QUERY_V3 = {
    "/opportunities/search": {
        "location_id": "locationId",
        "pipeline_id": "pipelineId",
        "pipeline_stage_id": "pipelineStageId",
        "contact_id": "contactId",
        "assigned_to": "assignedTo",
    },
    "/oauth/installedLocations": {"limit": "pageSize"},
}
TOKEN_FIELDS_V3 = {
    "client_id": "clientId",
    "client_secret": "clientSecret",
    "grant_type": "grantType",
    "refresh_token": "refreshToken",
    "user_type": "userType",
    "redirect_uri": "redirectUri",
}
#: emulator routes with no v3 operation: v2 operations HighLevel dropped or renamed in v3
V2_ONLY = {
    "GET /contacts/": "v3 lists contacts with POST /contacts/search only",
    "GET /users/": "v3 has GET /users/search instead",
    "POST /oauth/locationToken": "v3: POST /oauth/location-token",
    "GET /oauth/installedLocations": "v3: GET /oauth/installed-locations",
    "DELETE /contacts/{contactId}/campaigns/removeAll": "not in contacts-v3.json",
}
#: the same families' v3 families (``apps/v3/<name>-v3.json``)
FAMILIES = {name: f"{name}-v3" for name in CORE_SPECS}


class V3Transport(httpx.AsyncBaseTransport):
    """Rewrites v2 requests into their v3 form before the emulator sees them."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        headers = dict(request.headers)
        body = request.content
        if "version" in headers or path == "/oauth/token":
            headers["version"] = "v3"
        params = dict(request.url.params)
        renames = QUERY_V3.get(path, {})
        params = {renames.get(key, key): value for key, value in params.items()}
        if path == "/oauth/token":
            form = dict(parse_qsl(body.decode()))
            body = urlencode({TOKEN_FIELDS_V3.get(k, k): v for k, v in form.items()}).encode()
        headers.pop("content-length", None)
        url = request.url.copy_with(path=PATHS_V3.get(path, path), query=urlencode(params).encode())
        rewritten = httpx.Request(request.method, url, headers=headers, content=body)
        response = await self.inner.handle_async_request(rewritten)
        response.request = rewritten
        return response


def _patched_v3(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The v2 ``SPEC_QUIRKS`` hold for the v3 specs too (the same schemas, the same errors)."""
    return _patched(name, spec)


def _v3_route(route: str) -> str:
    return PATHS_V3.get(route, route)


@pytest.fixture(scope="module")
def v3_specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    files = write_specs(
        tmp_path_factory.mktemp("v3specs"),
        {name: V3_DIR / f"{file}.json" for name, file in FAMILIES.items()},
        V3_DIR / "common",
        _patched_v3,
    )
    return {
        name: (json.loads(path.read_text()), schemathesis.openapi.from_path(str(path)))
        for name, path in files.items()
    }


def _index(v3_specs: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    index: dict[tuple[str, str], tuple[str, str]] = {}
    for name, (raw, _) in v3_specs.items():
        for path, operations in raw["paths"].items():
            for method in operations:
                if method in ("get", "post", "put", "delete", "patch"):
                    index.setdefault((method.upper(), _spec_key(path)), (name, path))
    return index


def _lookup(index: dict[tuple[str, str], tuple[str, str]], operation: str) -> Any:
    method, path = operation.split(" ", 1)
    path = _v3_route(path)
    for candidate in (path, path.rstrip("/"), path if path.endswith("/") else path + "/"):
        found = index.get((method, _spec_key(candidate)))
        if found is not None:
            return found
    return None


@pytest.fixture(scope="module")
def v3_world() -> tuple[Any, Scenario]:
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
        transport = V3Transport(httpx.ASGITransport(app=app))
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            scenario = Scenario(client)
            await _exercise(scenario, state)
            return scenario

    return app, asyncio.run(run())


def test_the_scenario_ran_under_version_v3(v3_world: Any) -> None:
    app, scenario = v3_world
    log = app.state.store.request_log
    assert len(log) >= len(scenario.calls)
    versions = {record.version for record in log if record.path != "/oauth/chooselocation"}
    assert versions == {"v3"}


def test_v3_responses_validate_against_the_v3_specs(
    v3_world: Any, v3_specs: dict[str, Any]
) -> None:
    _, scenario = v3_world
    index = _index(v3_specs)
    failures, checked = [], 0
    for call in scenario.calls:
        operation_name = f"{call.method} {call.route}"
        found = _lookup(index, operation_name)
        if found is None:
            assert operation_name in V2_ONLY or operation_name not in CORE_OPERATIONS(index), (
                f"{operation_name} has no v3 operation and is not listed in V2_ONLY"
            )
            continue
        name, spec_path = found
        operation = v3_specs[name][1][spec_path][call.method]
        names = re.findall(r"\{([^}]+)\}", spec_path)
        detail = validates(
            operation,
            call.response,
            path_parameters=dict(zip(names, call.path_values, strict=True)),
        )
        checked += 1
        if detail:
            failures.append(f"{operation_name} ({name} v3): {' / '.join(detail[:4])}")
    assert checked > 60
    assert failures == [], "\n\n".join(failures)


def CORE_OPERATIONS(index: dict[tuple[str, str], tuple[str, str]]) -> set[str]:
    return {f"{method} {path}" for (method, path) in index}


def test_every_route_has_a_v3_operation_or_is_listed(
    v3_world: Any, v3_specs: dict[str, Any]
) -> None:
    app, _ = v3_world
    index = _index(v3_specs)
    core_prefixes = ("/oauth/", "/contacts", "/locations/", "/opportunities/", "/users/")
    core_prefixes += ("/calendars/", "/conversations/")
    unmapped = sorted(
        op
        for op in _implemented(app)
        if op.split(" ", 1)[1].startswith(core_prefixes)
        and op not in NOT_IN_SPECS
        and op not in V2_ONLY
        and _lookup(index, op) is None
    )
    assert unmapped == [], f"routes matching no v3 operation (list them in V2_ONLY): {unmapped}"
    stale = sorted(set(V2_ONLY) - _implemented(app))
    assert stale == [], f"V2_ONLY lists routes that are gone: {stale}"


def test_v3_errors_validate_too(v3_world: Any, v3_specs: dict[str, Any]) -> None:
    """Every authorised call again with an unknown token: a 401 body valid under v3."""
    app, scenario = v3_world
    index = _index(v3_specs)

    async def run() -> list[str]:
        problems = []
        transport = V3Transport(httpx.ASGITransport(app=app))
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            for call in scenario.calls:
                found = _lookup(index, f"{call.method} {call.route}")
                if "Authorization" not in call.headers or found is None:
                    continue
                names = re.findall(r"\{([^}]+)\}", call.route)
                url = call.route.format(**dict(zip(names, call.path_values, strict=True)))
                response = await client.request(
                    call.method,
                    url,
                    params=call.query,
                    headers={**call.headers, "Authorization": "Bearer nope"},
                    json=call.body,
                )
                name, spec_path = found
                operation = v3_specs[name][1][spec_path][call.method]
                spec_names = re.findall(r"\{([^}]+)\}", spec_path)
                detail = validates(
                    operation,
                    response,
                    path_parameters=dict(zip(spec_names, call.path_values, strict=True)),
                )
                if response.status_code != 401 or detail:
                    problems.append(f"{call.method} {call.route}: {response.status_code} {detail}")
        return problems

    assert asyncio.run(run()) == []


def test_v3_specs_are_present() -> None:
    assert all((V3_DIR / f"{file}.json").exists() for file in FAMILIES.values()), Path(V3_DIR)
