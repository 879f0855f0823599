"""The admin API under ``/_emulator/``: not HighLevel's surface; for tests and operators.

| method and path | what |
| --- | --- |
| `GET /_emulator/health` | liveness |
| `GET /_emulator/openapi.json` | this API as an OpenAPI 3.0 document (``admin_openapi.py``) |
| `GET /_emulator/state` | company, locations, tokens, counts per collection and location |
| `GET /_emulator/requests?limit=N` | the last N requests as received (method, path, query, body, status, fault) |
| `GET /_emulator/counts` | request counts by operation and status |
| `POST /_emulator/reset` | drop everything and re-seed (body: optional `{locations, contacts, opportunities, seed, counts, anchor}`) |
| `POST /_emulator/seed` | ADD seeded data, keeping the current state: `{locations: N, contacts, opportunities, counts}` adds N new seeded locations; `{contacts: N, locationId?}` adds N contacts (with notes and tasks) to each (or one) location |
| `GET/PUT /_emulator/settings` | rate limit, daily limit, faults, retry-after, token TTL, search index delay |
| `GET/PUT /_emulator/locations/{id}/settings` | `allowDuplicateContact`, `priority` (e.g. `["email","phone"]`) |
| `PUT /_emulator/faults` | `{"faults": "500:0.1", "seed": 7}` (a seed restarts the draw sequence) |
| `POST /_emulator/tokens/expire` | `{"tokens": [...]}` or `{}` for every OAuth access token |
| `POST /_emulator/tokens` | mint a token: `{locationId?, scopes?, ttlSeconds?}` |
| `GET /_emulator/locations/{id}/contacts/by-email?email=` | a contact by email |
| `GET/POST /_emulator/locations/{id}/{kind}` | list / create any entity (incl. contacts) |
| `GET/PUT/PATCH/DELETE /_emulator/locations/{id}/{kind}/{entityId}` | read / replace / merge / delete |
| `GET /_emulator/events?limit=N` | emitted webhook events |
| `GET /_emulator/oauth/authorize?client_id=&locationId=&user_type=` | an authorization code as JSON (the consent step without a browser) |
| `POST /_emulator/clock/advance` | `{"seconds": 11}`: move the emulator's clock (rate windows, token expiry) |

Entity writes through the admin API stamp `dateUpdated`/`updatedAt` when the entity has one and
emit no webhook, so tests can change data "behind the API" between extract runs.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.admin_checks import (
    CLOCK_RANGE_S,
    DAY_S,
    check_entity,
    rate_limit,
    seed_options,
)
from ghlsync.emulator.common import ApiError, int_param, json_body, store_of
from ghlsync.emulator.faults import FaultInjector
from ghlsync.emulator.ratelimit import RateLimiter
from ghlsync.emulator.settings import (
    EmulatorSettings,
    format_faults,
    parse_faults,
)
from ghlsync.emulator.state import ALL_SCOPES, Store, ms_from_iso, normalize_email_key
from ghlsync.emulator.wire import (
    ABSENT,
    bool_field,
    number_field,
    string_field,
    strings_field,
)


def _settings(request: Request) -> EmulatorSettings:
    settings: EmulatorSettings = request.app.state.settings
    return settings


def _location(store: Store, location_id: str) -> Any:
    location = store.locations.get(location_id)
    if location is None:
        raise ApiError(404, f"location {location_id} not found")
    return location


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def openapi(request: Request) -> Response:
    from ghlsync.emulator.admin_openapi import admin_openapi

    return JSONResponse(admin_openapi())


def state_summary(store: Store) -> dict[str, Any]:
    return {
        "company": store.company,
        "agencyToken": store.agency_token,
        "oauthApps": [
            {"clientId": app.client_id, "clientSecret": app.client_secret, "appId": app.app_id}
            for app in store.oauth_apps.values()
        ],
        "locations": [
            {
                "id": location.id,
                "name": location.record.get("name"),
                "token": store.private_tokens.get(location.id),
                "duplicates": location.duplicates.to_wire(),
                "counts": {kind: len(c) for kind, c in location.collections.items()},
                "deleted": {kind: len(c.deleted) for kind, c in location.collections.items()},
            }
            for location in store.locations.values()
        ],
        "events": len(store.events),
    }


async def get_state(request: Request) -> Response:
    store = store_of(request)
    with store.lock:
        return JSONResponse(state_summary(store))


async def get_requests(request: Request) -> Response:
    store = store_of(request)
    limit = int_param(request, "limit", 100)
    records = list(store.request_log)[-limit:] if limit > 0 else []
    return JSONResponse(
        {
            "requests": [
                {
                    "at": r.at,
                    "method": r.method,
                    "path": r.path,
                    "query": r.query,
                    "operation": r.operation,
                    "status": r.status,
                    "locationId": r.location_id,
                    "tokenKind": r.token_kind,
                    "version": r.version,
                    "body": r.body,
                    "fault": r.fault,
                }
                for r in records
            ]
        }
    )


async def get_counts(request: Request) -> Response:
    store = store_of(request)
    by_operation: dict[str, dict[str, int]] = {}
    total = 0
    for (operation, status), count in sorted(store.request_counts.items()):
        by_operation.setdefault(operation, {})[str(status)] = count
        total += count
    faults: FaultInjector = request.app.state.faults
    return JSONResponse({"total": total, "operations": by_operation, "faults": faults.injected})


_SEED_FIELDS = {"locations", "contacts", "opportunities", "seed", "counts", "anchor"}


async def reset(request: Request) -> Response:
    """Drop everything and seed again (the previous options, changed by the body)."""
    from ghlsync.emulator.seeding import SeedOptions, seed_store, settle_memory

    store = store_of(request)
    body = await json_body(request, allowed=_SEED_FIELDS)
    previous: SeedOptions = store.extras.get("seed_options") or SeedOptions(seed=store.seed)
    options = seed_options(body, previous)
    with store.lock:
        listeners = list(store._listeners)
        clock, lock = store.clock, store.lock
        store.__init__(seed=options.seed, clock=clock)  # type: ignore[misc]
        store.lock = lock  # the same lock other threads may be waiting on
        store.search_index_delay_s = _settings(request).search_index_delay_ms / 1000
        store._listeners.extend(listeners)
        result = seed_store(store, options)
        store.extras["seed_result"] = result
        settle_memory(options)
        limiter: RateLimiter = request.app.state.limiter
        limiter.reset()
        faults: FaultInjector = request.app.state.faults
        faults.configure(faults.faults, options.seed)
        faults.injected.clear()
    return JSONResponse(result.to_dict())


async def add_seed(request: Request) -> Response:
    """Add seeded data to the current state (``seed.add_seed``); nothing is dropped."""
    from ghlsync.emulator.seeding import SeedOptions
    from ghlsync.emulator.seeding import add_seed as add

    store = store_of(request)
    body = await json_body(request, allowed={*_SEED_FIELDS, "locationId"})
    previous: SeedOptions = store.extras.get("seed_options") or SeedOptions(seed=store.seed)
    nothing = SeedOptions(
        locations=0,
        contacts=0,
        opportunities=0,
        seed=previous.seed,
        counts={},
        history_days=previous.history_days,
        anchor_ms=previous.anchor_ms,
    )
    options = seed_options(body, nothing)
    location_id = string_field(body, "locationId")
    if location_id is not None:
        _location(store, location_id)
    if options.locations == 0 and (options.opportunities or options.counts):
        raise ApiError(
            422,
            [
                "only contacts can be added to existing locations: pass locations: N to add "
                "seeded locations with opportunities and other kinds"
            ],
        )
    with store.lock:
        added = add(store, options, location_ids=[str(location_id)] if location_id else None)
    return JSONResponse(added)


def settings_view(request: Request) -> dict[str, Any]:
    settings = _settings(request)
    rate = settings.rate_limit
    return {
        "rateLimit": None
        if rate is None
        else {"max": rate.max_requests, "intervalMs": rate.window_ms},
        "dailyLimit": settings.daily_limit,
        "faults": format_faults(settings.faults),
        "faultSeed": request.app.state.faults.seed,
        "retryAfter": settings.retry_after,
        "accessTokenTtl": settings.access_token_ttl,
        "timeoutFaultSeconds": settings.timeout_fault_seconds,
        "searchIndexDelayMs": settings.search_index_delay_ms,
        "maxBodyBytes": settings.max_body_bytes,
    }


_SETTINGS_FIELDS = {
    "rateLimit",
    "dailyLimit",
    "faults",
    "faultSeed",
    "retryAfter",
    "accessTokenTtl",
    "searchIndexDelayMs",
    "timeoutFaultSeconds",
    "maxBodyBytes",
    "resetBuckets",
}


async def settings_endpoint(request: Request) -> Response:
    if request.method == "PUT":
        body = await json_body(request, allowed=_SETTINGS_FIELDS)
        settings = _settings(request)
        # every field is checked before any is applied: a refused PUT changes nothing
        try:
            new_rate = rate_limit(body["rateLimit"]) if "rateLimit" in body else ABSENT
            faults = parse_faults(string_field(body, "faults")) if "faults" in body else ABSENT
        except ValueError as exc:
            raise ApiError(422, [str(exc)]) from None
        daily = number_field(body, "dailyLimit", minimum=1, maximum=10**12, integer=True)
        fault_seed = number_field(body, "faultSeed", minimum=0, maximum=2**63 - 1, integer=True)
        retry_after = bool_field(body, "retryAfter")
        ttl = number_field(body, "accessTokenTtl", minimum=1, maximum=3650 * DAY_S, integer=True)
        delay = number_field(body, "searchIndexDelayMs", minimum=0, maximum=3_600_000, integer=True)
        timeout = number_field(body, "timeoutFaultSeconds", minimum=0, maximum=3600)
        max_body = number_field(body, "maxBodyBytes", minimum=1, maximum=1 << 30, integer=True)
        reset_buckets = bool_field(body, "resetBuckets", default=True)
        if new_rate is not ABSENT:
            settings.rate_limit = new_rate
        if "dailyLimit" in body:
            settings.daily_limit = daily
        if faults is not ABSENT:
            settings.faults = faults
            request.app.state.faults.configure(settings.faults, fault_seed)
        if retry_after is not None:
            settings.retry_after = retry_after
        if ttl is not None:
            settings.access_token_ttl = ttl
        if delay is not None:
            settings.search_index_delay_ms = delay
            store_of(request).search_index_delay_s = delay / 1000
        if timeout is not None:
            settings.timeout_fault_seconds = float(timeout)
        if max_body is not None:
            settings.max_body_bytes = max_body
        limiter: RateLimiter = request.app.state.limiter
        limiter.configure(settings.rate_limit, settings.daily_limit)
        if reset_buckets:
            limiter.reset()
    return JSONResponse(settings_view(request))


async def faults_endpoint(request: Request) -> Response:
    settings = _settings(request)
    if request.method == "PUT":
        body = await json_body(request, allowed={"faults", "seed"})
        seed = number_field(body, "seed", minimum=0, maximum=2**63 - 1, integer=True)
        try:
            settings.faults = parse_faults(string_field(body, "faults", default=""))
        except ValueError as exc:
            raise ApiError(422, [str(exc)]) from None
        request.app.state.faults.configure(settings.faults, seed)
    injector: FaultInjector = request.app.state.faults
    return JSONResponse(
        {
            "faults": format_faults(settings.faults),
            "seed": injector.seed,
            "injected": injector.injected,
        }
    )


async def location_settings(request: Request) -> Response:
    store = store_of(request)
    location = _location(store, request.path_params["locationId"])
    if request.method == "PUT":
        body = await json_body(request, allowed={"allowDuplicateContact", "priority"})
        allow = bool_field(body, "allowDuplicateContact")
        priority = body.get("priority")
        if priority is not None and (
            not isinstance(priority, list)
            or not priority
            or any(item not in ("email", "phone") for item in priority)
        ):
            raise ApiError(422, ["priority must list 'email' and/or 'phone'"])
        if allow is not None:
            location.duplicates.allow_duplicate_contact = allow
        if priority is not None:
            location.duplicates.priority = list(priority)
        location.record.setdefault("settings", {})["allowDuplicateContact"] = (
            location.duplicates.allow_duplicate_contact
        )
    return JSONResponse(location.duplicates.to_wire())


async def expire_tokens(request: Request) -> Response:
    store = store_of(request)
    body = await json_body(request, allowed={"tokens"})
    tokens = strings_field(body, "tokens")
    count = store.expire_tokens(tokens)
    return JSONResponse({"expired": count})


async def mint_token(request: Request) -> Response:
    store = store_of(request)
    body = await json_body(request, allowed={"locationId", "scopes", "ttlSeconds", "appId"})
    location_id = string_field(body, "locationId")
    if location_id is not None:
        _location(store, location_id)
    listed = strings_field(body, "scopes")
    scopes = ALL_SCOPES if listed is None else frozenset(listed)
    ttl = number_field(body, "ttlSeconds", minimum=0, maximum=3650 * DAY_S)
    app_id = string_field(body, "appId")
    token = store.issue_token(
        kind="location" if location_id else "company",
        company_id=store.company.get("id", ""),
        location_id=location_id,
        scopes=scopes,
        app_id=app_id or f"admin-minted:{store.new_id(8)}",
        ttl_seconds=None if ttl is None else float(ttl),
        source="oauth" if ttl is not None else "private-integration",
        prefix="pit-" if location_id else "agency-",
    )
    return JSONResponse({"token": token.value, "scopes": sorted(token.scopes)})


async def contact_by_email(request: Request) -> Response:
    store = store_of(request)
    location = _location(store, request.path_params["locationId"])
    email = normalize_email_key(request.query_params.get("email", ""))
    contacts = store.contacts(location.id)
    ids = contacts.by_email.get(email, [])
    return JSONResponse({"contacts": [contacts.items[i] for i in ids]})


def _stamp(store: Store, entity: dict[str, Any], *, created: bool) -> None:
    """Stamp the entity's own timestamp pair: ``dateAdded``/``dateUpdated`` when it uses those
    (contacts, notes, tasks), otherwise ``createdAt``/``updatedAt`` (opportunities and most)."""
    now = store.now()
    if "dateUpdated" in entity or "dateAdded" in entity:
        # conversations keep epoch-ms numbers there: stamp in the entity's own format
        numeric = isinstance(entity.get("dateUpdated", entity.get("dateAdded")), int)
        stamp: Any = ms_from_iso(now) if numeric else now
        entity["dateUpdated"] = stamp
        if created:
            entity.setdefault("dateAdded", stamp)
    else:
        entity["updatedAt"] = now
        if created:
            entity.setdefault("createdAt", now)


async def entities(request: Request) -> Response:
    store = store_of(request)
    location = _location(store, request.path_params["locationId"])
    kind = request.path_params["kind"]
    collection = location.collection(kind)
    if request.method == "GET":
        limit = int_param(request, "limit", 1000)
        items = list(collection.items.values())[:limit]
        return JSONResponse(
            {"items": items, "total": len(collection), "deleted": collection.deleted}
        )
    body = await json_body(request)
    entity = dict(body)
    entity.setdefault("id", store.new_id())
    entity.setdefault("locationId", location.id)
    if kind == "contacts":
        entity.setdefault("dateAdded", store.now())
        entity["dateUpdated"] = store.now()
    else:
        _stamp(store, entity, created=True)
    check_entity(kind, entity, collection)
    with store.lock:
        collection.put(entity)
    return JSONResponse(entity, status_code=201)


async def entity(request: Request) -> Response:
    store = store_of(request)
    location = _location(store, request.path_params["locationId"])
    kind = request.path_params["kind"]
    entity_id = request.path_params["entityId"]
    collection = location.collection(kind)
    current = collection.get(entity_id)
    if request.method == "DELETE":
        with store.lock:
            removed = store.delete(location.id, kind, entity_id)
        if removed is None:
            raise ApiError(404, f"{kind} {entity_id} not found")
        return JSONResponse({"deleted": True, "id": entity_id})
    if current is None:
        raise ApiError(404, f"{kind} {entity_id} not found")
    if request.method == "GET":
        return JSONResponse(current)
    body = await json_body(request)
    updated = dict(current) if request.method == "PATCH" else {"id": entity_id}
    updated.update(body)
    updated["id"] = entity_id
    # a PUT replaces the record but keeps the timestamps it omits: the routes sort and filter
    # on them, and no HighLevel record lacks them
    for name in ("dateAdded", "dateUpdated", "createdAt", "updatedAt", "locationId"):
        if name in current and updated.get(name) is None:
            updated[name] = current[name]
    if kind == "contacts":
        updated["dateUpdated"] = store.now()
    elif request.method == "PATCH":
        _stamp(store, updated, created=False)
    check_entity(kind, updated, collection)
    with store.lock:
        collection.put(updated)
    return JSONResponse(updated)


async def events(request: Request) -> Response:
    store = store_of(request)
    limit = int_param(request, "limit", 100)
    items = list(store.events)[-limit:] if limit > 0 else []
    return JSONResponse({"events": [body for _, _, body in items]})


async def advance_clock(request: Request) -> Response:
    store = store_of(request)
    body = await json_body(request, allowed={"seconds"}, required={"seconds"})
    seconds = number_field(body, "seconds", minimum=-CLOCK_RANGE_S, maximum=CLOCK_RANGE_S)
    if abs(store.clock.offset_seconds + seconds) > CLOCK_RANGE_S:
        raise ApiError(
            422,
            [f"seconds would move the clock more than {CLOCK_RANGE_S} s from the wall clock"],
        )
    store.clock.advance(float(seconds))
    return JSONResponse({"now": store.now_readonly()})


async def oauth_authorize(request: Request) -> Response:
    """The consent step without a browser: ``{code, redirectUrl}`` for ``POST /oauth/token``."""
    from ghlsync.emulator.routes.oauth import issue_code

    store = store_of(request)
    params = request.query_params
    client_id = params.get("client_id") or next(iter(store.oauth_apps), "")
    redirect_uri = params.get("redirect_uri") or "http://127.0.0.1/callback"
    code = issue_code(
        store,
        client_id=client_id,
        redirect_uri=redirect_uri,
        location_id=params.get("locationId"),
        user_type=params.get("user_type", "Location"),
        scope=params.get("scope"),
    )
    return JSONResponse(
        {"code": code, "clientId": client_id, "redirectUrl": f"{redirect_uri}?code={code}"}
    )


routes: list[BaseRoute] = [
    Route("/oauth/authorize", oauth_authorize, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/state", get_state, methods=["GET"]),
    Route("/requests", get_requests, methods=["GET"]),
    Route("/counts", get_counts, methods=["GET"]),
    Route("/reset", reset, methods=["POST"]),
    Route("/seed", add_seed, methods=["POST"]),
    Route("/settings", settings_endpoint, methods=["GET", "PUT"]),
    Route("/faults", faults_endpoint, methods=["GET", "PUT"]),
    Route("/tokens/expire", expire_tokens, methods=["POST"]),
    Route("/tokens", mint_token, methods=["POST"]),
    Route("/events", events, methods=["GET"]),
    Route("/clock/advance", advance_clock, methods=["POST"]),
    Route("/locations/{locationId}/settings", location_settings, methods=["GET", "PUT"]),
    Route("/locations/{locationId}/contacts/by-email", contact_by_email, methods=["GET"]),
    Route("/locations/{locationId}/{kind}", entities, methods=["GET", "POST"]),
    Route(
        "/locations/{locationId}/{kind}/{entityId}",
        entity,
        methods=["GET", "PUT", "PATCH", "DELETE"],
    ),
]
