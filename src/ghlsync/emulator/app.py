"""The emulator's ASGI app: HighLevel's routes, plus rate limits, faults and a request log.

``create_app(store, settings)`` builds a Starlette app from ``API_ROUTES`` (HighLevel's routes,
declared below family by family) and the admin API (``/_emulator/...``). Around it, one raw
ASGI layer (``EmulatorMiddleware``) does what every HighLevel response shares: the five
``X-RateLimit-*`` headers, 429 past the budget, injected faults, request counting and logging.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib.resources
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route

from ghlsync.emulator import admin, webhooks
from ghlsync.emulator.common import ApiError, bearer, new_trace_id, response_for
from ghlsync.emulator.contacts import children as contact_children
from ghlsync.emulator.contacts import membership as contact_membership
from ghlsync.emulator.contacts import routes as contacts
from ghlsync.emulator.faults import FaultInjector
from ghlsync.emulator.ratelimit import RateLimiter
from ghlsync.emulator.routes import (
    associations,
    businesses,
    calendars,
    campaigns,
    conversations,
    custom_fields,
    custom_values,
    forms,
    invoices,
    locations,
    oauth,
    object_fields,
    object_records,
    objects,
    opportunities,
    opportunity_search,
    payments,
    products,
    surveys,
    users,
    workflows,
)
from ghlsync.emulator.settings import EmulatorSettings
from ghlsync.emulator.state import RequestRecord, Store
from ghlsync.emulator.wire import GuardedApp, logged_body, redact_form

logger = logging.getLogger("ghlsync.emulator")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ADMIN_PREFIX = "/_emulator"
_LOGGED_BODY_LIMIT = 64 * 1024


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised after the response started, so the server drops the connection (``reset``).

    Over a socket uvicorn closes the connection mid-response. In-process,
    ``httpx.ASGITransport`` re-raises it to the caller, and being an
    ``httpx.RemoteProtocolError`` it looks to an httpx client exactly like a dropped
    connection.
    """


#: HighLevel's API, family by family: every route the emulator serves, in matching order
#: (each family's module declares its ``routes``; ``routes/__init__.py`` tells how to add one).
API_ROUTES: list[BaseRoute] = [
    *oauth.routes,
    *locations.routes,
    *custom_fields.routes,
    *contacts.routes,
    *contact_children.routes,
    *users.routes,
    *opportunity_search.routes,  # ahead of ``/opportunities/{id}``
    *opportunities.routes,
    *calendars.routes,
    *conversations.routes,
    *campaigns.routes,
    *workflows.routes,
    *contact_membership.routes,
    *businesses.routes,
    *forms.routes,
    *surveys.routes,
    *invoices.routes,
    *products.routes,
    *payments.routes,
    *object_fields.routes,
    *objects.routes,
    *object_records.routes,
    *associations.routes,
    *custom_values.routes,
]


def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return response_for(exc)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        # NestJS (HighLevel) has no 405: a method a path does not serve is an unknown route,
        # "Cannot DELETE /contacts/search"
        return _not_found(request.method, request.url.path)
    return JSONResponse(
        {
            "statusCode": exc.status_code,
            "message": exc.detail,
            "error": str(exc.detail),
            "traceId": new_trace_id(),
        },
        status_code=exc.status_code,
    )


def _not_found(method: str, path: str) -> Response:
    return JSONResponse(
        {
            "statusCode": 404,
            "message": f"Cannot {method} {path}",
            "error": "Not Found",
            "traceId": new_trace_id(),
        },
        status_code=404,
    )


async def _not_served(request: Request) -> Response:
    return _not_found(request.method, request.url.path)


