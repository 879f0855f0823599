"""One location's push: prepare (custom fields, duplicate rule, mapping), then stream batches
through plan -> writer -> ledger, then the mode's end of run (cursor, mirror)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ghlsync.client import AsyncGHLClient
from ghlsync.config import Settings
from ghlsync.errors import APIError, AuthError, ConfigError, ForbiddenError, GHLSyncError
from ghlsync.mapping import ContactMapping, FieldDef, compile_mapping
from ghlsync.push.config import PushConfig
from ghlsync.push.ledger import Ledger, ledger_path
from ghlsync.push.plan import BatchPlan, key_function, plan_batch, split_unchanged
from ghlsync.push.readers import Source, SourceRow
from ghlsync.push.report import LocationReport
from ghlsync.push.stage import Deduplicated, after_cursor, cursor_key
from ghlsync.push.writer import (
    BudgetStop,
    LocationFailed,
    LocationWriter,
    RejectSink,
    WriterOptions,
)

Progress = Callable[[str, int, LocationReport], None]


@dataclass
class Prepared:
    location_id: str
    mapping: ContactMapping
    duplicates_allowed: bool
    warnings: list[str]


async def prepare(
    client: AsyncGHLClient, config: PushConfig, location_id: str, columns: Sequence[str] | None
) -> Prepared:
    """Read the location's custom fields and duplicate rule; compile the mapping
    (``ConfigError`` listing every problem, before anything is written)."""
    warnings: list[str] = []
    try:
        raw = await client.custom_fields.list(location_id, model="contact")
    except (AuthError, ForbiddenError) as exc:
        raise LocationFailed(str(exc)) from None
    definitions = [FieldDef.from_api(item) for item in raw if item.get("id")]
    mapping = compile_mapping(
        config.mapping,
        definitions,
        list(columns) if columns else None,
        default_region=config.default_region,
        source=f"mapping for location {location_id}",
    )
    warnings += list(mapping.warnings)
    if config.duplicates != "auto":
        allowed = config.duplicates == "allowed"
    else:
        try:
            answer = await client.locations.get(location_id)
            location = answer.get("location") or {}
            allowed = bool((location.get("settings") or {}).get("allowDuplicateContact"))
        except APIError as exc:
            allowed = False
            warnings.append(
                f"could not read the location's duplicate setting ({exc.status}); writing as if "
                "duplicates are refused (upsert); pass --duplicates allowed|refused to say"
            )
    return Prepared(location_id, mapping, allowed, warnings)


def _keep(config: PushConfig, location_id: str, saved_cursor: Any) -> Any:
    tests: list[Callable[[Mapping[str, Any]], bool]] = []
    if config.location_column:
        column = config.location_column
        tests.append(lambda values: str(values.get(column) or "").strip() == location_id)
    if config.mode == "incremental_append" and config.cursor:
        tests.append(after_cursor(config.cursor, saved_cursor))
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda values: all(test(values) for test in tests)


async def push_location(
    client: AsyncGHLClient,
    config: PushConfig,
    prepared: Prepared,
    source: Source,
    settings: Settings,
    rejects: RejectSink,
    progress: Progress | None = None,
) -> LocationReport:
    """Push the source into one location; every failure ends up in the report, not raised."""
    location_id = prepared.location_id
    report = LocationReport(location_id, duplicates_allowed=prepared.duplicates_allowed)
    report.warnings += prepared.warnings
    started = time.monotonic()
    ledger = Ledger(ledger_path(settings.home, location_id), config.sync)
    try:
        await _run(client, config, prepared, source, ledger, report, rejects, progress)
    except BudgetStop as stop:
        report.status = "budget_stopped"
        report.message = f"{stop}; the next run resumes where this one stopped"
    except LocationFailed as exc:
        report.status = "failed"
        report.message = str(exc)
    except GHLSyncError as exc:
        report.status = "failed"
        report.message = str(exc)
    finally:
        ledger.close()
        report.seconds = time.monotonic() - started
        snapshot = client.limiter.snapshot(client.bucket_key(location_id))
        if snapshot is not None:
            report.budget_left, report.budget_limit = snapshot.daily_remaining, snapshot.daily_limit
    if config.dry_run and report.status == "ok":
        report.status = "dry_run"
    return report


async def _run(
    client: AsyncGHLClient,
    config: PushConfig,
    prepared: Prepared,
    source: Source,
    ledger: Ledger,
    report: LocationReport,
    rejects: RejectSink,
    progress: Progress | None,
) -> None:
    location_id = prepared.location_id
    mapping = prepared.mapping
    run, saved_cursor, _ = ledger.state()
    run = ledger.begin_run()
    key_of = key_function(mapping, config.primary_key)
    keep = _keep(config, location_id, saved_cursor)
    writer = LocationWriter(
        client,
        location_id,
        ledger,
        report,
        WriterOptions(
            duplicates_allowed=prepared.duplicates_allowed,
            reserve=config.reserve,
            concurrency=config.concurrency,
            index_lag_s=config.index_lag_s,
        ),
        run=run,
        rejects=rejects,
    )
    max_cursor: Any = saved_cursor
    track_cursor = config.mode == "incremental_append" and config.cursor is not None
    mark_seen = config.mirror is not None
    done = 0
    batches = await _batches(config, source, key_of, keep, rejects, report, location_id)
    while True:
        rows = await asyncio.to_thread(_next, batches)
        if rows is None:
            break
        plan: BatchPlan = await asyncio.to_thread(
            _plan, rows, mapping, key_of, ledger, config, keep
        )
        report.rows += len(rows) - plan.skipped
        report.skipped += plan.skipped
        report.unchanged += len(plan.unchanged) + len(plan.refreshed)
        report.superseded += plan.superseded
        for rejected in plan.rejects:
            for problem in rejected.problems[:1]:
                report.rejected[problem.reason] += 1
        if plan.rejects:
            rejects(location_id, plan.rejects)
        if track_cursor:
            for row in rows:
                if row.malformed is None and (keep is None or keep(row.values)):
                    value = row.values.get(config.cursor or "")
                    if max_cursor is None or cursor_key(value) > cursor_key(max_cursor):
                        max_cursor = value
        if config.dry_run:
            _count_dry(plan, report, config.sample_size)
        else:
            if plan.refreshed:
                ledger.put_many(plan.refreshed)
            await writer.write(plan)
        if mark_seen:
            # rows present in the source are not "gone", even if rejected or still planned
            seen = [
                *plan.unchanged,
                *(e.key for e in plan.refreshed),
                *(a.key for a in plan.actions),
            ]
            for rejected in plan.rejects:
                if rejected.row.malformed is None:
                    key = key_of(rejected.row.values)
                    if key is not None:
                        seen.append(key)
            ledger.mark_seen(seen, run)
        done += len(rows)
        if progress is not None:
            known = writer.budget()
            if known is not None:
                report.budget_left, report.budget_limit = known
            progress(location_id, done, report)
    if config.dry_run:
        if config.mirror is not None:
            report.deleted = len(_gone(ledger, run, config))
        return
    if track_cursor and report.failed_count == 0 and max_cursor is not None:
        from ghlsync.push.stage import jsonable

        ledger.save_cursor(jsonable(max_cursor))
        report.cursor = jsonable(max_cursor)
    if config.mirror is not None and report.failed_count == 0:
        await _mirror(writer, ledger, run, config, report)
    ledger.save_fingerprint(mapping.fingerprint)


def _next(batches: Iterator[list[SourceRow]]) -> list[SourceRow] | None:
    return next(batches, None)


def _plan(
    rows: list[SourceRow],
    mapping: ContactMapping,
    key_of: Any,
    ledger: Ledger,
    config: PushConfig,
    keep: Any,
) -> BatchPlan:
    unchanged: list[str] = []
    skipped = 0
    if not config.force:
        unchanged, rows, skipped = split_unchanged(
            rows, key_of, mapping.fingerprint, ledger.hashes_many, keep=keep
        )
        keep = None  # applied
    keys = []
    for row in rows:
        if row.malformed is None:
            key = key_of(row.values)
            if key is not None:
                keys.append(key)
    entries = ledger.get_many(keys) if keys else {}
    plan = plan_batch(
        rows, mapping, key_of, entries, managed_tag=config.tag, force=config.force, keep=keep
    )
    plan.unchanged += unchanged
    plan.skipped += skipped
    return plan


async def _batches(
    config: PushConfig,
    source: Source,
    key_of: Any,
    keep: Any,
    rejects: RejectSink,
    report: LocationReport,
    location_id: str,
) -> Iterator[list[SourceRow]]:
    """The batches to plan: the source as read, or, for ``incremental_dedup``, its rows
    staged and deduplicated (latest wins)."""
    if config.mode != "incremental_dedup":
        return source.batches(config.batch_size)
    stage = Deduplicated(key_of, config.cursor)

    def fill() -> None:
        for rows in source.batches(config.batch_size):
            kept = [r for r in rows if r.malformed is not None or keep is None or keep(r.values)]
            report.skipped += len(rows) - len(kept)
            loose = stage.add(kept)
            if loose:
                # malformed or keyless rows: planned alone so they are rejected with a reason
                report.rows += len(loose)
                missing = [r for r in loose if r.malformed is None]
                malformed = [r for r in loose if r.malformed is not None]
                from ghlsync.mapping import Problem
                from ghlsync.push.plan import RejectedRow

                out = [
                    RejectedRow(r, (Problem("(row)", "malformed_row", r.malformed or ""),))
                    for r in malformed
                ] + [
                    RejectedRow(
                        r, (Problem(",".join(config.primary_key), "missing_key", "empty key"),)
                    )
                    for r in missing
                ]
                for item in out:
                    report.rejected[item.problems[0].reason] += 1
                rejects(location_id, out)
        report.superseded += stage.staged - stage.count()

    await asyncio.to_thread(fill)
    return _closing(stage, stage.batches(config.batch_size))


def _closing(stage: Deduplicated, batches: Iterator[list[SourceRow]]) -> Iterator[list[SourceRow]]:
    try:
        yield from batches
    finally:
        stage.close()


def _count_dry(plan: BatchPlan, report: LocationReport, samples: int) -> None:
    for action in plan.actions:
        if action.kind == "create":
            report.created += 1
        elif action.kind == "update":
            report.updated += 1
        else:
            report.tags_only += 1
        report.tags_added += len(action.tags_add)
        report.tags_removed += len(action.tags_remove)
        if len(report.samples) < samples:
            before = action.entry.sent if action.entry else {}
            report.samples.append(
                {
                    "row": action.row.number,
                    "key": action.key,
                    "action": action.kind,
                    "changes": {
                        name: {"from": before.get(name), "to": value}
                        for name, value in action.fields.items()
                    },
                    "tags_add": sorted(action.tags_add),
                    "tags_remove": sorted(action.tags_remove),
                }
            )


def _gone(ledger: Ledger, run: int, config: PushConfig) -> list[Any]:
    return ledger.unseen(run)


async def _mirror(
    writer: LocationWriter, ledger: Ledger, run: int, config: PushConfig, report: LocationReport
) -> None:
    """Contacts of this sync gone from the source lose the managed tag (``untag``) or, those
    the sync created, are deleted (``delete``); refused above ``max_delete_pct``."""
    gone = ledger.unseen(run)
    if not gone:
        return
    total = ledger.count()
    share = 100.0 * len(gone) / max(total, 1)
    if share > config.max_delete_pct:
        report.failed["mirror_refused"] += 1
        report.warnings.append(
            f"mirror refused: {len(gone)} of {total} contacts ({share:.1f}%) are gone from the "
            f"source, above --max-delete-pct {config.max_delete_pct:g}; nothing was "
            f"{'deleted' if config.mirror == 'delete' else 'untagged'}"
        )
        return
    tag = config.tag
    finished: list[str] = []
    client = writer.client
    location_id = writer.location_id
    to_untag = []
    for entry in gone:
        assert entry.contact_id is not None
        if config.mirror == "delete" and entry.created:
            writer.check_budget()
            try:
                await client.contacts.delete(entry.contact_id, location_id=location_id)
            except APIError as exc:
                if exc.status not in (400, 404):
                    report.failed["mirror_failed"] += 1
                    continue
            report.deleted += 1
            finished.append(entry.key)
        elif tag and tag in entry.tags_owned:
            to_untag.append(entry)
        else:
            finished.append(entry.key)
    for start in range(0, len(to_untag), 100):
        chunk = to_untag[start : start + 100]
        writer.check_budget()
        ids = [e.contact_id for e in chunk if e.contact_id]
        await client.contacts.bulk_update_tags(
            location_id, "remove", contact_ids=ids, tags=[tag or ""]
        )
        report.untagged += len(chunk)
        finished += [e.key for e in chunk]
    ledger.delete(finished)


def check_columns(config: PushConfig, columns: Sequence[str]) -> None:
    """``ConfigError`` when a column the options name is not in the source."""
    if not columns:
        return
    named = [
        ("--cursor", config.cursor),
        ("--location-column", config.location_column),
        *(("--primary-key", column) for column in config.primary_key),
    ]
    missing = [f"{flag} {column!r}" for flag, column in named if column and column not in columns]
    if missing:
        raise ConfigError(
            f"not in the source's columns: {', '.join(missing)}",
            hint=f"the columns are: {', '.join(columns[:20])}",
        )
