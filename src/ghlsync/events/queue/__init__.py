"""The durable event queue: what the collector writes and the delivery worker reads.

Two backends implement ``EventQueue``: ``SQLiteQueue`` (one file in WAL mode under
``GHLSYNC_HOME``, the default) and ``RedisQueue`` (Redis Streams with a consumer group, for
several worker processes). ``enqueue`` returns only once the events are durable, so the
collector can answer 200 after it; a message whose ``(source, messageId)`` was seen before is
acknowledged again and stored once.

Event states: ``pending`` (waiting for delivery or a retry), ``delivered``, ``dropped``
(accepted and counted, never delivered: page/screen/group/alias, unmapped track events),
``dead`` (in the dead-letter queue after ``max_attempts`` failures or a final refusal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

STATES = ("pending", "delivered", "dropped", "dead")


@dataclass(frozen=True)
class NewEvent:
    """One accepted message, as the collector hands it to the queue."""

    source: str
    location_id: str
    message_id: str
    identity: str
    kind: str
    name: str
    body: dict[str, Any]
    received_at: float
    #: None: to deliver; else why it is counted and dropped
    dropped_reason: str | None = None


@dataclass
class QueuedEvent:
    """An event read back from the queue."""

    seq: int
    source: str
    location_id: str
    message_id: str
    identity: str
    kind: str
    name: str
    body: dict[str, Any]
    received_at: float
    state: str = "pending"
    attempts: int = 0
    next_at: float = 0.0
    last_error: str | None = None
    last_status: int | None = None
    delivered_at: float | None = None
    result: dict[str, Any] = field(default_factory=dict)
    #: backend handle (Redis stream entry id); not shown
    handle: str | None = None

    def summary(self) -> dict[str, Any]:
        """A JSON-ready view for ``events tail``, the debugger and ``dlq list``."""
        return {
            "seq": self.seq,
            "source": self.source,
            "locationId": self.location_id,
            "messageId": self.message_id,
            "identity": self.identity,
            "type": self.kind,
            "event": self.name,
            "state": self.state,
            "attempts": self.attempts,
            "receivedAt": self.received_at,
            "deliveredAt": self.delivered_at,
            "lastStatus": self.last_status,
            "lastError": self.last_error,
            "call": self.body,
            "result": self.result,
        }


@dataclass
class Group:
    """The pending events of one identity in one location, oldest first: one delivery."""

    location_id: str
    identity: str
    events: list[QueuedEvent]

    @property
    def key(self) -> tuple[str, str]:
        return (self.location_id, self.identity)


class EventQueue(Protocol):
    """What the collector, the worker and the CLI need from a queue backend."""

    async def enqueue(self, events: list[NewEvent]) -> int:
        """Store ``events`` durably; return how many were new (the rest were duplicates)."""
        ...

    async def claim(
        self, now: float, busy: set[tuple[str, str]], groups: int, per_group: int
    ) -> list[Group]:
        """Up to ``groups`` identities with due events, not in ``busy``, oldest first."""
        ...

    async def complete(
        self,
        group: Group,
        result: dict[str, Any],
        status: int | None,
        profile: dict[str, Any] | None = None,
    ) -> None:
        """Mark ``group``'s events delivered and, in the same write, ``remember`` ``profile``
        for the identity when given (one round trip per delivery, not two)."""
        ...

    async def fail(
        self,
        group: Group,
        error: str,
        status: int | None,
        retry_at: float | None,
        max_attempts: int,
        result: dict[str, Any] | None = None,
    ) -> list[QueuedEvent]:
        """Count a failed attempt; dead-letter events past ``max_attempts`` or when
        ``retry_at`` is None. Return the events dead-lettered now."""
        ...

    async def profile(self, location_id: str, identity: str) -> dict[str, Any]: ...

    async def remember(self, location_id: str, identity: str, profile: dict[str, Any]) -> None: ...

    async def depth(self) -> dict[str, tuple[int, float | None]]:
        """Per location: (pending events, received_at of the oldest pending or None)."""
        ...

    async def recent(
        self,
        limit: int = 100,
        *,
        after_seq: int = 0,
        location_id: str | None = None,
        source: str | None = None,
        state: str | None = None,
    ) -> list[QueuedEvent]:
        """Newest first (``after_seq``: only events with a larger seq)."""
        ...

    async def replay(self, seqs: list[int] | None) -> int:
        """Move dead events (all, or these) back to pending with attempts reset; return count."""
        ...

    async def close(self) -> None: ...