class NotServedRoute(BaseRoute):
    """A HighLevel path and method the emulator does not serve: 404 ``Cannot METHOD /path``.

    Not a ``Route``, so nothing counts it as implemented; it matches its own method only.
    """

    def __init__(self, path: str, method: str) -> None:
        self.path = path
        self.method = method
        self._route = Route(path, _not_served, methods=[method])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = self._route.matches(scope)
        return (match, child) if match == Match.FULL else (Match.NONE, {})

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        return self._route.url_path_for(name, **path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._route.handle(scope, receive, send)


def spec_operations() -> list[tuple[str, str]]:
    """Every v2 operation of HighLevel's specs as ``(METHOD, /path/{param})``."""
    text = importlib.resources.files("ghlsync.emulator").joinpath("spec_operations.txt")
    pairs = []
    for line in text.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            method, _, path = line.partition(" ")
            pairs.append((method, path))
    return pairs


def _template_key(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/") or "/")


def not_served_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """404 routes for HighLevel's literal paths the emulator does not serve but one of its
    ``{id}`` routes would catch: ``GET /invoices/template`` is HighLevel's template list, not
    the invoice "template" (issue 16). They go first, so the literal path wins as in NestJS."""
    implemented = {
        (method, _template_key(route.path))
        for route in routes
        if isinstance(route, Route)
        for method in route.methods or ()
    }
    shadows: list[BaseRoute] = []
    for method, path in spec_operations():
        if (method, _template_key(path)) in implemented:
            continue
        concrete = re.sub(r"\{[^}]+\}", "x1", path)
        scope = {"type": "http", "method": method, "path": concrete, "root_path": ""}
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            shadows.append(NotServedRoute(path, method))
    return shadows


def _server_error(request: Request, exc: Exception) -> Response:
    return _server_error_response()


def _server_error_response() -> Response:
    return JSONResponse(
        {
            "statusCode": 500,
            "message": "Internal server error",
            "error": "Internal Server Error",
            "traceId": new_trace_id(),
        },
        status_code=500,
    )


def create_app(store: Store, settings: EmulatorSettings | None = None) -> Starlette:
    """The emulator as an ASGI app over ``store`` (seeded or empty)."""
    settings = settings or EmulatorSettings(seed=store.seed)
    routes = not_served_routes(API_ROUTES) + API_ROUTES
    routes.append(Mount(ADMIN_PREFIX, routes=admin.routes))
    app = GuardedApp(
        routes=routes,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.passthrough = (ConnectionDropped,)
    app.state.store = store
    store.search_index_delay_s = settings.search_index_delay_ms / 1000
    app.state.routes = routes
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_limit, settings.daily_limit)
    app.state.faults = FaultInjector(settings.faults, settings.seed)
    app.add_middleware(EmulatorMiddleware, state=app.state)
    webhooks.attach(app)  # signed webhooks out: subscribes to ``store.emit``
    return app


class EmulatorMiddleware:
    """Rate limits, faults, request counts and the request log, for every HighLevel request."""

    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(ADMIN_PREFIX):
            await self._admin(scope, receive, send)
            return
        await self._api(scope, receive, send)

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings: EmulatorSettings = self.state.settings
        if settings.admin_token:
            headers = dict(scope.get("headers") or [])
            given = headers.get(b"x-emulator-admin", b"")
            if not hmac.compare_digest(given, settings.admin_token.encode()):
                response = JSONResponse(
                    {
                        "statusCode": 401,
                        "message": "admin token required: send it as X-Emulator-Admin",
                        "error": "Unauthorized",
                    },
                    status_code=401,
                )
                await response(scope, receive, send)
                return
        await self._guarded(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; an exception before the response started becomes a JSON 500 here."""
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except ConnectionDropped:
            raise
        except Exception:
            if started:
                raise
            logger.exception("emulator: unexpected error on %s %s", scope["method"], scope["path"])
            store: Store = self.state.store
            store.counters["server_errors"] = store.counters.get("server_errors", 0) + 1
            await _server_error_response()(scope, receive, send)

    def _bucket(self, scope: Scope) -> tuple[tuple[str, str], str | None, str | None]:
        store: Store = self.state.store
        request = Request(scope)
        value = bearer(request)
        token = store.tokens.get(value) if value else None
        if token is None:
            client = scope.get("client") or ("local", 0)
            return ("anonymous", str(client[0])), None, None
        resource = token.location_id or f"company:{token.company_id}"
        return (token.app_id, resource), token.location_id, token.kind

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        store: Store = self.state.store
        limiter: RateLimiter = self.state.limiter
        injector: FaultInjector = self.state.faults
        settings: EmulatorSettings = self.state.settings
        key, location_id, token_kind = self._bucket(scope)
        decision = limiter.check(key, store.clock.monotonic(), store.clock.time())
        extra_headers = [(k.lower().encode(), v.encode()) for k, v in decision.headers.items()]

        captured = bytearray()
        received = 0

        async def receive_logged() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if len(captured) < _LOGGED_BODY_LIMIT:
                    captured.extend(chunk[: _LOGGED_BODY_LIMIT - len(captured)])
            return message

        status_seen = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status_seen
            if message["type"] == "http.response.start":
                status_seen = message["status"]
                message["headers"] = list(message.get("headers", [])) + extra_headers
            await send(message)

        fault_name: str | None = None
        try:
            if not decision.allowed:
                message = (
                    "Daily API limit reached for this resource."
                    if decision.reason == "daily"
                    else "Too many requests. The rate limit for this resource has been exceeded."
                )
                error = ApiError(429, message)
                if settings.retry_after:
                    error.headers["Retry-After"] = limiter.retry_after_header(
                        decision.retry_after_s
                    )
                await response_for(error)(scope, receive_logged, send_with_headers)
                return
            fault = injector.draw()
            if fault is not None:
                fault_name = fault.kind
                handled = await self._fault(fault, scope, receive_logged, send_with_headers)
                if handled:
                    return
            # answered here (not by Starlette's outer error middleware) so that a 500 carries
            # the rate-limit headers like every other response
            await self._guarded(scope, receive_logged, send_with_headers)
        finally:
            complete = received == len(captured)
            self._record(
                scope, status_seen, captured, complete, location_id, token_kind, fault_name
            )

    async def _fault(self, fault: Any, scope: Scope, receive: Receive, send: Send) -> bool:
        """Apply a fault; True when it produced (or refused) the whole response."""
        settings: EmulatorSettings = self.state.settings
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay_s if fault.delay_s is not None else 2.0)
            return False
        if fault.kind == "timeout":
            delay = fault.delay_s if fault.delay_s is not None else settings.timeout_fault_seconds
            await asyncio.sleep(min(delay, settings.timeout_fault_seconds))
            await response_for(ApiError(504, "Gateway Timeout", error="Gateway Timeout"))(
                scope, receive, send
            )
            return True
        if fault.kind == "reset":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise ConnectionDropped("emulator fault: connection reset")
        status = int(fault.kind)
        if status == 429:
            error = ApiError(
                429, "Too many requests. The rate limit for this resource has been exceeded."
            )
            error.headers["Retry-After"] = "1"
        else:
            error = ApiError(status, "Internal server error" if status == 500 else "Bad gateway")
        await response_for(error)(scope, receive, send)
        return True

    def _match(self, scope: Scope) -> Any:
        """The route a request would have reached (for requests refused before routing)."""
        for route in self.state.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return route
        return None

    def _record(
        self,
        scope: Scope,
        status: int,
        body: bytearray,
        complete: bool,
        location_id: str | None,
        token_kind: str | None,
        fault: str | None,
    ) -> None:
        store: Store = self.state.store
        route = scope.get("route") or self._match(scope)
        route_path = getattr(route, "path", None) or scope["path"]
        operation = f"{scope['method']} {route_path}"
        key = (operation, status)
        store.request_counts[key] = store.request_counts.get(key, 0) + 1
        headers = dict(scope.get("headers") or [])
        version = headers.get(b"version")
        query = (scope.get("query_string") or b"").decode("latin-1")
        store.request_log.append(
            RequestRecord(
                at=store.now_readonly(),
                method=scope["method"],
                path=scope["path"],
                query=redact_form(query),
                operation=operation,
                status=status,
                location_id=location_id,
                token_kind=token_kind,
                version=version.decode("latin-1") if version else None,
                body=logged_body(bytes(body), complete=complete),
                fault=fault,
            )
        )
