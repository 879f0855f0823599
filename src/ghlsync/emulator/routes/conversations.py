"""Conversations and messages (``apps/conversations.json``; ``Version: 2021-04-15``).

``GET /conversations/search`` pages by ``startAfterDate`` (the ``lastMessageDate`` of the last
conversation seen, epoch ms) and ``limit``; ``sort``/``sortBy`` order it. Conversations carry
``dateAdded``/``dateUpdated``/``lastMessageDate`` as epoch-ms numbers, as HighLevel answers them
(the spec's ``ConversationSchema`` omits them; they are what incremental readers need).
Messages carry ``dateAdded`` (ISO, ``GetMessageResponseDto``). Sending emits ``OutboundMessage``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import (
    V2021_04_15,
    ApiError,
    int_param,
    json_body,
    ok,
    require,
    store_of,
)
from ghlsync.emulator.routes._listing import location_query, parse_time_ms
from ghlsync.emulator.state import Entity, Store, iso_from_ms, ms_from_iso

READ = "conversations.readonly"
MESSAGE_READ = ("conversations/message.readonly", "conversations.readonly")
MESSAGE_WRITE = ("conversations/message.write", "conversations.write")
WRITE = "conversations.write"
#: send ``type`` -> (message type, numeric type, conversation type)
SEND_TYPES = {
    "SMS": ("TYPE_SMS", 2, "TYPE_PHONE"),
    "Email": ("TYPE_EMAIL", 3, "TYPE_EMAIL"),
    "WhatsApp": ("TYPE_WHATSAPP", 19, "TYPE_PHONE"),
    "FB": ("TYPE_FACEBOOK", 4, "TYPE_FB_MESSENGER"),
    "IG": ("TYPE_INSTAGRAM", 18, "TYPE_FB_MESSENGER"),
    "Custom": ("TYPE_CUSTOM_SMS", 20, "TYPE_PHONE"),
    "Live_Chat": ("TYPE_LIVE_CHAT", 29, "TYPE_PHONE"),
    "RCS": ("TYPE_RCS", 2, "TYPE_PHONE"),
    "TIKTOK": ("TYPE_TIKTOK", 37, "TYPE_PHONE"),
}
SEND_FIELDS = {
    "type",
    "subType",
    "contactId",
    "appointmentId",
    "attachments",
    "emailFrom",
    "emailCc",
    "emailBcc",
    "html",
    "message",
    "subject",
    "replyMessageId",
    "templateId",
    "threadId",
    "scheduledTimestamp",
    "conversationProviderId",
    "emailTo",
    "customSubtypeId",
    "emailReplyMode",
    "fromNumber",
    "toNumber",
    "status",
}


def _require(request: Request, scope: str | tuple[str, ...], location_id: str | None = None) -> Any:
    return require(request, scope=scope, location_id=location_id, versions=V2021_04_15)


def conversation_view(conversation: Entity) -> dict[str, Any]:
    return {key: value for key, value in conversation.items() if not key.startswith("_")}


def _sort_key(sort_by: str) -> str:
    return "lastManualMessageDate" if sort_by == "last_manual_message_date" else "lastMessageDate"


async def search(request: Request) -> Response:
    q = request.query_params
    location_id = location_query(request, READ, versions=V2021_04_15)
    store = store_of(request)
    limit = int_param(request, "limit", 20, minimum=1, maximum=100)
    sort = q.get("sort") or "desc"
    if sort not in ("asc", "desc"):
        raise ApiError(422, ["sort must be one of the following values: asc, desc"])
    sort_by = q.get("sortBy") or "last_message_date"
    if sort_by not in ("last_message_date", "last_manual_message_date"):
        raise ApiError(422, ["sortBy must be one of: last_message_date, last_manual_message_date"])
    key = _sort_key(sort_by)
    filters = {
        "contactId": q.get("contactId"),
        "id": q.get("id"),
        "lastMessageType": q.get("lastMessageType"),
        "lastMessageDirection": q.get("lastMessageDirection"),
    }
    filters = {name: value for name, value in filters.items() if value}
    assigned = {item for item in (q.get("assignedTo") or "").split(",") if item}
    text = (q.get("query") or "").strip().lower()
    status = q.get("status") or "all"
    start_ms = int(q["startDate"]) if (q.get("startDate") or "").isdigit() else None
    end_ms = int(q["endDate"]) if (q.get("endDate") or "").isdigit() else None
    matched = []
    for conversation in store.collection(location_id, "conversations"):
        if any(conversation.get(name) != value for name, value in filters.items()):
            continue
        if assigned and conversation.get("assignedTo") not in assigned:
            continue
        if status == "unread" and not conversation.get("unreadCount"):
            continue
        if status == "read" and conversation.get("unreadCount"):
            continue
        if status == "starred" and not conversation.get("starred"):
            continue
        if text and text not in (
            " ".join(
                str(conversation.get(key) or "")
                for key in ("fullName", "email", "phone", "lastMessageBody")
            ).lower()
        ):
            continue
        stamp = conversation.get(key) or 0
        if (start_ms is not None and stamp < start_ms) or (end_ms is not None and stamp > end_ms):
            continue
        matched.append(conversation)
    descending = sort == "desc"
    matched.sort(key=lambda item: (item.get(key) or 0, item["id"]), reverse=descending)
    total = len(matched)
    after = q.get("startAfterDate")
    if after:
        cursor = parse_time_ms(after, "startAfterDate")
        matched = [
            item
            for item in matched
            if ((item.get(key) or 0) < cursor if descending else (item.get(key) or 0) > cursor)
        ]
    page = matched[:limit]
    return ok({"conversations": [conversation_view(item) for item in page], "total": total})


def _conversation(request: Request, scope: str | tuple[str, ...]) -> tuple[Store, str, Entity]:
    token = _require(request, scope)
    store = store_of(request)
    found = store.find("conversations", request.path_params["conversationId"])
    if found is None or found[0] != token.location_id:
        raise ApiError(400, "Conversation not found", error="Bad Request")
    return store, found[0], found[1]


async def get_conversation(request: Request) -> Response:
    _, _, conversation = _conversation(request, READ)
    return ok(
        {
            "id": conversation["id"],
            "contactId": conversation["contactId"],
            "locationId": conversation["locationId"],
            "deleted": False,
            "inbox": True,
            "type": conversation.get("_typeNumber", 1),
            "unreadCount": conversation.get("unreadCount", 0),
            "assignedTo": conversation.get("assignedTo") or "",
            "starred": bool(conversation.get("starred")),
        }
    )


async def list_messages(request: Request) -> Response:
    """Newest first; ``lastMessageId`` continues after that message; ``nextPage`` tells if
    more remain."""
    store, location_id, conversation = _conversation(request, MESSAGE_READ)
    limit = int_param(request, "limit", 20, minimum=1, maximum=100)
    types = {item for item in (request.query_params.get("type") or "").split(",") if item}
    messages = [
        message
        for message in store.collection(location_id, "messages")
        if message["conversationId"] == conversation["id"]
        and (not types or message["messageType"] in types)
    ]
    messages.sort(key=lambda message: (message["dateAdded"], message["id"]), reverse=True)
    last_id = request.query_params.get("lastMessageId")
    if last_id:
        position = next((i for i, m in enumerate(messages) if m["id"] == last_id), None)
        if position is None:
            raise ApiError(400, "lastMessageId is not a message of this conversation")
        messages = messages[position + 1 :]
    page = messages[:limit]
    return ok(
        {
            "lastMessageId": page[-1]["id"] if page else "",
            "nextPage": len(messages) > limit,
            "messages": page,
        }
    )


async def get_message(request: Request) -> Response:
    token = _require(request, MESSAGE_READ)
    found = store_of(request).find("messages", request.path_params["id"])
    if found is None or found[0] != token.location_id:
        raise ApiError(400, "Message not found", error="Bad Request")
    return ok(found[1])


async def send_message(request: Request) -> Response:
    _require(request, MESSAGE_WRITE)
    body = await json_body(request, allowed=SEND_FIELDS, required={"type", "contactId"})
    store = store_of(request)
    kind = body["type"]
    if kind not in SEND_TYPES:
        raise ApiError(422, [f"type must be one of the following values: {', '.join(SEND_TYPES)}"])
    found = store.find("contacts", str(body["contactId"]))
    token = request.state.token
    if found is None or found[0] != token.location_id:
        raise ApiError(400, "Contact not found", error="Bad Request")
    location_id, contact = found
    if kind in ("SMS", "WhatsApp") and not contact.get("phone"):
        raise ApiError(400, "Contact has no phone number", error="Bad Request")
    if kind == "Email" and not contact.get("email"):
        raise ApiError(400, "Contact has no email address", error="Bad Request")
    text = str(body.get("message") or body.get("html") or "")
    message_type, type_number, conversation_type = SEND_TYPES[kind]
    conversation = _conversation_for(store, location_id, contact, conversation_type)
    message = add_message(
        store,
        location_id,
        conversation,
        text=text,
        message_type=message_type,
        type_number=type_number,
        direction="outbound",
        now=store.now(),
        source="api",
    )
    store.emit(
        "OutboundMessage",
        location_id,
        {
            "attachments": list(body.get("attachments") or []),
            "body": text,
            "contactId": contact["id"],
            "contentType": "text/plain",
            "conversationId": conversation["id"],
            "dateAdded": message["dateAdded"],
            "direction": "outbound",
            "messageType": kind.upper(),
            "messageId": message["id"],
            "source": "api",
            "status": "delivered",
        },
    )
    response: dict[str, Any] = {
        "conversationId": conversation["id"],
        "messageId": message["id"],
        "msg": "Message queued successfully.",
        "status": "delivered",
    }
    if kind == "Email":
        response["emailMessageId"] = message["id"]
    return ok(response)


def _dto(conversation: Entity) -> dict[str, Any]:
    """``ConversationDto`` / ``ConversationCreateResponseDto``: these type the dates as strings
    (ISO), unlike the search results' epoch-ms numbers."""
    return {
        "id": conversation["id"],
        "locationId": conversation["locationId"],
        "contactId": conversation["contactId"],
        "assignedTo": conversation.get("assignedTo") or "",
        "lastMessageBody": conversation["lastMessageBody"],
        "lastMessageType": conversation["lastMessageType"],
        "unreadCount": conversation["unreadCount"],
        "inbox": True,
        "starred": bool(conversation.get("starred")),
        "deleted": False,
        "dateAdded": iso_from_ms(conversation["dateAdded"]),
        "dateUpdated": iso_from_ms(conversation["dateUpdated"]),
        "lastMessageDate": iso_from_ms(conversation["lastMessageDate"]),
    }


