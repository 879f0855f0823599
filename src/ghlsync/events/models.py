"""The collector's wire models: Segment's HTTP tracking API messages.

They are pydantic models so that validation reports a reason (400) and the collector's OpenAPI
document comes from them (``ghlsync.events.openapi``). Extra keys are allowed, as Segment allows
them; the fields the collector reads are typed. camelCase is the wire's spelling (Segment's), kept
in aliases.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

_ID = Annotated[str | int, Field(description="a string (numbers are accepted and stringified)")]


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    user_id: _ID | None = Field(default=None, alias="userId")
    anonymous_id: _ID | None = Field(default=None, alias="anonymousId")
    message_id: str | None = Field(default=None, alias="messageId", max_length=200)
    timestamp: str | None = None
    sent_at: str | None = Field(default=None, alias="sentAt")
    context: dict[str, Any] = Field(default_factory=dict)
    integrations: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _identity(self) -> _Message:
        if self.user_id in (None, "") and self.anonymous_id in (None, ""):
            raise ValueError("userId or anonymousId is required")
        return self

    @property
    def identity(self) -> str:
        """``userId`` when present, else ``anonymousId``: the key events are ordered by."""
        chosen = self.user_id if self.user_id not in (None, "") else self.anonymous_id
        return str(chosen)


class Identify(_Message):
    type: Literal["identify"] = "identify"
    traits: dict[str, Any] = Field(default_factory=dict)


class Track(_Message):
    type: Literal["track"] = "track"
    event: str = Field(min_length=1, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)


class Page(_Message):
    type: Literal["page"] = "page"
    name: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class Screen(_Message):
    type: Literal["screen"] = "screen"
    name: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class Group(_Message):
    type: Literal["group"] = "group"
    group_id: _ID = Field(alias="groupId")
    traits: dict[str, Any] = Field(default_factory=dict)


class Alias(_Message):
    type: Literal["alias"] = "alias"
    previous_id: _ID = Field(alias="previousId")


Message = Annotated[Identify | Track | Page | Screen | Group | Alias, Field(discriminator="type")]


class Batch(BaseModel):
    """``POST /v1/batch``: up to 500 KB of messages, each with its ``type``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    batch: list[Message] = Field(min_length=1, max_length=2500)
    context: dict[str, Any] = Field(default_factory=dict)
    integrations: dict[str, Any] = Field(default_factory=dict)
    sent_at: str | None = Field(
        default=None, validation_alias=AliasChoices("sentAt", "sent_at"), alias="sentAt"
    )


class Accepted(BaseModel):
    """The collector's answer: Segment answers ``{"success": true}``."""

    success: bool = True
    accepted: int = Field(description="messages durably enqueued (duplicates included)")


class Problem(BaseModel):
    """An error answer: one line saying what is wrong, and a hint."""

    error: str
    hint: str | None = None


#: one model per single-message route, validated from the request's bytes
SINGLE: dict[str, type[_Message]] = {
    "identify": Identify,
    "track": Track,
    "page": Page,
    "screen": Screen,
    "group": Group,
    "alias": Alias,
}
BATCH = TypeAdapter(Batch)
ADAPTERS = {kind: TypeAdapter(model) for kind, model in SINGLE.items()}
