"""``RedisQueue``: the event queue on Redis Streams, for N worker processes on N machines.

Layout under ``prefix`` (default ``ghlsync:events``):

- ``:stream:{p}`` for ``p`` in ``0..PARTITIONS-1``: an identity always hashes to the same
  partition; one consumer group ``workers`` reads them. Each partition is leased to one worker
  at a time (``:lease:{p}``, renewed every second, expiring after ``lease_s``), so events of one
  identity are delivered in order by one worker. Workers heartbeat in ``:workers`` and each takes
  about ``PARTITIONS / live workers`` partitions. A worker that takes over a partition first
  claims the previous holder's pending entries with ``XAUTOCLAIM``: a killed worker's events are
  delivered by the others.
- ``:events`` hash ``seq -> record`` (the call, state, attempts, result), ``:seq`` the counter,
  ``:seen:{source}:{messageId}`` the dedupe keys (``dedupe_s``), ``:pending:{location}`` a sorted
  set (seq by received time: depth and lag), ``:dead`` the dead-letter set, ``:profile:{location}``.

``enqueue`` runs one Lua script per request (dedupe, number, store, ``XADD``); what "durable"
means is Redis' persistence setting: run Redis with ``appendonly yes`` and ``appendfsync always``
for the SQLite queue's guarantee.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
import uuid
import zlib
from collections import deque
from typing import Any

from ghlsync.events.queue import Group, NewEvent, QueuedEvent

log = logging.getLogger("ghlsync.events.queue")

PARTITIONS = 16
GROUP = "workers"

_ENQUEUE = """
local prefix = ARGV[1]
local ttl = tonumber(ARGV[2])
local new = 0
for i = 3, #ARGV, 5 do
  local dedupe, partition, location, received, record = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  if redis.call('SET', prefix .. ':seen:' .. dedupe, '1', 'NX', 'EX', ttl) then
    local seq = redis.call('INCR', prefix .. ':seq')
    redis.call('HSET', prefix .. ':events', seq, record)
    if partition ~= '-' then
      redis.call('ZADD', prefix .. ':pending:' .. location, received, seq)
      redis.call('SADD', prefix .. ':locations', location)
      redis.call('XADD', prefix .. ':stream:' .. partition, '*', 'seq', seq)
    end
    new = new + 1
  end