async def create_conversation(request: Request) -> Response:
    _require(request, WRITE)
    body = await json_body(
        request, allowed={"locationId", "contactId"}, required={"locationId", "contactId"}
    )
    location_id = str(body["locationId"])
    _require(request, WRITE, location_id)
    store = store_of(request)
    contact = store.get(location_id, "contacts", str(body["contactId"]))
    if contact is None:
        raise ApiError(400, "Contact not found", error="Bad Request")
    for existing in store.collection(location_id, "conversations"):
        if existing["contactId"] == contact["id"]:
            # HighLevel keeps one conversation per contact (message wording unconfirmed)
            raise ApiError(
                400, "Conversation already exists", extra={"conversationId": existing["id"]}
            )
    conversation = _conversation_for(store, location_id, contact, "TYPE_PHONE")
    return ok({"success": True, "conversation": _dto(conversation)}, status=201)


async def update_conversation(request: Request) -> Response:
    store, location_id, before = _conversation(request, WRITE)
    body = await json_body(
        request,
        allowed={"locationId", "unreadCount", "starred", "feedback"},
        required={"locationId"},
    )
    if body["locationId"] != location_id:
        raise ApiError(403, "The token does not have access to this location.")
    after = dict(before)
    if "unreadCount" in body:
        if not isinstance(body["unreadCount"], int) or body["unreadCount"] < 0:
            raise ApiError(422, ["unreadCount must be a non-negative number"])
        after["unreadCount"] = body["unreadCount"]
    if "starred" in body:
        after["starred"] = bool(body["starred"])
    after["dateUpdated"] = ms_from_iso(store.now())
    store.put(location_id, "conversations", after)
    return ok({"success": True, "conversation": _dto(after)})


