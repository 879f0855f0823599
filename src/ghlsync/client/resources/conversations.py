"""Conversations (search) and their messages (list, send). Wire shapes: ``apps/conversations.json``
(Version ``2021-04-15``).

Paging: conversations by ``startAfterDate`` (the sort value of the last conversation);
messages by ``lastMessageId`` while ``nextPage`` is true. HighLevel nests the messages page as
``{"messages": {"messages": [...], "nextPage", "lastMessageId"}}`` where the spec shows it flat;
both are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypedDict, cast

from ghlsync.client.pagination import (
    CursorPaginator,
    PageStream,
    Record,
    dig,
)
from ghlsync.client.resources._base import Resource, records_from, segment, to_wire
from ghlsync.client.resources.wire import INFERRED, DateTime, EpochMs
from ghlsync.client.timestamps import epoch_ms

PAGE = 100
MessageType = Literal[
    "SMS", "RCS", "Email", "WhatsApp", "IG", "FB", "Custom", "Live_Chat", "TIKTOK"
]


class Conversation(TypedDict, total=False):
    id: str
    contactId: str
    type: str
    lastMessageBody: str
    lastMessageType: str
    lastMessageDate: EpochMs
    unreadCount: int
    fullName: str
    contactName: str
    email: str
    phone: str
    dateAdded: EpochMs
    dateUpdated: EpochMs
    locationId: Annotated[str, INFERRED]
    sort: Annotated[list[Any], INFERRED]


class Message(TypedDict, total=False):
    id: str
    conversationId: str
    contactId: str
    #: HighLevel's numeric message type (``messageType`` spells it)
    type: int
    messageType: str
    direction: str
    status: str
    body: str
    contentType: str
    source: str
    userId: str
    attachments: list[str]
    dateAdded: DateTime
    locationId: Annotated[str, INFERRED]


class SentMessage(TypedDict, total=False):
    conversationId: str
    messageId: str
    emailMessageId: str
    messageIds: list[str]
    msg: str


def _conversation_cursor(response: Any, records: list[Record]) -> Mapping[str, Any] | None:
    """``startAfterDate`` = the last conversation's sort value (``sort[0]``, else
    ``lastMessageDate``, the default ``sortBy``)."""
    if not records:
        return None
    last = records[-1]
    sort = last.get("sort")
    value = sort[0] if isinstance(sort, list) and sort else last.get("lastMessageDate")
    return {"startAfterDate": value} if value is not None else None


def _messages_of(response: Any) -> Any:
    nested = dig(response, "messages")
    return nested if isinstance(nested, Mapping) else response


def _message_cursor(response: Any, records: list[Record]) -> Mapping[str, Any] | None:
    page = _messages_of(response)
    if page.get("nextPage") is False:
        return None
    last_id = page.get("lastMessageId") or (records[-1].get("id") if records else None)
    return {"lastMessageId": last_id} if last_id else None


class _MessagesPaginator(CursorPaginator):
    """Reads the records from the nested or the flat page shape."""

    def records_of(self, response: Any) -> list[Record]:
        nested = isinstance(dig(response, "messages"), Mapping)
        self.records_path = "messages.messages" if nested else "messages"
        return super().records_of(response)


class ConversationsResource(Resource):
    """``client.conversations``."""

    def pages(
        self,
        /,
        location_id: str,
        *,
        since: dt.datetime | int | None = None,
        contact_id: str | None = None,
        sort: Literal["asc", "desc"] = "asc",
        sort_by: str = "last_message_date",
        page_size: int = PAGE,
        **filters: Any,
    ) -> PageStream:
        """Every conversation of ``GET /conversations/search``, oldest last message first.

        ``since``: only conversations whose last message is after it (``startAfterDate``,
        ms epoch) -- the incremental read for conversations.
        """
        params = to_wire(
            {
                "location_id": location_id,
                "contact_id": contact_id,
                "sort": sort,
                "sort_by": sort_by,
                "limit": page_size,
                "start_after_date": epoch_ms(since) if since is not None else None,
                **filters,
            }
        )
        paginator = CursorPaginator(
            self._get("/conversations/search", params, location_id=location_id),
            records="conversations",
            cursor=_conversation_cursor,
            page_size=page_size,
            total=("total",),
        )
        return self._stream(paginator)

    iterate = records_from(pages)

    def message_pages(
        self,
        conversation_id: str,
        *,
        location_id: str | None = None,
        types: Sequence[str] | None = None,
        page_size: int = PAGE,
    ) -> PageStream:
        """Every message of a conversation (``GET /conversations/{id}/messages``)."""
        params = to_wire({"limit": page_size, "type": ",".join(types) if types else None})
        paginator = _MessagesPaginator(
            self._get(
                f"/conversations/{segment(conversation_id)}/messages",
                params,
                location_id=location_id,
            ),
            records="messages",
            cursor=_message_cursor,
            total=(),
        )
        return self._stream(paginator)

    iterate_messages = records_from(message_pages)

    async def send_message(
        self,
        contact_id: str,
        *,
        type: MessageType,
        message: str | None = None,
        location_id: str | None = None,
        subject: str | None = None,
        html: str | None = None,
        email_to: str | None = None,
        status: str | None = None,
        **fields: Any,
    ) -> SentMessage:
        """``POST /conversations/messages``. NOT safe to resend: a retry could message the
        contact twice, so an unknown outcome raises ``OutcomeUnknownError``."""
        body = to_wire(
            {
                "type": type,
                "contact_id": contact_id,
                "message": message,
                "subject": subject,
                "html": html,
                "email_to": email_to,
                "status": status,
                **fields,
            }
        )
        response = await self._call(
            "POST", "/conversations/messages", json=body, location_id=location_id
        )
        return cast(SentMessage, response)
