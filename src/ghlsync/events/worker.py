"""The delivery worker: queued events -> one upsert per identity burst -> tags added.

It claims the due events of identities not already in flight (per-identity order: one delivery
per identity at a time, oldest first), folds each identity's burst into one ``ContactPlan``
(``rules.plan_contact``), and sends it through ``AsyncGHLClient``: the client's limiter keeps
each location inside its budget and the client retries 429/5xx once more itself. A failed
delivery waits ``backoff_s(attempts)`` and is retried; after ``max_attempts`` failures, or at
once for a refusal no retry can fix (400/422/404), its events go to the dead-letter queue.

Upserts and tag additions are idempotent (GHL-NOTES §4), so an event delivered again after a
crash between the send and the mark changes nothing in HighLevel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ghlsync.client.core import AsyncGHLClient
from ghlsync.errors import (
    APIError,
    AuthError,
    ForbiddenError,
    GHLSyncError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from ghlsync.events.config import EventsConfig
from ghlsync.events.metrics import Metrics
from ghlsync.events.queue import EventQueue, Group
from ghlsync.events.rules import plan_contact
from ghlsync.mapping import ContactMapping, compile_mapping, field_defs

log = logging.getLogger("ghlsync.events.worker")

#: delivered and dropped events are kept this long (messageId dedupe, the debugger), then pruned
RETENTION_S = 7 * 86400
PRUNE_EVERY_S = 600.0
#: the longest wait between two claims while the queue is unreachable
CLAIM_RETRY_MAX_S = 5.0


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with jitter between delivery attempts (pure)."""

    base_s: float = 1.0
    cap_s: float = 300.0
    jitter: float = 0.2

    def delay_s(self, attempts: int, rng: Callable[[], float] = random.random) -> float:
        raw = min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1))
        return float(raw * (1 - self.jitter + 2 * self.jitter * rng()))


def is_final(error: GHLSyncError) -> bool:
    """A refusal that resending cannot fix: straight to the dead-letter queue."""
    if isinstance(error, RateLimitError | ServerError | AuthError | ForbiddenError):
        return False  # wait, or fix the token and the retries succeed
    return isinstance(error, InvalidRequestError | NotFoundError) or (
        isinstance(error, APIError) and 400 <= error.status < 500
    )