async def delete_conversation(request: Request) -> Response:
    store, location_id, conversation = _conversation(request, WRITE)
    store.delete(location_id, "conversations", conversation["id"])
    return ok({"success": True})


async def inbound_message(request: Request) -> Response:
    """``POST /conversations/messages/inbound`` (a custom provider's inbound message): adds it
    and emits ``InboundMessage``."""
    _require(request, MESSAGE_WRITE)
    body = await json_body(
        request,
        allowed={
            "type",
            "attachments",
            "message",
            "conversationId",
            "contactId",
            "conversationProviderId",
            "html",
            "subject",
            "emailFrom",
            "emailTo",
            "emailCc",
            "emailBcc",
            "emailMessageId",
            "altId",
            "direction",
            "date",
            "call",
        },
        required={"type", "conversationId", "contactId", "conversationProviderId"},
    )
    store = store_of(request)
    kind = body["type"]
    if kind not in SEND_TYPES:
        raise ApiError(422, [f"type must be one of the following values: {', '.join(SEND_TYPES)}"])
    token = request.state.token
    found = store.find("conversations", str(body["conversationId"]))
    if found is None or found[0] != token.location_id:
        raise ApiError(400, "Conversation not found", error="Bad Request")
    location_id, conversation = found
    if conversation["contactId"] != body["contactId"]:
        raise ApiError(400, "contactId does not match the conversation", error="Bad Request")
    message_type, type_number, _ = SEND_TYPES[kind]
    text = str(body.get("message") or body.get("html") or "")
    message = add_message(
        store,
        location_id,
        conversation,
        text=text,
        message_type=message_type,
        type_number=type_number,
        direction="inbound",
        now=store.now(),
        source="api",
    )
    store.emit(
        "InboundMessage",
        location_id,
        {
            "attachments": list(body.get("attachments") or []),
            "body": text,
            "contactId": conversation["contactId"],
            "contentType": "text/plain",
            "conversationId": conversation["id"],
            "dateAdded": message["dateAdded"],
            "direction": "inbound",
            "messageType": kind.upper(),
            "messageId": message["id"],
            "conversationProviderId": body["conversationProviderId"],
            "status": "delivered",
        },
    )
    return ok(
        {
            "success": True,
            "conversationId": conversation["id"],
            "messageId": message["id"],
            "message": "Message added successfully",
            "contactId": conversation["contactId"],
            "dateAdded": message["dateAdded"],
        }
    )


