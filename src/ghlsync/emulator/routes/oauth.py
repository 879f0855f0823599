"""OAuth 2.0 (``apps/oauth.json``, ``docs/oauth/Authorization.md``): the whole login flow.

- ``GET /oauth/chooselocation`` (also ``/v2/oauth/chooselocation``): the consent page, answered
  at once with a redirect to ``redirect_uri?code=...&state=...`` (``locationId`` picks the
  location, default the first where the app is installed; ``user_type=Company`` asks for an
  agency grant). ``GET /_emulator/oauth/authorize`` returns the code as JSON instead.
- ``POST /oauth/token`` (form-encoded): ``authorization_code`` and ``refresh_token`` grants.
  Refresh tokens are single-use: each refresh returns a new one and the old one dies
  (GHL-NOTES "Tokens"). Access tokens live ``expires_in`` = 86,399 s (configurable).
- ``POST /oauth/locationToken``: an agency token gets a location token of the same app.
- ``GET /oauth/installedLocations``: where the app is installed (``companyId``, ``appId``
  required; ``skip``/``limit``).

API v3 (``apps/v3/oauth-v3.json``, the official SDK 3.x), chosen by ``Version: v3``:
``/oauth/token`` takes camelCase fields (``clientId``, ``clientSecret``, ``grantType``,
``refreshToken``, ``userType``, ``redirectUri``) and answers camelCase (``accessToken``,
``expiresIn`` ...); a missing field or a bad grant is a 400 (``Missing parameter: clientId``).
The agency routes move to ``POST /oauth/location-token`` and ``GET /oauth/installed-locations``
(``pageSize``/``pageToken`` paging, ``{"items": [...], "pagination": {...}}``).
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import (
    AGENCY_ONLY,
    ApiError,
    form_body,
    int_param,
    ok,
    require,
    store_of,
)
from ghlsync.emulator.settings import EmulatorSettings
from ghlsync.emulator.state import OAuthApp, Store, Token

CODE_TTL_SECONDS = 600.0
V3 = ("v3",)
#: ``/oauth/token`` fields: the v2 (snake_case) name of each v3 (camelCase) one
_V3_TOKEN_FIELDS = {
    "clientId": "client_id",
    "clientSecret": "client_secret",
    "grantType": "grant_type",
    "code": "code",
    "refreshToken": "refresh_token",
    "userType": "user_type",
    "redirectUri": "redirect_uri",
}


def _app_by_client(store: Store, client_id: str | None) -> OAuthApp:
    app = store.oauth_apps.get(client_id or "")
    if app is None:
        raise ApiError(401, "Invalid client: client_id not found", error="invalid_client")
    return app


def issue_code(
    store: Store,
    *,
    client_id: str,
    redirect_uri: str | None,
    location_id: str | None,
    user_type: str = "Location",
    scope: str | None = None,
) -> str:
    """An authorization code for ``client_id`` (the emulated consent: always granted)."""
    app = _app_by_client(store, client_id)
    if redirect_uri and app.redirect_uris and not _redirect_ok(app, redirect_uri):
        raise ApiError(400, "redirect_uri is not registered for this app", error="invalid_request")
    scopes = app.scopes if not scope else frozenset(scope.split()) & app.scopes
    if user_type == "Company":
        grant_location = None
        kind = "company"
    else:
        kind = "location"
        installed = sorted(store.installed.get(app.app_id, set()))
        grant_location = location_id or (installed[0] if installed else None)
        if grant_location is None or grant_location not in store.locations:
            raise ApiError(400, "Location not found", error="invalid_request")
        store.installed.setdefault(app.app_id, set()).add(grant_location)
    code = store.new_id(40)
    store.auth_codes[code] = Token(
        value=code,
        kind=kind,
        company_id=store.company.get("id", ""),
        location_id=grant_location,
        scopes=scopes,
        app_id=app.app_id,
        expires_at=store.clock.time() + CODE_TTL_SECONDS,
        source="oauth",
        user_id=store.new_id(),
    )
    store.extras.setdefault("code_redirects", {})[code] = redirect_uri
    return code


def _redirect_ok(app: OAuthApp, redirect_uri: str) -> bool:
    base = redirect_uri.split("?", 1)[0]
    return any(base == allowed or base.startswith(allowed) for allowed in app.redirect_uris) or (
        base.startswith(("http://127.0.0.1", "http://localhost"))
    )


async def choose_location(request: Request) -> Response:
    params = request.query_params
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise ApiError(400, "redirect_uri is required", error="invalid_request")
    if params.get("response_type", "code") != "code":
        raise ApiError(400, "response_type must be code", error="unsupported_response_type")
    code = issue_code(
        store_of(request),
        client_id=params.get("client_id", ""),
        redirect_uri=redirect_uri,
        location_id=params.get("locationId"),
        user_type=params.get("user_type", "Location"),
        scope=params.get("scope"),
    )
    query = {"code": code}
    if params.get("state") is not None:
        query["state"] = params["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(query)}", status_code=302)


def _token_response(store: Store, settings: EmulatorSettings, grant: Token) -> dict[str, Any]:
    access = store.issue_token(
        kind=grant.kind,
        company_id=grant.company_id,
        location_id=grant.location_id,
        scopes=grant.scopes,
        app_id=grant.app_id,
        ttl_seconds=settings.access_token_ttl,
        source="oauth",
        user_id=grant.user_id,
    )
    refresh = store.new_id(48)
    store.refresh_tokens[refresh] = grant
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": "Bearer",
        "expires_in": settings.access_token_ttl,
        "refresh_token": refresh,
        "scope": " ".join(sorted(grant.scopes)),
        "userType": "Company" if grant.kind == "company" else "Location",
        "companyId": grant.company_id,
        "userId": grant.user_id,
        "isBulkInstallation": False,
    }
    if grant.location_id:
        body["locationId"] = grant.location_id
        body["approvedLocations"] = [grant.location_id]
    return body


def _grant_error(v3: bool, message: str, error: str) -> ApiError:
    """v2 refuses a bad code or refresh token with 401, v3 with 400 (its documented examples)."""
    return ApiError(400 if v3 else 401, message, error=error)


async def token(request: Request) -> Response:
    store = store_of(request)
    settings: EmulatorSettings = request.app.state.settings
    v3 = request.headers.get("version") == "v3"
    raw = await form_body(request)
    if v3:
        # v3 names only: a v2 name under Version v3 is as unknown as in the v3 contract
        form = {
            _V3_TOKEN_FIELDS[key]: value for key, value in raw.items() if key in _V3_TOKEN_FIELDS
        }
        required = ("clientId", "clientSecret", "grantType")
        missing = [key for key in required if not form.get(_V3_TOKEN_FIELDS[key])]
        if missing:
            raise ApiError(400, f"Missing parameter: {missing[0]}", error="Bad Request")
    else:
        form = raw
        missing = [key for key in ("client_id", "client_secret", "grant_type") if not form.get(key)]
        if missing:
            raise ApiError(422, [f"{key} should not be empty" for key in missing])
    app = _app_by_client(store, form["client_id"])
    if form["client_secret"] != app.client_secret:
        raise ApiError(401, "Invalid client credentials", error="invalid_client")
    grant_type = form["grant_type"]
    with store.lock:
        if grant_type == "authorization_code":
            code = form.get("code", "")
            grant = store.auth_codes.pop(code, None)
            if grant is None or grant.app_id != app.app_id:
                raise _grant_error(
                    v3, "Invalid grant: authorization code is invalid", "invalid_grant"
                )
            if grant.expires_at is not None and grant.expires_at <= store.clock.time():
                raise _grant_error(v3, "Invalid grant: authorization code expired", "invalid_grant")
            expected = store.extras.get("code_redirects", {}).pop(code, None)
            if expected and form.get("redirect_uri") and form["redirect_uri"] != expected:
                raise _grant_error(v3, "Invalid grant: redirect_uri mismatch", "invalid_grant")
        elif grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            grant = store.refresh_tokens.get(refresh)
            if grant is None or grant.app_id != app.app_id:
                raise _grant_error(
                    v3,
                    "Invalid grant: refresh token is invalid, expired or already used",
                    "invalid_grant",
                )
            # single use: the old refresh token dies now
            del store.refresh_tokens[refresh]
        else:
            name = "grantType" if v3 else "grant_type"
            raise ApiError(
                400, f"{name} {grant_type} is not supported", error="unsupported_grant_type"
            )
        user_type = form.get("user_type")
        if user_type and user_type not in ("Company", "Location"):
            name = "userType" if v3 else "user_type"
            raise ApiError(422, [f"{name} must be one of the following values: Company, Location"])
        body = _token_response(store, settings, grant)
        return ok(_camel_token(body) if v3 else body)


def _camel_token(body: dict[str, Any]) -> dict[str, Any]:
    """The v3 token answer (``GetAccessTokenSuccessfulResponseDto``): the same grant, camelCase."""
    renamed = {
        "access_token": "accessToken",
        "token_type": "tokenType",
        "expires_in": "expiresIn",
        "refresh_token": "refreshToken",
    }
    return {renamed.get(key, key): value for key, value in body.items()}


async def _location_grant(request: Request, versions: tuple[str, ...]) -> tuple[Token, Token]:
    """An agency token's location token (the agency token and the new one)."""
    agency = require(request, scope="oauth.write", token_kinds=AGENCY_ONLY, versions=versions)
    store = store_of(request)
    settings: EmulatorSettings = request.app.state.settings
    form = await form_body(request)
    missing = [key for key in ("companyId", "locationId") if not form.get(key)]
    if missing:
        raise ApiError(422, [f"{key} should not be empty" for key in missing])
    if form["companyId"] != agency.company_id:
        raise ApiError(403, "The token does not have access to this company.")
    location = store.locations.get(form["locationId"])
    if location is None or location.record.get("companyId") != agency.company_id:
        raise ApiError(400, "Location not found", error="Bad Request")
    with store.lock:
        access = store.issue_token(
            kind="location",
            company_id=agency.company_id,
            location_id=location.id,
            scopes=agency.scopes,
            app_id=agency.app_id,
            ttl_seconds=settings.access_token_ttl,
            source="oauth",
            user_id=agency.user_id,
        )
    return agency, access


