"""Apply a batch plan to one location, following HighLevel's write rules (GHL-NOTES §4).

- Fields: a new row is upserted when the location refuses duplicates (HighLevel matches it to
  an existing contact by email/phone) and created when it allows them (HighLevel would make a
  duplicate anyway; that is the location's choice, seeds/000). A known row is a ``PUT`` of the
  fields that changed. ``tags`` is never sent on a write to a contact that may exist: it would
  replace the contact's tags. Only a create, whose contact is new by definition, carries them.
- Tags: added and removed with the bulk tag endpoint, many contacts per call, grouped by the
  tag set. Only tags this sync put on a contact are ever removed (the ledger's ``tags_owned``,
  taken from HighLevel's ``tagsAdded`` answer: a tag that was already there is not ours).
- Email/phone conflict: an upsert whose answer carries another email or phone than was sent
  matched one contact by one field while the other field belongs to another contact; HighLevel
  dropped it (hl-docs#37). Detected from the answer; the other contact's id is looked up.
- Unknown outcomes: a create that got no answer is reconciled (duplicate lookup, then search,
  waiting out the index lag) before it is sent again; its intent is in the ledger first, so a
  kill -9 is reconciled by the next run the same way.
- Budget: before each call, the location's daily budget must stay above the reserve; else the
  location stops cleanly (``BudgetStop``) and the next run resumes where this one ended.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ghlsync.client import AsyncGHLClient
from ghlsync.errors import (
    APIError,
    AuthError,
    DuplicateContactError,
    ForbiddenError,
    GHLSyncError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
)
from ghlsync.mapping import Problem
from ghlsync.push.ledger import Entry, Ledger
from ghlsync.push.plan import Action, BatchPlan, RejectedRow
from ghlsync.push.report import Conflict, LocationReport

RejectSink = Callable[[str, Sequence[RejectedRow]], None]


class BudgetStop(Exception):
    """The location's daily budget reached the reserve: stop cleanly, resume next run."""


class LocationFailed(Exception):
    """The location cannot be written at all (bad token, no access)."""


@dataclass
class _Done:
    """A field write that went: the contact, whether it was new, and its tags after it."""

    contact_id: str
    created: bool
    tags_now: frozenset[str] | None
    owned_now: frozenset[str] = frozenset()
    dropped: dict[str, Any] = field(default_factory=dict)


@dataclass
class WriterOptions:
    duplicates_allowed: bool = False
    reserve: float = 0.10
    concurrency: int = 8
    index_lag_s: float = 5.0
    bulk_size: int = 100