def _conversation_for(
    store: Store, location_id: str, contact: Entity, conversation_type: str
) -> Entity:
    for conversation in store.collection(location_id, "conversations"):
        if conversation["contactId"] == contact["id"]:
            return conversation
    now_ms = ms_from_iso(store.now())
    conversation = new_conversation(store, location_id, contact, conversation_type, now_ms)
    store.put(location_id, "conversations", conversation)
    return conversation


def new_conversation(
    store: Store, location_id: str, contact: Entity, conversation_type: str, at_ms: int
) -> Entity:
    name = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
    return {
        "id": store.new_id(),
        "contactId": contact["id"],
        "locationId": location_id,
        "lastMessageBody": "",
        "lastMessageType": "TYPE_SMS",
        "lastMessageDirection": "outbound",
        "type": conversation_type,
        "unreadCount": 0,
        "fullName": name,
        "contactName": name,
        "email": contact.get("email") or "",
        "phone": contact.get("phone") or "",
        "assignedTo": "",
        "starred": False,
        "dateAdded": at_ms,
        "dateUpdated": at_ms,
        "lastMessageDate": at_ms,
        "_typeNumber": 1 if conversation_type == "TYPE_PHONE" else 2,
    }


def add_message(
    store: Store,
    location_id: str,
    conversation: Entity,
    *,
    text: str,
    message_type: str,
    type_number: int,
    direction: str,
    now: str,
    source: str,
    message_id: str | None = None,
) -> Entity:
    message: Entity = {
        "id": message_id or store.new_id(),
        "type": type_number,
        "messageType": message_type,
        "locationId": location_id,
        "contactId": conversation["contactId"],
        "conversationId": conversation["id"],
        "dateAdded": now,
        "body": text,
        "direction": direction,
        "status": "delivered",
        "contentType": "text/plain",
        "attachments": [],
        "source": source,
    }
    store.put(location_id, "messages", message)
    at_ms = ms_from_iso(now)
    updated = {
        **conversation,
        "lastMessageBody": text,
        "lastMessageType": message_type,
        "lastMessageDirection": direction,
        "lastMessageDate": at_ms,
        "dateUpdated": at_ms,
        "unreadCount": conversation["unreadCount"] + (1 if direction == "inbound" else 0),
    }
    if direction == "outbound" and source != "workflow":
        updated["lastManualMessageDate"] = at_ms
    store.put(location_id, "conversations", updated)
    conversation.update(updated)
    return message


routes: list[BaseRoute] = [
    Route("/conversations/search", search, methods=["GET"]),
    Route("/conversations/", create_conversation, methods=["POST"]),
    Route("/conversations/messages", send_message, methods=["POST"]),
    Route("/conversations/messages/inbound", inbound_message, methods=["POST"]),
    Route("/conversations/messages/{id}", get_message, methods=["GET"]),
    Route("/conversations/{conversationId}/messages", list_messages, methods=["GET"]),
    Route("/conversations/{conversationId}", get_conversation, methods=["GET"]),
    Route("/conversations/{conversationId}", update_conversation, methods=["PUT"]),
    Route("/conversations/{conversationId}", delete_conversation, methods=["DELETE"]),
]