async def _location_answer(request: Request, versions: tuple[str, ...]) -> dict[str, Any]:
    """The location-token grant in v2's snake_case (``_camel_token`` makes it v3's)."""
    settings: EmulatorSettings = request.app.state.settings
    agency, access = await _location_grant(request, versions)
    return {
        "access_token": access.value,
        "token_type": "Bearer",
        "expires_in": settings.access_token_ttl,
        "scope": " ".join(sorted(access.scopes)),
        "locationId": access.location_id,
        "userId": agency.user_id or "",
        "appId": agency.app_id,
        "versionId": agency.app_id,
    }


async def location_token(request: Request) -> Response:
    """``POST /oauth/locationToken`` (v2): snake_case answer."""
    return ok(await _location_answer(request, ("2021-07-28",)))


async def location_token_v3(request: Request) -> Response:
    """``POST /oauth/location-token`` (v3): ``GetLocationAccessTokenV3SuccessfulResponseDto``."""
    return ok(_camel_token(await _location_answer(request, V3)))


def _installed_rows(request: Request, versions: tuple[str, ...]) -> list[dict[str, Any]]:
    """The company's locations with the app's install state, filtered as the query asks."""
    agency = require(request, scope="oauth.readonly", token_kinds=AGENCY_ONLY, versions=versions)
    store = store_of(request)
    company_id = request.query_params.get("companyId")
    app_id = request.query_params.get("appId")
    messages = [
        f"{name} should not be empty"
        for name, value in (("companyId", company_id), ("appId", app_id))
        if not value
    ]
    if messages:
        raise ApiError(422, messages)
    if company_id != agency.company_id:
        raise ApiError(403, "The token does not have access to this company.")
    query = (request.query_params.get("query") or "").lower()
    wanted_installed = request.query_params.get("isInstalled")
    installed = store.installed.get(app_id or "", set())
    rows = []
    for location in store.locations.values():
        record = location.record
        if record.get("companyId") != company_id:
            continue
        is_installed = location.id in installed
        if wanted_installed is not None and (wanted_installed == "true") != is_installed:
            continue
        if query and query not in str(record.get("name", "")).lower():
            continue
        rows.append(
            {
                "_id": location.id,
                "name": record.get("name"),
                "address": ", ".join(
                    str(part)
                    for part in (record.get("address"), record.get("city"), record.get("country"))
                    if part
                ),
                "isInstalled": is_installed,
            }
        )
    return rows


