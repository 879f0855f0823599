"""API v3 at the edge: the one map from the v2 calls the resources build to their v3 form.

The resources speak v2. With ``api_version="v3"`` the core passes every call through
``to_v3`` just before sending and every answer through ``answer_from_v3``, so no resource
knows about v3. The differences were found by comparing ``apps/*.json`` with ``apps/v3/*.json``
for every operation the client calls (``tests/contract`` checks v3 requests against
``apps/v3``):

- ``POST /oauth/locationToken`` is ``/oauth/location-token``;
- ``POST /oauth/token`` takes camelCase form fields (``clientId``, ``grantType``...) and
  answers camelCase (``accessToken``, ``expiresIn``...), as does the location token;
- ``GET /opportunities/search`` takes ``locationId``, ``pipelineId``, ``pipelineStageId``,
  ``contactId``, ``assignedTo`` (v2: snake_case);
- ``GET /contacts/`` and ``GET /users/`` do not exist in v3: refused before sending;
- ``GET /oauth/installedLocations`` is ``/oauth/installed-locations`` paged by an opaque
  ``pageToken`` (not ``skip``): not supported yet, refused before sending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ghlsync.errors import ConfigError

Call = tuple[str, str]

PATHS: Final[dict[Call, str]] = {
    ("POST", "/oauth/locationToken"): "/oauth/location-token",
}

QUERY_NAMES: Final[dict[Call, dict[str, str]]] = {
    ("GET", "/opportunities/search"): {
        "location_id": "locationId",
        "pipeline_id": "pipelineId",
        "pipeline_stage_id": "pipelineStageId",
        "contact_id": "contactId",
        "assigned_to": "assignedTo",
    },
}

FORM_NAMES: Final[dict[Call, dict[str, str]]] = {
    ("POST", "/oauth/token"): {
        "client_id": "clientId",
        "client_secret": "clientSecret",
        "grant_type": "grantType",
        "refresh_token": "refreshToken",
        "user_type": "userType",
        "redirect_uri": "redirectUri",
    },
}

#: v3 answers -> the v2 names the client reads
ANSWER_NAMES: Final[dict[Call, dict[str, str]]] = {
    call: {
        "accessToken": "access_token",
        "refreshToken": "refresh_token",
        "expiresIn": "expires_in",
        "tokenType": "token_type",
    }
    for call in (("POST", "/oauth/token"), ("POST", "/oauth/locationToken"))
}

ABSENT: Final[dict[Call, str]] = {
    ("GET", "/contacts/"): "use client.contacts.pages()/iterate() (POST /contacts/search)",
    ("GET", "/users/"): "use client.users.search(...) (GET /users/search)",
}

#: v3 has them, but differently enough that a path/parameter map cannot carry the v2 call
UNSUPPORTED: Final[dict[Call, str]] = {
    ("GET", "/oauth/installedLocations"): (
        "v3 pages installed locations with an opaque pageToken (``/oauth/installed-locations``);"
        " use a client with api_version='v2' for installed locations"
    ),
}


def _renamed(values: Mapping[str, Any] | None, names: Mapping[str, str]) -> dict[str, Any] | None:
    if values is None:
        return None
    return {names.get(key, key): value for key, value in values.items()}


def to_v3(
    method: str,
    path: str,
    params: Mapping[str, Any] | None,
    data: Mapping[str, str] | None,
) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
    """The v3 path, query and form of a v2 call (``ConfigError`` if v3 has no such call)."""
    call = (method, path)
    if call in ABSENT:
        raise ConfigError(f"{method} {path} does not exist in API v3", hint=ABSENT[call])
    if call in UNSUPPORTED:
        raise ConfigError(
            f"{method} {path} is not supported with API v3 yet", hint=UNSUPPORTED[call]
        )
    query = _renamed(params, QUERY_NAMES.get(call, {}))
    form = _renamed(data, FORM_NAMES.get(call, {}))
    return PATHS.get(call, path), query, form


def answer_from_v3(method: str, path: str, body: Any) -> Any:
    """A v3 answer with the v2 names the client reads (token answers), else as it came."""
    names = ANSWER_NAMES.get((method, path))
    if names is None or not isinstance(body, Mapping):
        return body
    return {names.get(key, key): value for key, value in body.items()}
