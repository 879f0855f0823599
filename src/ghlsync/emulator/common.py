"""Helpers every route module uses: errors, auth and scope checks, Version, JSON bodies.

A handler looks like::

    async def get_thing(request: Request) -> Response:
        auth = require(request, scope="things.readonly", location_id=request.query_params.get("locationId"))
        body = await json_body(request, allowed={"name", "locationId"}, required={"name"})
        ...
        return ok({"thing": thing})

Errors are raised as ``ApiError`` and rendered by the app as HighLevel does:
``{"statusCode": 422, "message": [...], "error": "Unprocessable Entity", "traceId": "..."}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

# re-exported: route modules take every helper from here
from ghlsync.emulator.api_error import REASONS as REASONS
from ghlsync.emulator.api_error import ApiError as ApiError
from ghlsync.emulator.api_error import new_trace_id as new_trace_id
from ghlsync.emulator.state import Store, Token
from ghlsync.emulator.wire import is_json_type, read_body, read_json

#: ``Version`` header values per API family (the ``Version`` enum in ``apps/*.json``), plus
#: ``v3`` (``apps/v3/*.json`` and the official SDK 3.x).
V2021_07_28: tuple[str, ...] = ("2021-07-28", "v3")
V2021_04_15: tuple[str, ...] = ("2021-04-15", "v3")

#: token kinds for ``require(token_kinds=...)``, after the specs' security schemes
LOCATION_ONLY: tuple[str, ...] = ("location",)
ANY_TOKEN: tuple[str, ...] = ("location", "company")
AGENCY_ONLY: tuple[str, ...] = ("company",)


def error_response(
    status: int, message: str | list[str], *, error: str | None = None, **extra: Any
) -> JSONResponse:
    exc = ApiError(status, message, error=error, extra=extra)
    return JSONResponse(exc.body(), status_code=status, headers=exc.headers)


class FastJSONResponse(JSONResponse):
    """JSON rendered with msgspec: a 500-contact page serialises in a few milliseconds."""

    def render(self, content: Any) -> bytes:
        return _encoder.encode(content)


_encoder = msgspec.json.Encoder()


def ok(body: Any, status: int = 200) -> JSONResponse:
    return FastJSONResponse(body, status_code=status)


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


# --------------------------------------------------------------------------- auth
def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def token_of(store: Store, request: Request) -> Token:
    """The request's valid token, or 401 (missing, unknown, expired)."""
    value = bearer(request)
    if value is None:
        raise ApiError(401, "Invalid JWT: no bearer token in the Authorization header")
    token = store.tokens.get(value)
    if token is None:
        raise ApiError(401, "Invalid JWT")
    if token.expires_at is not None and token.expires_at <= store.clock.time():
        raise ApiError(401, "Invalid JWT: the access token has expired")
    return token


def check_version(request: Request, versions: Iterable[str]) -> str:
    """The ``Version`` header, which must be one of ``versions``; otherwise 400."""
    allowed = tuple(versions)
    version = request.headers.get("version")
    if not version:
        raise ApiError(400, "Version header is required", error="Bad Request")
    if version not in allowed:
        raise ApiError(
            400,
            f"Version header must be one of: {', '.join(allowed)}",
            error="Bad Request",
        )
    return version