async def installed_locations(request: Request) -> Response:
    """``GET /oauth/installedLocations`` (v2): ``skip``/``limit``."""
    rows = _installed_rows(request, ("2021-07-28",))
    skip = int_param(request, "skip", 0)
    limit = int_param(request, "limit", 20, minimum=1, maximum=500)
    return ok(
        {
            "locations": rows[skip : skip + limit],
            "count": len(rows),
            "installToFutureLocations": False,
        }
    )


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"skip": offset}).encode()).decode().rstrip("=")


def _offset_of(token: str | None) -> int:
    """The offset inside an opaque v3 ``pageToken`` (ours: base64 of ``{"skip": n}``)."""
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["skip"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(422, ["pageToken is invalid: pass a token from a previous page"]) from None
    if not isinstance(offset, int) or offset < 0:
        raise ApiError(422, ["pageToken is invalid: pass a token from a previous page"])
    return offset


async def installed_locations_v3(request: Request) -> Response:
    """``GET /oauth/installed-locations`` (v3): AIP-158 ``pageSize``/``pageToken`` paging."""
    rows = _installed_rows(request, V3)
    size = int_param(request, "pageSize", 20, minimum=1, maximum=100)
    offset = _offset_of(request.query_params.get("pageToken"))
    items = rows[offset : offset + size]
    pagination: dict[str, Any] = {
        "totalRecords": len(rows),
        "hasNextPage": offset + size < len(rows),
        "hasPrevPage": offset > 0,
        "currentPageSize": len(items),
    }
    if pagination["hasNextPage"]:
        pagination["nextPageToken"] = _page_token(offset + size)
    if offset > 0:
        pagination["prevPageToken"] = _page_token(max(0, offset - size))
    filters: dict[str, Any] = {"companyId": request.query_params.get("companyId")}
    if request.query_params.get("isInstalled") is not None:
        filters["isInstalled"] = request.query_params["isInstalled"] == "true"
    return ok(
        {
            "items": items,
            "pagination": pagination,
            "metadata": {"filterApplied": filters, "sortApplied": {}},
            "installToFutureLocations": False,
        }
    )


routes: list[BaseRoute] = [
    Route("/oauth/chooselocation", choose_location, methods=["GET"]),
    Route("/v2/oauth/chooselocation", choose_location, methods=["GET"]),
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/locationToken", location_token, methods=["POST"]),
    Route("/oauth/installedLocations", installed_locations, methods=["GET"]),
    Route("/oauth/location-token", location_token_v3, methods=["POST"]),
    Route("/oauth/installed-locations", installed_locations_v3, methods=["GET"]),
]