end
return new
"""

_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def partition_of(location_id: str, identity: str) -> int:
    return zlib.crc32(f"{location_id}\x00{identity}".encode()) % PARTITIONS


class RedisQueue:
    """The ``EventQueue`` on Redis Streams; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        consumer: str | None = None,
        prefix: str = "ghlsync:events",
        lease_s: float = 5.0,
        dedupe_s: int = 7 * 86400,
    ) -> None:
        import redis.asyncio as redis_asyncio

        self._redis = redis_asyncio.Redis(
            connection_pool=redis_asyncio.BlockingConnectionPool.from_url(
                url, max_connections=32, timeout=30
            )
        )
        self.prefix = prefix
        self.consumer = consumer or f"w-{uuid.uuid4().hex[:10]}"
        self.lease_s = lease_s
        self.dedupe_s = dedupe_s
        self._enqueue = self._redis.register_script(_ENQUEUE)
        self._lease = self._redis.register_script(_LEASE)
        self._release = self._redis.register_script(_RELEASE)
        self._held: set[int] = set()
        #: per held partition, the entries this consumer has read and not settled, in stream
        #: order, and their records: read from Redis once, not at every claim
        self._buffers: dict[int, deque[tuple[str, int]]] = {}
        self._cache: dict[int, QueuedEvent] = {}
        #: profiles read with the claim, taken by ``profile`` (an identity is claimed by one
        #: delivery at a time, so nothing writes its profile in between)
        self._profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self._leases_at = 0.0
        self._groups_made = False

    def _k(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    # -- writing ----------------------------------------------------------------------------------

    async def enqueue(self, events: list[NewEvent]) -> int:
        args: list[Any] = [self.prefix, self.dedupe_s]
        for e in events:
            record = {
                "source": e.source,
                "location_id": e.location_id,
                "message_id": e.message_id,
                "identity": e.identity,
                "kind": e.kind,
                "name": e.name,
                "body": e.body,
                "received_at": e.received_at,
                "state": "pending" if e.dropped_reason is None else "dropped",
                "last_error": e.dropped_reason,
            }
            partition = "-" if e.dropped_reason else str(partition_of(e.location_id, e.identity))
            args += [
                f"{e.source}:{e.message_id}",
                partition,
                e.location_id,
                e.received_at,
                json.dumps(record, separators=(",", ":")),
            ]
        return int(await self._enqueue(keys=[], args=args))

    async def _records(self, seqs: list[int]) -> list[QueuedEvent | None]:
        if not seqs:
            return []
        raw = await self._redis.hmget(self._k("events"), [str(s) for s in seqs])
        out: list[QueuedEvent | None] = []
        for seq, blob in zip(seqs, raw, strict=True):
            if blob is None:
                out.append(None)
                continue
            data = json.loads(blob)
            out.append(QueuedEvent(seq=seq, **data))
        return out

    def _save(self, pipe: Any, events: list[QueuedEvent]) -> None:
        """Queue the records of ``events`` on ``pipe`` (one HSET)."""
        mapping: dict[Any, Any] = {}
        for e in events:
            data = e.__dict__.copy()
            data.pop("seq")
            data.pop("handle")
            mapping[str(e.seq)] = json.dumps(data, separators=(",", ":"), default=str)
        if mapping:
            pipe.hset(self._k("events"), mapping=mapping)

    # -- leases -----------------------------------------------------------------------------------

    async def _ensure_groups(self) -> None:
        if self._groups_made:
            return
        for p in range(PARTITIONS):
            try:
                await self._redis.xgroup_create(self._k("stream", p), GROUP, id="0", mkstream=True)
            except Exception as exc:  # BUSYGROUP: made by another worker
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups_made = True

    async def _balance(self, now: float, busy_partitions: set[int]) -> None:
        # renewed 4 times per lease; a worker not seen for a lease is gone, so the survivors'
        # quota grows as its leases expire and they take its partitions over
        if now - self._leases_at < min(1.0, self.lease_s / 4) and self._held:
            return
        self._leases_at = now
        await self._ensure_groups()
        workers = self._k("workers")
        await self._redis.zadd(workers, {self.consumer: now})
        await self._redis.zremrangebyscore(workers, "-inf", now - self.lease_s)
        live = max(1, int(await self._redis.zcard(workers)))
        quota = math.ceil(PARTITIONS / live)
        ttl_ms = int(self.lease_s * 1000)
        start = zlib.crc32(self.consumer.encode()) % PARTITIONS
        order = [(start + i) % PARTITIONS for i in range(PARTITIONS)]
        for p in order:
            if p not in self._held and len(self._held) >= quota:
                continue
            verdict = int(
                await self._lease(keys=[self._k("lease", p)], args=[self.consumer, ttl_ms])
            )
            if verdict == 0:
                self._held.discard(p)
            elif verdict == 2:
                self._held.add(p)
                await self._autoclaim(p)
            else:
                self._held.add(p)
        for p in sorted(self._held):
            if len(self._held) <= quota:
                break
            if p not in busy_partitions:
                await self._release(keys=[self._k("lease", p)], args=[self.consumer])
                self._held.discard(p)

    async def renew(self, now: float, busy: set[tuple[str, str]]) -> None:
        """Renew this worker's heartbeat and leases (the worker calls it while every delivery
        slot is busy and it claims nothing, so long deliveries do not let the leases lapse)."""
        await self._balance(now, {partition_of(loc, ident) for loc, ident in busy})

    async def _autoclaim(self, partition: int) -> None:
        """Take over the entries the partition's previous holder read and never acknowledged."""
        cursor = "0-0"
        while True:
            answer = await self._redis.xautoclaim(
                self._k("stream", partition), GROUP, self.consumer, 0, start_id=cursor, count=500
            )
            cursor = answer[0].decode() if isinstance(answer[0], bytes) else str(answer[0])
            if cursor in ("0-0", "0"):
                return

    # -- the EventQueue protocol -----------------------------------------------------------------

    async def claim(
        self, now: float, busy: set[tuple[str, str]], groups: int, per_group: int
    ) -> list[Group]:
        busy_partitions = {partition_of(loc, ident) for loc, ident in busy}
        await self._balance(now, busy_partitions)
        for p in list(self._buffers):
            if p not in self._held:  # lease lost: another worker delivers its entries now
                for _, seq in self._buffers.pop(p):
                    self._cache.pop(seq, None)
        for p in sorted(self._held):
            if p not in self._buffers:
                await self._load_pending(p)
        found = await self._scan(now, busy, groups, per_group)
        if len(found) < groups and self._held:
            # read new entries only when what this worker already holds cannot fill the claim,
            # and only about as many as it can take: the buffers stay short
            held = sorted(self._held)
            count = max(1, math.ceil((groups - len(found)) * 4 / len(held)))
            streams: dict[Any, Any] = {self._k("stream", p): ">" for p in held}
            answer: Any = await self._redis.xreadgroup(GROUP, self.consumer, streams, count=count)
            fresh = [
                (self._partition(name), self._text(entry_id), int(fields[b"seq"]))
                for name, rows in answer or []
                for entry_id, fields in rows
            ]
            if fresh:
                await self._remember_entries(fresh)
                found = await self._scan(now, busy, groups, per_group)
        if found:  # the profiles the deliveries start with, in one round trip
            pipe = self._redis.pipeline(transaction=False)
            for group in found:
                pipe.hget(self._k("profile", group.location_id), group.identity)
            for group, blob in zip(found, await pipe.execute(), strict=True):
                self._profiles[group.key] = dict(json.loads(blob)) if blob else {}
        return found

    async def _load_pending(self, partition: int) -> None:
        """Read this consumer's whole pending list of ``partition`` (entries read before a
        restart, or claimed from a dead worker) into its buffer, oldest first."""
        self._buffers[partition] = deque()
        stream, cursor = self._k("stream", partition), "0"
        while True:
            answer: Any = await self._redis.xreadgroup(
                GROUP, self.consumer, {stream: cursor}, count=500
            )
            rows = answer[0][1] if answer else []
            if not rows:
                return
            await self._remember_entries(
                [
                    (partition, self._text(entry_id), int(fields[b"seq"]))
                    for entry_id, fields in rows
                ]
            )
            cursor = self._text(rows[-1][0])

    async def _remember_entries(self, entries: list[tuple[int, str, int]]) -> None:
        """Buffer stream entries read by this consumer, their records fetched once."""
        if not entries:
            return
        records = await self._records([seq for _, _, seq in entries])
        for (partition, entry_id, seq), record in zip(entries, records, strict=True):
            self._buffers.setdefault(partition, deque()).append((entry_id, seq))
            if record is not None:
                record.handle = f"{partition}/{entry_id}"
                self._cache[seq] = record

    async def _scan(
        self, now: float, busy: set[tuple[str, str]], groups: int, per_group: int
    ) -> list[Group]:
        """Groups from the buffered entries: per identity, oldest first, none in ``busy``."""
        found: dict[tuple[str, str], Group] = {}
        blocked: set[tuple[str, str]] = set(busy)
        stale = []
        for partition, buffer in self._buffers.items():
            for entry_id, seq in buffer:
                record = self._cache.get(seq)
                if record is None or record.state != "pending":
                    stale.append((partition, entry_id, seq))
                    continue
                key = (record.location_id, record.identity)
                if key in blocked:
                    continue
                if record.next_at > now:
                    blocked.add(key)  # its oldest event waits: so do the later ones
                    continue
                group = found.get(key)
                if group is None:
                    if len(found) >= groups:
                        continue
                    group = found[key] = Group(record.location_id, record.identity, [])
                if len(group.events) < per_group:
                    group.events.append(record)
        if stale:  # finished elsewhere (a replayed copy, a dead worker's delivered entry)
            pipe = self._redis.pipeline(transaction=False)
            for partition, entry_id, seq in stale:
                pipe.xack(self._k("stream", partition), GROUP, entry_id)
                self._forget(partition, entry_id, seq)
            await pipe.execute()
        return list(found.values())

    def _forget(self, partition: int, entry_id: str, seq: int) -> None:
        buffer = self._buffers.get(partition)
        if buffer is not None:
            with contextlib.suppress(ValueError):
                buffer.remove((entry_id, seq))
        self._cache.pop(seq, None)

    @staticmethod
    def _text(value: Any) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    def _partition(self, stream_name: Any) -> int:
        return int(self._text(stream_name).rsplit(":", 1)[1])

    def _settle(self, pipe: Any, events: list[QueuedEvent]) -> None:
        """Queue on ``pipe`` the acknowledgement and removal of finished events' entries."""
        for event in events:
            if not event.handle:
                continue
            partition, entry_id = event.handle.split("/", 1)
            self._forget(int(partition), entry_id, event.seq)
            stream = self._k("stream", partition)
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            pipe.zrem(self._k("pending", event.location_id), event.seq)

    async def complete(
        self,
        group: Group,
        result: dict[str, Any],
        status: int | None,
        profile: dict[str, Any] | None = None,
    ) -> None:
        now = time.time()
        for event in group.events:
            event.state, event.delivered_at, event.result = "delivered", now, result
            event.last_status, event.last_error = status, None
            event.attempts += 1
        # one round trip: the records, the stream entries settled, the identity's profile
        pipe = self._redis.pipeline(transaction=False)
        self._save(pipe, group.events)
        self._settle(pipe, group.events)
        if profile is not None:
            pipe.hset(self._k("profile", group.location_id), group.identity, json.dumps(profile))
        await pipe.execute()

    async def fail(
        self,
        group: Group,
        error: str,
        status: int | None,
        retry_at: float | None,
        max_attempts: int,
        result: dict[str, Any] | None = None,
    ) -> list[QueuedEvent]:
        dead = []
        for event in group.events:
            event.attempts += 1
            event.last_error, event.last_status, event.result = error, status, result or {}
            if retry_at is None or event.attempts >= max_attempts:
                event.state, event.next_at = "dead", 0.0
                dead.append(event)
            else:
                event.next_at = retry_at
        pipe = self._redis.pipeline(transaction=False)
        self._save(pipe, group.events)
        if dead:
            pipe.sadd(self._k("dead"), *[e.seq for e in dead])
            self._settle(pipe, dead)
        await pipe.execute()
        return dead

    async def profile(self, location_id: str, identity: str) -> dict[str, Any]:
        known = self._profiles.pop((location_id, identity), None)
        if known is not None:  # read by the claim that handed this identity out
            return known
        blob = await self._redis.hget(self._k("profile", location_id), identity)
        return dict(json.loads(blob)) if blob else {}

    async def remember(self, location_id: str, identity: str, profile: dict[str, Any]) -> None:
        await self._redis.hset(self._k("profile", location_id), identity, json.dumps(profile))

    async def depth(self) -> dict[str, tuple[int, float | None]]:
        out: dict[str, tuple[int, float | None]] = {}
        for raw in await self._redis.smembers(self._k("locations")):
            location = raw.decode() if isinstance(raw, bytes) else str(raw)
            key = self._k("pending", location)
            count = int(await self._redis.zcard(key))
            oldest = await self._redis.zrange(key, 0, 0, withscores=True)
            out[location] = (count, float(oldest[0][1]) if oldest else None)
        return out

    async def recent(
        self,
        limit: int = 100,
        *,
        after_seq: int = 0,
        location_id: str | None = None,
        source: str | None = None,
        state: str | None = None,
    ) -> list[QueuedEvent]:
        if state == "dead":
            seqs = sorted(
                (int(s) for s in await self._redis.smembers(self._k("dead"))), reverse=True
            )
        else:
            top = int(await self._redis.get(self._k("seq")) or 0)
            seqs = list(range(top, max(after_seq, top - 5000), -1))
        out = []
        for start in range(0, len(seqs), 500):
            for record in await self._records(seqs[start : start + 500]):
                if record is None or record.seq <= after_seq:
                    continue
                if location_id and record.location_id != location_id:
                    continue
                if (source and record.source != source) or (state and record.state != state):
                    continue
                out.append(record)
                if len(out) >= limit:
                    return out
        return out

    async def replay(self, seqs: list[int] | None) -> int:
        dead = {int(s) for s in await self._redis.smembers(self._k("dead"))}
        chosen = sorted(dead if seqs is None else dead & set(seqs))
        records = [r for r in await self._records(chosen) if r is not None]
        for record in records:
            record.state, record.attempts, record.next_at = "pending", 0, 0.0
        pipe = self._redis.pipeline(transaction=False)
        self._save(pipe, records)
        await pipe.execute()
        for record in records:
            partition = partition_of(record.location_id, record.identity)
            await self._redis.zadd(
                self._k("pending", record.location_id), {str(record.seq): record.received_at}
            )
            await self._redis.xadd(self._k("stream", partition), {"seq": record.seq})
            await self._redis.srem(self._k("dead"), record.seq)
        return len(records)

    async def prune(self, older_than: float) -> int:
        """Forget delivered and dropped records received before ``older_than`` (epoch s),
        walking up from a stored low-water mark; pending and dead records are kept."""
        low = int(await self._redis.get(self._k("pruned")) or 0)
        top = int(await self._redis.get(self._k("seq")) or 0)
        removed = 0
        while low < top:
            seqs = list(range(low + 1, min(top, low + 1000) + 1))
            records = await self._records(seqs)
            done = [
                r.seq
                for r in records
                if r and r.state in ("delivered", "dropped") and r.received_at < older_than
            ]
            young = next((r for r in records if r and r.received_at >= older_than), None)
            if done:
                removed += int(await self._redis.hdel(self._k("events"), *map(str, done)))
            if young is not None:
                break
            low = seqs[-1]
            await self._redis.set(self._k("pruned"), low)
        return removed

    async def close(self) -> None:
        """Hand the leases back and leave the live set; with Redis unreachable that is skipped
        (the leases expire after ``lease_s`` and the others take the partitions over)."""
        from redis import exceptions as redis_exceptions

        try:
            for p in list(self._held):
                await self._release(keys=[self._k("lease", p)], args=[self.consumer])
            await self._redis.zrem(self._k("workers"), self.consumer)
        except redis_exceptions.RedisError as error:
            log.warning("leaving the queue without handing back leases: %s", type(error).__name__)
        finally:
            self._held.clear()
            await self._redis.aclose()
