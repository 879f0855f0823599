"""The contact a request names (400 when unknown, as HighLevel answers) and its children
(notes, tasks: 404 when unknown or another contact's)."""

from __future__ import annotations

from starlette.requests import Request

from ghlsync.emulator.common import ApiError, require, store_of
from ghlsync.emulator.state import Entity, LocationState, Store, Token


def contact_of(request: Request, scope: str) -> tuple[Store, Token, LocationState, Entity]:
    token = require(request, scope=scope)
    store = store_of(request)
    contact_id = request.path_params["contactId"]
    found = store.find("contacts", contact_id)
    if found is None:
        raise ApiError(400, "Contact not found", error="Bad Request")
    location_id, contact = found
    require(request, scope=scope, location_id=location_id)
    return store, token, store.locations[location_id], contact


def child_or_404(
    request: Request, scope: str, kind: str, id_param: str, label: str
) -> tuple[Store, LocationState, Entity, Entity]:
    """The contact's child of ``kind`` (``notes``, ``tasks``) named by ``id_param``: 404
    ``"<label> not found"`` when unknown or another contact's."""
    store, _, location, contact = contact_of(request, scope)
    child = location.collection(kind).get(request.path_params[id_param])
    if child is None or child.get("contactId") != contact["id"]:
        raise ApiError(404, f"{label} not found")
    return store, location, contact, child


def children_of(location: LocationState, kind: str, contact: Entity) -> list[Entity]:
    """The contact's children of ``kind`` (``notes``, ``tasks``, ``calendar_events``)."""
    return [item for item in location.collection(kind) if item.get("contactId") == contact["id"]]