class LocationWriter:
    """Writes the plans of one location (one ``Ledger``, one budget)."""

    def __init__(
        self,
        client: AsyncGHLClient,
        location_id: str,
        ledger: Ledger,
        report: LocationReport,
        options: WriterOptions,
        *,
        run: int,
        rejects: RejectSink,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.location_id = location_id
        self.ledger = ledger
        self.report = report
        self.options = options
        self.run = run
        self._rejects = rejects
        self._sleep = sleep
        self._clock = clock
        self._gate = asyncio.Semaphore(options.concurrency)
        self._key = client.bucket_key(location_id)

    # -- budget --------------------------------------------------------------------------------
    def budget(self) -> tuple[int, int] | None:
        snapshot = self.client.limiter.snapshot(self._key)
        if snapshot is None:
            return None
        return snapshot.daily_remaining, snapshot.daily_limit

    def check_budget(self, calls: int = 1) -> None:
        known = self.budget()
        if known is None:
            return
        remaining, limit = known
        self.report.budget_left, self.report.budget_limit = remaining, limit
        if remaining - calls < math.ceil(self.options.reserve * limit):
            raise BudgetStop(
                f"daily budget reserve reached: {remaining} of {limit} calls left, reserve "
                f"{self.options.reserve:.0%}"
            )

    async def _call(self, make: Callable[[], Awaitable[Any]]) -> Any:
        self.check_budget()
        async with self._gate:
            try:
                return await make()
            except RateLimitError as exc:
                if exc.reset_at is not None or "daily" in str(exc).lower():
                    raise BudgetStop(f"daily budget spent: {exc.message}") from None
                raise
            except (AuthError, ForbiddenError) as exc:
                raise LocationFailed(str(exc)) from None

    # -- one batch -----------------------------------------------------------------------------
    async def write(self, plan: BatchPlan) -> None:
        """Send ``plan``'s actions and record what went in the ledger (in two steps: the field
        writes with the tag work still to do, then the tags)."""
        actions = plan.actions
        if not actions:
            return
        if self.options.duplicates_allowed:
            self._remember_intents([a for a in actions if a.kind == "create"])
        results = await asyncio.gather(
            *(self._write_fields(action) for action in actions), return_exceptions=True
        )
        done: list[tuple[Action, _Done]] = []
        stop: BaseException | None = None
        for action, result in zip(actions, results, strict=True):
            if isinstance(result, BudgetStop | LocationFailed):
                stop = stop or result
            elif isinstance(result, BaseException):
                if not isinstance(result, GHLSyncError):
                    raise result
                self._failed(action, "api_error", str(result))
            elif result is not None:
                done.append((action, result))
        self.ledger.put_many(self._entry(action, result, final=False) for action, result in done)
        if stop is None:
            try:
                await self._apply_tags(done)
            except (BudgetStop, LocationFailed) as exc:
                stop = exc
        if stop is not None:
            raise stop

    def _remember_intents(self, creates: Sequence[Action]) -> None:
        now = self._clock()
        intents = []
        for action in creates:
            entry = action.entry or Entry(action.key)
            if entry.pending_since is None:
                entry.pending_since = now
                intents.append(entry)
        self.ledger.put_many(intents)

    async def _write_fields(self, action: Action) -> _Done | None:
        if action.kind == "tags":
            assert action.entry is not None and action.entry.contact_id is not None
            return _Done(action.entry.contact_id, False, None)
        if action.kind == "update":
            assert action.entry is not None and action.entry.contact_id is not None
            return await self._update(action, action.entry.contact_id)
        if self.options.duplicates_allowed:
            return await self._create(action)
        return await self._upsert(action)

    async def _upsert(self, action: Action) -> _Done | None:
        fields = action.fields
        try:
            answer = await self._call(
                lambda: self.client.contacts.upsert(self.location_id, **_kw(fields))
            )
        except InvalidRequestError as exc:
            self._failed(action, "api_rejected", _messages(exc))
            return None
        contact = answer.get("contact") or {}
        contact_id = str(contact.get("id") or "")
        if not contact_id:
            self._failed(action, "api_error", "the upsert answer has no contact id")
            return None
        created = bool(answer.get("new"))
        done = _Done(contact_id, created, _tag_set(contact))
        await self._check_conflict(action, contact, done)
        if created:
            self.report.created += 1
        else:
            self.report.updated += 1
        return done

    async def _check_conflict(self, action: Action, contact: dict[str, Any], done: _Done) -> None:
        for name, lookup in (("phone", "phone"), ("email", "email")):
            sent = action.fields.get(name)
            if sent and contact.get(name) != sent:
                other: str | None = None
                try:
                    found = await self._call(
                        functools.partial(
                            self.client.contacts.find_duplicate,
                            self.location_id,
                            **{lookup: sent},
                        )
                    )
                    other_contact = found.get("contact") or {}
                    other = other_contact.get("id")
                except APIError:
                    other = None
                done.dropped[name] = sent
                self.report.conflicts.append(
                    Conflict(action.key, action.row.number, done.contact_id, other, name)
                )
                self._failed(
                    action,
                    "email_phone_conflict",
                    f"{name} {sent!r} belongs to contact {other or '(unknown)'}; HighLevel kept "
                    f"contact {done.contact_id} and dropped the {name}",
                    field=name,
                    count=True,
                )

    async def _update(self, action: Action, contact_id: str) -> _Done | None:
        fields = action.fields
        try:
            answer = await self._call(
                lambda: self.client.contacts.update(
                    contact_id, location_id=self.location_id, **_kw(fields)
                )
            )
        except DuplicateContactError as exc:
            name = exc.matching_field or "email/phone"
            self.report.conflicts.append(
                Conflict(action.key, action.row.number, contact_id, exc.contact_id, name)
            )
            self._failed(
                action,
                "email_phone_conflict",
                f"{name} belongs to contact {exc.contact_id}; contact {contact_id} not updated",
                field=name,
            )
            return None
        except (NotFoundError, InvalidRequestError) as exc:
            if _is_gone(exc):
                # deleted in HighLevel since: write it again as a new row
                action.kind = "create"
                action.fields = dict(action.contact.fields)
                action.tags_add = action.contact.tags
                action.entry = None
                return await (
                    self._create(action)
                    if self.options.duplicates_allowed
                    else self._upsert(action)
                )
            self._failed(action, "api_rejected", _messages(exc))
            return None
        self.report.updated += 1
        return _Done(contact_id, False, _tag_set(answer.get("contact") or {}))

    async def _create(self, action: Action) -> _Done | None:
        """``POST /contacts/`` with the tags (the contact is new); reconciled, never doubled."""
        pending = action.entry.pending_since if action.entry else None
        if pending is not None and action.entry is not None and not action.entry.contact_id:
            # a create of an earlier run (or attempt) may have happened: look before sending
            lag = self.options.index_lag_s
            found = await self._find_created(action, pending, wait=True, until=pending + lag)
            if found is not None:
                self.report.reconciled += 1
                self.report.created += 1
                return found
        fields = action.fields
        tags = sorted(action.contact.tags)
        for attempt in (1, 2):
            since = pending if pending is not None and attempt == 1 else self._clock()
            try:
                answer = await self._call(
                    lambda: self.client.contacts.create(self.location_id, tags=tags, **_kw(fields))
                )
            except OutcomeUnknownError:
                found = await self._find_created(action, since, wait=True)
                if found is not None:
                    self.report.reconciled += 1
                    self.report.created += 1
                    return found
                if attempt == 1:
                    continue  # not there once the index caught up: it did not happen, resend
                self._failed(
                    action,
                    "outcome_unknown",
                    "the create got no answer twice and the contact was not found after the "
                    "search index lag; the next run looks again before sending",
                )
                return None
            except InvalidRequestError as exc:
                self._clear_intent(action)
                self._failed(action, "api_rejected", _messages(exc))
                return None
            contact = answer.get("contact") or {}
            if answer.get("reconciled"):
                # the client's own duplicate lookup found *a* contact: ours only if it is new
                if not (_created_since(contact, since) and _is_ours(contact, action)):
                    found = await self._find_created(action, since, wait=True)
                    if found is None:
                        if attempt == 1:
                            continue
                        self._failed(action, "outcome_unknown", "the create was not reconciled")
                        return None
                    self.report.reconciled += 1
                    self.report.created += 1
                    return found
                self.report.reconciled += 1
            self.report.created += 1
            tags_set = frozenset(tags)
            return _Done(str(contact["id"]), True, tags_set, owned_now=tags_set)
        return None  # pragma: no cover - the loop returns

    def _clear_intent(self, action: Action) -> None:
        if action.entry is not None and action.entry.contact_id:
            return
        self.ledger.delete([action.key])

    async def _find_created(
        self, action: Action, since: float, *, wait: bool, until: float | None = None
    ) -> _Done | None:
        """The contact a create of ``action`` made at or after ``since``, if any: by search
        (email, else phone) for contacts added since then, polled until the index lag has
        passed (search shows writes seconds late, GHL-NOTES §4)."""
        email, phone = action.fields.get("email"), action.fields.get("phone")
        field_name, value = ("email", email) if email else ("phone", phone)
        if not value:
            return None
        cutoff = _iso(since - 1.0)
        filters = [
            {"field": field_name, "operator": "eq", "value": value},
            {"field": "dateAdded", "operator": "range", "value": {"gte": cutoff}},
        ]
        deadline = until if until is not None else self._clock() + self.options.index_lag_s
        while True:
            answer = await self._call(
                lambda: self.client.contacts.search(
                    self.location_id, filters=filters, page_limit=10
                )
            )
            contacts = [c for c in answer.get("contacts") or [] if _is_ours(c, action)]
            if contacts:
                contact = min(contacts, key=lambda c: str(c.get("dateAdded") or ""))
                tags = _tag_set(contact) or frozenset()
                return _Done(str(contact["id"]), True, tags, owned_now=tags & action.contact.tags)
            if not wait or self._clock() >= deadline:
                return None
            await self._sleep(min(1.0, max(0.05, deadline - self._clock())))

    # -- tags ----------------------------------------------------------------------------------
    async def _apply_tags(self, done: list[tuple[Action, _Done]]) -> None:
        adds: dict[frozenset[str], list[tuple[Action, _Done]]] = {}
        removes: dict[frozenset[str], list[tuple[Action, _Done]]] = {}
        for action, result in done:
            add = action.tags_add
            if result.created and result.owned_now:
                add = add - result.owned_now  # sent with the create
            if add:
                adds.setdefault(frozenset(add), []).append((action, result))
            if action.tags_remove:
                removes.setdefault(action.tags_remove, []).append((action, result))
        failed: set[str] = set()
        for tags, members in adds.items():
            failed |= await self._bulk("add", tags, members)
        for tags, members in removes.items():
            failed |= await self._bulk("remove", tags, members)
        self.ledger.put_many(
            self._entry(action, result, final=True)
            for action, result in done
            if action.key not in failed
        )
        for action, _ in done:
            if action.kind == "tags" and action.key not in failed:
                self.report.tags_only += 1

    async def _bulk(
        self,
        kind: Literal["add", "remove"],
        tags: frozenset[str],
        members: list[tuple[Action, _Done]],
    ) -> set[str]:
        failed: set[str] = set()
        size = self.options.bulk_size
        for start in range(0, len(members), size):
            chunk = members[start : start + size]
            ids = [result.contact_id for _, result in chunk]
            try:
                answer = await self._call(
                    functools.partial(
                        self.client.contacts.bulk_update_tags,
                        self.location_id,
                        kind,
                        contact_ids=ids,
                        tags=sorted(tags),
                    )
                )
            except (BudgetStop, LocationFailed):
                raise
            except GHLSyncError as exc:
                for action, _ in chunk:
                    failed.add(action.key)
                    self._failed(action, "tags_failed", str(exc), field="tags")
                continue
            by_id = {str(r.get("contactId")): r for r in answer.get("responses") or ()}
            for action, result in chunk:
                item = by_id.get(result.contact_id, {})
                if item.get("type") == "error":
                    failed.add(action.key)
                    self._failed(action, "tags_failed", str(item.get("message")), field="tags")
                    continue
                if kind == "add":
                    if "tagsAdded" in item:
                        added = frozenset(item["tagsAdded"]) & tags
                    elif "oldTags" in item:
                        added = tags - frozenset(item["oldTags"])
                    elif result.tags_now is not None:
                        added = tags - result.tags_now
                    else:
                        added = tags
                    result.owned_now = result.owned_now | added
                    self.report.tags_added += len(added)
                else:
                    removed = frozenset(item.get("tagsRemoved", tags)) & tags
                    self.report.tags_removed += len(removed)
        return failed

    # -- ledger --------------------------------------------------------------------------------
    def _entry(self, action: Action, result: _Done, *, final: bool) -> Entry:
        previous = action.entry
        owned_before = previous.tags_owned if previous else frozenset()
        sent = dict(action.contact.fields)
        for name in result.dropped:
            sent.pop(name, None)  # not applied: the next run tries it again
        entry = Entry(
            key=action.key,
            contact_id=result.contact_id,
            raw_hash=action.raw_hash if not result.dropped else None,
            out_hash=action.out_hash,
            sent=sent,
            created=result.created or bool(previous and previous.created),
            seen_run=self.run,
        )
        if final:
            entry.tags_wanted = action.contact.tags
            entry.tags_owned = (owned_before - action.tags_remove) | result.owned_now
            entry.todo = None
        else:
            entry.tags_wanted = previous.tags_wanted if previous else frozenset()
            if result.created and result.owned_now:
                entry.tags_wanted = entry.tags_wanted | result.owned_now
            entry.tags_owned = owned_before | result.owned_now
            entry.todo = {"add": sorted(action.tags_add), "remove": sorted(action.tags_remove)}
        return entry

    def _failed(
        self,
        action: Action,
        reason: str,
        detail: str,
        *,
        field: str = "(api)",
        count: bool = True,
    ) -> None:
        if count:
            self.report.failed[reason] += 1
        self._rejects(
            self.location_id, [RejectedRow(action.row, (Problem(field, reason, detail),))]
        )


def _kw(fields: dict[str, Any]) -> dict[str, Any]:
    """Wire fields as keyword arguments of the contacts resource (which converts
    snake_case back to the wire): ``customFields`` and the rest pass through as they are."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        out[_SNAKE.get(name, name)] = value
    return out


_SNAKE = {
    "firstName": "first_name",
    "lastName": "last_name",
    "customFields": "custom_fields",
    "postalCode": "postal_code",
    "companyName": "company_name",
    "dateOfBirth": "date_of_birth",
    "assignedTo": "assigned_to",
    "dndSettings": "dnd_settings",
}


def _tag_set(contact: dict[str, Any]) -> frozenset[str] | None:
    tags = contact.get("tags")
    return frozenset(str(t) for t in tags) if isinstance(tags, list) else None


def _messages(exc: APIError) -> str:
    return "; ".join(exc.messages) or str(exc)


def _is_gone(exc: APIError) -> bool:
    text = " ".join(exc.messages).lower()
    return exc.status == 404 or "not found" in text or "deleted" in text


def _iso(epoch_s: float) -> str:
    import datetime as dt

    moment = dt.datetime.fromtimestamp(epoch_s, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _created_since(contact: dict[str, Any], since: float) -> bool:
    added = str(contact.get("dateAdded") or "")
    return bool(added) and added >= _iso(since - 1.0)


_COMPARED = ("firstName", "lastName")  # in every contact shape, search rows included


def _is_ours(contact: dict[str, Any], action: Action) -> bool:
    """Whether ``contact`` carries what our create sent (names and tags, which search rows
    carry too): a contact someone else made with the same email about then does not."""
    for name in _COMPARED:
        if name in action.fields and contact.get(name) != action.fields[name]:
            return False
    tags = contact.get("tags")
    return action.contact.tags <= set(tags if isinstance(tags, list) else ())