def require(
    request: Request,
    *,
    scope: str | Iterable[str] | None = None,
    location_id: str | None = None,
    company_id: str | None = None,
    versions: Iterable[str] | None = V2021_07_28,
    token_kinds: Iterable[str] = LOCATION_ONLY,
) -> Token:
    """Check token, ``Version``, scope and resource access; return the token.

    - no or unknown or expired token: 401 ("Invalid JWT ...");
    - missing or unknown ``Version``: 400 (pass ``versions=None`` to skip, e.g. ``/oauth/token``);
    - a token of another kind than ``token_kinds``: 401 "This route is not yet supported by the
      IAM Service." The default, ``LOCATION_ONLY``, matches the specs' ``bearer`` /
      ``Location-Access`` schemes (a sub-account token: Private Integration or OAuth
      ``Location``); pass ``ANY_TOKEN`` where a spec also lists ``Agency-Access`` and
      ``AGENCY_ONLY`` for ``Agency-Access-Only``;
    - missing scope (``scope`` may list alternatives): 401 "The token is not authorized for this
      scope.";
    - a location token used on another location, or a token of another company: 403;
    - ``location_id`` naming no location: 400 for an agency token, 403 for a location token.
    """
    store = store_of(request)
    token = token_of(store, request)
    if versions is not None:
        check_version(request, versions)
    if token.kind not in tuple(token_kinds):
        raise ApiError(401, "This route is not yet supported by the IAM Service.")
    if scope is not None:
        wanted = (scope,) if isinstance(scope, str) else tuple(scope)
        if wanted and not any(item in token.scopes for item in wanted):
            raise ApiError(401, "The token is not authorized for this scope.")
    if location_id is not None:
        if token.kind == "location" and token.location_id != location_id:
            raise ApiError(403, "The token does not have access to this location.")
        location = store.locations.get(location_id)
        if location is None or location.record.get("companyId") != token.company_id:
            if token.kind == "company":
                raise ApiError(400, "Location not found", error="Bad Request")
            raise ApiError(403, "The token does not have access to this location.")
    if company_id is not None and company_id != token.company_id:
        raise ApiError(403, "The token does not have access to this company.")
    request.state.token = token
    return token


def location_of_token(token: Token, requested: str | None) -> str:
    """The location a request addresses: the one asked for, else the token's own."""
    location_id = requested or token.location_id
    if not location_id:
        raise ApiError(422, ["locationId should not be empty"])
    return location_id


# --------------------------------------------------------------------------- bodies
async def json_body(
    request: Request,
    *,
    allowed: Iterable[str] | None = None,
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """The JSON object body; unknown properties and missing required ones give one 422.

    Size, media type and syntax are checked by ``wire.read_json`` (413, 415, 400).
    """
    data = await read_json(request)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object", error="Bad Request")
    messages: list[str] = []
    if allowed is not None:
        allowed_set = set(allowed)
        messages += [f"property {key} should not exist" for key in data if key not in allowed_set]
    for key in required:
        if data.get(key) in (None, ""):
            messages.append(f"{key} should not be empty")
    if messages:
        raise ApiError(422, messages)
    return data


async def form_body(request: Request) -> dict[str, str]:
    """A form-encoded body (``/oauth/token``) as a flat dict; JSON is accepted too."""
    content_type = request.headers.get("content-type", "")
    if is_json_type(content_type):
        data = await json_body(request)
        return {key: str(value) for key, value in data.items() if value is not None}
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in ("", "application/x-www-form-urlencoded"):
        raise ApiError(
            415,
            f"Unsupported Media Type: {media}; send application/x-www-form-urlencoded",
            error="Unsupported Media Type",
        )
    # parsed here rather than with request.form(), which needs python-multipart
    raw = (await read_body(request)).decode("utf-8", "replace")
    return dict(parse_qsl(raw, keep_blank_values=True))


def unknown_properties(data: dict[str, Any], allowed: Iterable[str], prefix: str = "") -> list[str]:
    allowed_set = set(allowed)
    return [f"property {prefix}{key} should not exist" for key in data if key not in allowed_set]


# --------------------------------------------------------------------------- query
def int_param(
    request: Request,
    name: str,
    default: int,
    *,
    minimum: int = 0,
    maximum: int | None = None,
) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, [f"{name} must be an integer number"]) from None
    if value < minimum:
        raise ApiError(422, [f"{name} must not be less than {minimum}"])
    if maximum is not None and value > maximum:
        raise ApiError(422, [f"{name} must not be greater than {maximum}"])
    return value


def response_for(exc: ApiError) -> Response:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


@dataclass
class Page:
    items: list[Any]
    total: int


def paginate(items: list[Any], skip: int, limit: int) -> Page:
    return Page(items=items[skip : skip + limit], total=len(items))
