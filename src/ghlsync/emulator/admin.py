"""The admin API under ``/_emulator/``: not HighLevel's surface; for tests and operators.

| method and path | what |
| --- | --- |
| `GET /_emulator/health` | liveness |
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

from ghlsync.emulator.common import ApiError, int_param, json_body, store_of
from ghlsync.emulator.faults import FaultInjector
from ghlsync.emulator.ratelimit import RateLimiter
from ghlsync.emulator.settings import (
    EmulatorSettings,
    format_faults,
    parse_faults,
    parse_rate_limit,
)
from ghlsync.emulator.state import ALL_SCOPES, Store, ms_from_iso, normalize_email_key


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


def _whole(body: dict[str, Any], name: str, default: int) -> int:
    """A non-negative integer field of a seed body, or 422 naming it."""
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError(422, [f"{name} must be a non-negative integer, not {value!r}"])
    return value


def anchor_ms(value: Any) -> int | None:
    """A seed anchor: an ISO date/time (``2026-06-30`` or ``2026-06-30T12:00:00Z``) or epoch
    ms, as epoch ms; None for None. Raises ``ValueError`` with a readable message."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            text += "T00:00:00.000Z"
        try:
            return ms_from_iso(text)
        except ValueError:
            pass
    raise ValueError(f"anchor must be an ISO date (2026-06-30) or date-time, not {value!r}")


def _seed_options(body: dict[str, Any], previous: Any) -> Any:
    from ghlsync.emulator.seed import SeedOptions

    counts = body.get("counts", previous.counts)
    if not isinstance(counts, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts.values()
    ):
        raise ApiError(422, ["counts must be an object of kind: non-negative integer"])
    try:
        anchor = anchor_ms(body["anchor"]) if "anchor" in body else previous.anchor_ms
    except ValueError as exc:
        raise ApiError(422, [str(exc)]) from None
    return SeedOptions(
        locations=_whole(body, "locations", previous.locations),
        contacts=_whole(body, "contacts", previous.contacts),
        opportunities=_whole(body, "opportunities", previous.opportunities),
        seed=_whole(body, "seed", previous.seed),
        counts=dict(counts),
        history_days=previous.history_days,
        anchor_ms=anchor,
    )


async def reset(request: Request) -> Response:
    """Drop everything and seed again (the previous options, changed by the body)."""
    from ghlsync.emulator.seed import SeedOptions, seed_store, settle_memory

    store = store_of(request)
    body = await json_body(request, allowed=_SEED_FIELDS)
    previous: SeedOptions = store.extras.get("seed_options") or SeedOptions(seed=store.seed)
    options = _seed_options(body, previous)
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
    from ghlsync.emulator.seed import SeedOptions
    from ghlsync.emulator.seed import add_seed as add

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
    options = _seed_options(body, nothing)
    location_id = body.get("locationId")
    if location_id is not None:
        _location(store, str(location_id))
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
    }


async def settings_endpoint(request: Request) -> Response:
    if request.method == "PUT":
        body = await json_body(request)
        settings = _settings(request)
        try:
            if "rateLimit" in body:
                value = body["rateLimit"]
                settings.rate_limit = (
                    parse_rate_limit(value)
                    if value is None or isinstance(value, str)
                    else parse_rate_limit(f"{value['max']}/{value['intervalMs']}ms")
                )
            if "dailyLimit" in body:
                settings.daily_limit = (
                    None if body["dailyLimit"] is None else int(body["dailyLimit"])
                )
            if "faults" in body:
                settings.faults = parse_faults(body["faults"])
                request.app.state.faults.configure(settings.faults, body.get("faultSeed"))
            if "retryAfter" in body:
                settings.retry_after = bool(body["retryAfter"])
            if "accessTokenTtl" in body:
                settings.access_token_ttl = int(body["accessTokenTtl"])
            if "searchIndexDelayMs" in body:
                settings.search_index_delay_ms = int(body["searchIndexDelayMs"])
                store_of(request).search_index_delay_s = settings.search_index_delay_ms / 1000
            if "timeoutFaultSeconds" in body:
                settings.timeout_fault_seconds = float(body["timeoutFaultSeconds"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(422, [str(exc)]) from None
        limiter: RateLimiter = request.app.state.limiter
        limiter.configure(settings.rate_limit, settings.daily_limit)
        if body.get("resetBuckets", True):
            limiter.reset()
    return JSONResponse(settings_view(request))


async def faults_endpoint(request: Request) -> Response:
    settings = _settings(request)
    if request.method == "PUT":
        body = await json_body(request)
        try:
            settings.faults = parse_faults(body.get("faults") or "")
        except ValueError as exc:
            raise ApiError(422, [str(exc)]) from None
        seed = body.get("seed")
        request.app.state.faults.configure(settings.faults, None if seed is None else int(seed))
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
        if "allowDuplicateContact" in body:
            location.duplicates.allow_duplicate_contact = bool(body["allowDuplicateContact"])
        if "priority" in body:
            priority = list(body["priority"])
            if not priority or any(item not in ("email", "phone") for item in priority):
                raise ApiError(422, ["priority must list 'email' and/or 'phone'"])
            location.duplicates.priority = priority
        location.record.setdefault("settings", {})["allowDuplicateContact"] = (
            location.duplicates.allow_duplicate_contact
        )
    return JSONResponse(location.duplicates.to_wire())


async def expire_tokens(request: Request) -> Response:
    store = store_of(request)
    body = await json_body(request)
    tokens = body.get("tokens")
    count = store.expire_tokens(None if tokens is None else list(tokens))
    return JSONResponse({"expired": count})


async def mint_token(request: Request) -> Response:
    store = store_of(request)
    body = await json_body(request, allowed={"locationId", "scopes", "ttlSeconds", "appId"})
    location_id = body.get("locationId")
    if location_id is not None:
        _location(store, location_id)
    scopes = frozenset(body["scopes"]) if body.get("scopes") is not None else ALL_SCOPES
    ttl = body.get("ttlSeconds")
    token = store.issue_token(
        kind="location" if location_id else "company",
        company_id=store.company.get("id", ""),
        location_id=location_id,
        scopes=scopes,
        app_id=str(body.get("appId") or f"admin-minted:{store.new_id(8)}"),
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
    if kind == "contacts":
        updated["dateUpdated"] = store.now()
    elif request.method == "PATCH":
        _stamp(store, updated, created=False)
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
    store.clock.advance(float(body["seconds"]))
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
