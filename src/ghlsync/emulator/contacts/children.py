"""A contact's notes, tasks and appointments (``apps/contacts.json``), and the location-wide
task search (``POST /locations/{locationId}/tasks/search``).

Notes and tasks live in the location's ``notes`` / ``tasks`` collections, keyed by id, each
with its ``contactId``; every write emits its webhook (``NoteCreate``, ``TaskComplete``, ...).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, json_body, ok, require, store_of
from ghlsync.emulator.contacts.lookup import child_or_404, children_of, contact_of
from ghlsync.emulator.contacts.model import as_iso
from ghlsync.emulator.state import Entity, LocationState, Store

# --------------------------------------------------------------------------- notes
NOTE_FIELDS = {"userId", "body", "title", "color", "pinned"}


def note_view(note: Entity) -> Entity:
    return {key: value for key, value in note.items() if key != "locationId"}


def _note(request: Request, scope: str) -> tuple[Store, LocationState, Entity, Entity]:
    return child_or_404(request, scope, "notes", "id", "Note")


async def list_notes(request: Request) -> Response:
    _, _, location, contact = contact_of(request, "contacts.readonly")
    notes = [note_view(note) for note in children_of(location, "notes", contact)]
    notes.sort(key=lambda note: note.get("dateAdded") or "", reverse=True)
    return ok({"notes": notes})


async def create_note(request: Request) -> Response:
    store, _, location, contact = contact_of(request, "contacts.write")
    body = await json_body(request, allowed=NOTE_FIELDS, required={"body"})
    with store.lock:
        note = {
            "id": store.new_id(),
            "body": str(body["body"]),
            "userId": body.get("userId"),
            "title": body.get("title"),
            "color": body.get("color"),
            "pinned": bool(body.get("pinned", False)),
            "dateAdded": store.now(),
            "contactId": contact["id"],
            "locationId": location.id,
        }
        note = {key: value for key, value in note.items() if value is not None}
        location.collection("notes").put(note)
        store.emit("NoteCreate", location.id, _note_event(note))
    return ok({"note": note_view(note)}, status=201)


def _note_event(note: Entity) -> Entity:
    return {key: note.get(key) for key in ("id", "body", "contactId", "dateAdded")}


async def get_note(request: Request) -> Response:
    _, _, _, note = _note(request, "contacts.readonly")
    return ok({"note": note_view(note)})


async def update_note(request: Request) -> Response:
    store, location, _, note = _note(request, "contacts.write")
    body = await json_body(request, allowed=NOTE_FIELDS)
    with store.lock:
        updated = {**note, **{key: value for key, value in body.items() if value is not None}}
        updated["dateUpdated"] = store.now()
        location.collection("notes").put(updated)
        store.emit("NoteUpdate", location.id, _note_event(updated))
    return ok({"note": note_view(updated)})


async def delete_note(request: Request) -> Response:
    store, location, _, note = _note(request, "contacts.write")
    with store.lock:
        store.delete(location.id, "notes", note["id"])
        store.emit("NoteDelete", location.id, _note_event(note))
    return ok({"succeded": True})


# --------------------------------------------------------------------------- tasks
TASK_FIELDS = {"title", "body", "dueDate", "completed", "assignedTo"}


def task_view(task: Entity) -> Entity:
    return {key: value for key, value in task.items() if key != "locationId"}


def _task_event(task: Entity) -> Entity:
    """The Task* webhook body (``docs/webhook events/TaskCreate.md``): every field a string,
    ``body`` empty when the task has none, unset ones left out."""
    keys = ("id", "assignedTo", "contactId", "title", "dateAdded", "dueDate")
    event = {key: task[key] for key in keys if task.get(key) is not None}
    event["body"] = task.get("body") or ""
    return event


def _check_task(body: Entity) -> None:
    messages: list[str] = []
    if "completed" in body and not isinstance(body["completed"], bool):
        messages.append("completed must be a boolean value")
    if body.get("dueDate") is not None:
        try:
            as_iso(body["dueDate"])
        except (ValueError, TypeError):
            messages.append("dueDate must be a valid ISO 8601 date string")
    if messages:
        raise ApiError(422, messages)


def _task(request: Request, scope: str) -> tuple[Store, LocationState, Entity, Entity]:
    return child_or_404(request, scope, "tasks", "taskId", "Task")


async def list_tasks(request: Request) -> Response:
    _, _, location, contact = contact_of(request, "contacts.readonly")
    tasks = [task_view(task) for task in children_of(location, "tasks", contact)]
    tasks.sort(key=lambda task: task.get("dueDate") or "")
    return ok({"tasks": tasks})


async def create_task(request: Request) -> Response:
    contact_of(request, "contacts.write")
    body = await json_body(request, allowed=TASK_FIELDS, required={"title", "dueDate"})
    if "completed" not in body:
        raise ApiError(422, ["completed must be a boolean value"])
    _check_task(body)
    store, _, location, contact = contact_of(request, "contacts.write")
    with store.lock:
        now = store.now()
        task = {
            "id": store.new_id(),
            "title": str(body["title"]),
            "body": body.get("body"),
            "assignedTo": body.get("assignedTo"),
            "dueDate": as_iso(body["dueDate"]),
            "completed": body["completed"],
            "contactId": contact["id"],
            "locationId": location.id,
            "dateAdded": now,
            "dateUpdated": now,
        }
        task = {key: value for key, value in task.items() if value is not None}
        location.collection("tasks").put(task)
        store.emit("TaskCreate", location.id, _task_event(task))
        if task["completed"]:
            store.emit("TaskComplete", location.id, _task_event(task))
    return ok({"task": task_view(task)}, status=201)


async def get_task(request: Request) -> Response:
    _, _, _, task = _task(request, "contacts.readonly")
    return ok({"task": task_view(task)})


async def _write_task(request: Request, body: Entity) -> Response:
    _check_task(body)
    store, location, _, task = _task(request, "contacts.write")
    with store.lock:
        updated = dict(task)
        for key, value in body.items():
            if value is None:
                continue
            updated[key] = as_iso(value) if key == "dueDate" else value
        updated["dateUpdated"] = store.now()
        location.collection("tasks").put(updated)
        if updated.get("completed") and not task.get("completed"):
            store.emit("TaskComplete", location.id, _task_event(updated))
    return ok({"task": task_view(updated)})


async def update_task(request: Request) -> Response:
    _task(request, "contacts.write")
    body = await json_body(request, allowed=TASK_FIELDS)
    return await _write_task(request, body)


async def complete_task(request: Request) -> Response:
    _task(request, "contacts.write")
    body = await json_body(request, allowed={"completed"}, required={"completed"})
    return await _write_task(request, body)


async def delete_task(request: Request) -> Response:
    store, location, _, task = _task(request, "contacts.write")
    with store.lock:
        store.delete(location.id, "tasks", task["id"])
        store.emit("TaskDelete", location.id, _task_event(task))
    return ok({"succeded": True})


TASK_SEARCH_FIELDS = {
    "contactId",
    "completed",
    "assignedTo",
    "query",
    "limit",
    "skip",
    "businessId",
}


async def search_location_tasks(request: Request) -> Response:
    """``POST /locations/{locationId}/tasks/search``: tasks of every contact, filtered.

    Ordered by ``dateAdded`` then id, so ``skip``/``limit`` paging is stable. The spec types
    ``tasks`` items as arrays; HighLevel returns task objects (GHL-NOTES), as here.
    """
    location_id = request.path_params["locationId"]
    require(request, scope="locations/tasks.readonly", location_id=location_id)
    body = await json_body(request, allowed=TASK_SEARCH_FIELDS)
    messages: list[str] = []
    for key in ("limit", "skip"):
        value = body.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            messages.append(f"{key} must be a non-negative integer")
    for key in ("contactId", "assignedTo"):
        if key in body and not isinstance(body[key], list):
            messages.append(f"{key} must be an array")
    if "completed" in body and not isinstance(body["completed"], bool):
        messages.append("completed must be a boolean value")
    if messages:
        raise ApiError(422, messages)
    store = store_of(request)
    contact_ids = set(body.get("contactId") or [])
    assigned = set(body.get("assignedTo") or [])
    text = str(body.get("query") or "").strip().lower()
    with store.lock:
        tasks = [
            task
            for task in store.collection(location_id, "tasks")
            if (not contact_ids or task.get("contactId") in contact_ids)
            and (not assigned or task.get("assignedTo") in assigned)
            and ("completed" not in body or bool(task.get("completed")) == body["completed"])
            and (not text or text in str(task.get("title", "")).lower())
        ]
    tasks.sort(key=lambda task: (task.get("dateAdded") or "", task["id"]))
    skip = int(body.get("skip") or 0)
    limit = int(body.get("limit") or 25)
    return ok({"tasks": [task_view(task) for task in tasks[skip : skip + limit]]})


# --------------------------------------------------------------------------- appointments
async def contact_appointments(request: Request) -> Response:
    _, _, location, contact = contact_of(request, "contacts.readonly")
    events = children_of(location, "calendar_events", contact)
    events.sort(key=lambda event: str(event.get("startTime") or ""))
    return ok({"events": events})


routes: list[BaseRoute] = [
    Route("/contacts/{contactId}/notes", list_notes, methods=["GET"]),
    Route("/contacts/{contactId}/notes", create_note, methods=["POST"]),
    Route("/contacts/{contactId}/notes/{id}", get_note, methods=["GET"]),
    Route("/contacts/{contactId}/notes/{id}", update_note, methods=["PUT"]),
    Route("/contacts/{contactId}/notes/{id}", delete_note, methods=["DELETE"]),
    Route("/contacts/{contactId}/tasks", list_tasks, methods=["GET"]),
    Route("/contacts/{contactId}/tasks", create_task, methods=["POST"]),
    Route("/contacts/{contactId}/tasks/{taskId}", get_task, methods=["GET"]),
    Route("/contacts/{contactId}/tasks/{taskId}", update_task, methods=["PUT"]),
    Route("/contacts/{contactId}/tasks/{taskId}", delete_task, methods=["DELETE"]),
    Route("/contacts/{contactId}/tasks/{taskId}/completed", complete_task, methods=["PUT"]),
    Route("/contacts/{contactId}/appointments", contact_appointments, methods=["GET"]),
    Route("/locations/{locationId}/tasks/search", search_location_tasks, methods=["POST"]),
]