class DeliveryWorker:
    """Deliver from ``queue`` with ``client`` until ``stop`` is set, then drain what is in flight."""

    def __init__(
        self,
        queue: EventQueue,
        client: AsyncGHLClient,
        config: EventsConfig,
        metrics: Metrics,
        *,
        concurrency: int = 16,
        per_group: int = 100,
        backoff: Backoff | None = None,
        poll_s: float = 0.02,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.queue = queue
        self.client = client
        self.config = config
        self.metrics = metrics
        self.concurrency = concurrency
        self.per_group = per_group
        self.backoff = backoff or Backoff()
        self.poll_s = poll_s
        self.now = now
        self.busy: set[tuple[str, str]] = set()
        self.wake = asyncio.Event()
        self._compiled: dict[str, ContactMapping] = {}
        #: claims failed in a row (the queue unreachable): each waits longer, one line says so
        self._claim_failures = 0
        #: a shared queue's lease renewal (Redis), called while no claim would renew them
        self._renew: Callable[[float, set[tuple[str, str]]], Awaitable[None]] | None = getattr(
            queue, "renew", None
        )

    async def contact_mapping(self, location_id: str) -> ContactMapping:
        """The shared contact mapping compiled for ``location_id`` (its custom fields fetched
        once, only when the spec names custom fields)."""
        compiled = self._compiled.get(location_id)
        if compiled is None:
            spec = self.config.mapping.contact
            definitions = []
            if spec.custom_fields or any("." in k for k in spec.defaults):
                raw = await self.client.custom_fields.list(location_id)
                definitions = list(field_defs(raw).values())
            compiled = compile_mapping(spec, definitions, None, source="mapping.contact")
            self._compiled[location_id] = compiled
        return compiled

    async def run(self, stop: asyncio.Event) -> None:
        tasks: set[asyncio.Task[None]] = set()
        pruned_at = 0.0
        while not stop.is_set():
            if self.now() - pruned_at > PRUNE_EVERY_S:
                pruned_at = self.now()
                await self._prune()
            free = self.concurrency - len(tasks)
            groups = []
            if free <= 0 and self._renew is not None:
                try:
                    await self._renew(self.now(), set(self.busy))
                except Exception:
                    log.exception("renewing the queue's leases failed; retrying")
            if free > 0:
                try:
                    groups = await self.queue.claim(
                        self.now(), set(self.busy), free, self.per_group
                    )
                except Exception as error:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self._queue_down(error))
                    continue
                if self._claim_failures:
                    log.warning("the queue answers again; delivering")
                    self._claim_failures = 0
            for group in groups:
                self.busy.add(group.key)
                task = asyncio.create_task(self._deliver_guarded(group))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if not groups or free <= 0:
                self.wake.clear()
                waiters = [
                    asyncio.ensure_future(self.wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                await asyncio.wait(
                    [*waiters, *tasks], timeout=self.poll_s, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in waiters:
                    waiter.cancel()
        if tasks:  # graceful drain: finish what was sent, claim nothing new
            await asyncio.gather(*tasks, return_exceptions=True)

    def _queue_down(self, error: Exception) -> float:
        """A claim failed: say so once (not once per retry), and how long to wait before the
        next, doubling from 0.1 s to ``CLAIM_RETRY_MAX_S``."""
        self._claim_failures += 1
        if self._claim_failures == 1:
            reason = (str(error).splitlines() or [""])[0][:200]
            log.warning(
                "the queue is unreachable (%s: %s); retrying, every %.0f s at most",
                type(error).__name__,
                reason,
                CLAIM_RETRY_MAX_S,
            )
        return float(min(CLAIM_RETRY_MAX_S, 0.1 * 2 ** (self._claim_failures - 1)))

    async def _prune(self) -> None:
        """Forget delivered/dropped events past ``RETENTION_S`` (the dedupe window)."""
        prune = getattr(self.queue, "prune", None)
        if prune is None:
            return
        try:
            removed = await prune(self.now() - RETENTION_S)
        except Exception:
            log.exception("pruning old events failed")
            return
        if removed:
            log.info("forgot %d delivered/dropped event(s) older than 7 days", removed)

    async def _deliver_guarded(self, group: Group) -> None:
        try:
            await self.deliver(group)
        except Exception:
            log.exception("delivery crashed for location %s", group.location_id)
            await self.queue.fail(
                group,
                "internal error",
                None,
                self.now() + self.backoff.delay_s(1),
                self.config.max_attempts,
            )
        finally:
            self.busy.discard(group.key)

    async def deliver(self, group: Group) -> None:
        """Send one identity's burst as one upsert (+ tags); record the outcome in the queue."""
        location = group.location_id
        profile = await self.queue.profile(location, group.identity)
        try:
            contact = await self.contact_mapping(location)
        except GHLSyncError as error:
            await self._failed(group, error, {"coalesced": len(group.events)})
            return
        plan = plan_contact(
            location, [e.body for e in group.events], self.config.mapping, contact, profile
        )
        result: dict[str, Any] = {
            "mapping": plan.request(),
            "tags": plan.tags,
            "coalesced": len(group.events),
        }
        if not plan.is_deliverable:
            for problem in plan.problems:
                self.metrics.rejected_values.labels(location, problem.field).inc()
            result["message"] = f"rejected by the mapping: {plan.reasons()}"
            result["rejected"] = [p.reason for p in plan.problems]
            dead = await self.queue.fail(group, result["message"], None, None, 0, result)
            self.metrics.dead.labels(location).inc(len(dead))
            log.warning(
                "dead-lettered %d event(s) for location %s: %s",
                len(dead),
                location,
                ";".join(p.reason for p in plan.problems),
            )
            return
        try:
            answer = await self.client.contacts.upsert(location, **plan.fields)
            upserted = answer.get("contact") or {}
            contact_id = str(upserted.get("id", ""))
            result.update(request="POST /contacts/upsert", status=200, contactId=contact_id)
            if plan.tags and contact_id:
                await self.client.contacts.add_tags(contact_id, plan.tags, location_id=location)
                result["tagsRequest"] = f"POST /contacts/{contact_id}/tags"
        except GHLSyncError as error:
            await self._failed(group, error, result)
            return
        await self.queue.complete(group, result, 200, profile=plan.traits)
        self.metrics.delivered.labels(location).inc(len(group.events))
        self.metrics.upserts.labels(location).inc()

    async def _failed(self, group: Group, error: GHLSyncError, result: dict[str, Any]) -> None:
        location = group.location_id
        status = error.status if isinstance(error, APIError) else None
        message = str(error).splitlines()[0][:500]
        result.update(status=status, message=message)
        attempts = max(e.attempts for e in group.events) + 1
        retry_at = None if is_final(error) else self.now() + self.backoff.delay_s(attempts)
        dead = await self.queue.fail(
            group, message, status, retry_at, self.config.max_attempts, result
        )
        if dead:
            self.metrics.dead.labels(location).inc(len(dead))
        if len(dead) < len(group.events):
            self.metrics.retried.labels(location).inc(len(group.events) - len(dead))
        log.warning(
            "delivery failed for location %s (%s, attempt %d): %s",
            location,
            type(error).__name__,
            attempts,
            message,
        )
