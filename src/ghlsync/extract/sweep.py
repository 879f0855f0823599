"""``--full-refresh``'s sweep: delete the rows a full re-read proved stale, and nothing else.

A full refresh re-reads (stream, location)s from scratch and loads them in this run's load
packages; afterwards the rows of those locations in those tables that the re-read did not bring
are stale (records deleted upstream) and go. The sweep deletes only what this run can prove it
replaced:

- every load package this run extracted must be committed in the destination (``_dlt_loads``,
  status 0; Delta: its ``_dlt_loads`` file), whoever loaded it: another run may have loaded it
  as a "pending" package. Otherwise nothing is deleted and ``SweepRefused`` says why.
- a row is stale when its ``_dlt_load_id`` is not this run's and its load was committed before
  this run's first package (or, for a package ``_dlt_loads`` does not know, was extracted
  before it). Rows a later load wrote (another run's, committed after this one's) stay.

Before this rule, a refresh whose own ``load()`` found nothing to load (another run had loaded
its package) deleted every row of its locations (issue 11).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.destinations import Destination
from ghlsync.extract.engine import Report
from ghlsync.extract.failures import DestinationError
from ghlsync.extract.streams import select

__all__ = ["SweepRefused", "stale_load_ids", "sweep"]


class SweepRefused(DestinationError):
    """The sweep cannot prove which rows this run replaced, so it deleted nothing."""


def _order(load_id: str) -> Decimal | None:
    """dlt's load ids are Unix timestamps as text (``"1764700000.123456"``): their order."""
    try:
        return Decimal(load_id)
    except InvalidOperation:
        return None


def stale_load_ids(
    found: Iterable[str], own: Sequence[str], committed: dict[str, Any]
) -> list[str]:
    """Which of the load ids ``found`` in a table are older than this run's loads ``own``.

    ``committed`` maps the load ids of ``_dlt_loads`` to when they were committed
    (``inserted_at``, comparable with each other). A found id is stale when it is not one of
    ``own`` and: it was committed before the first of ``own`` was; or ``_dlt_loads`` does not
    know it and it was extracted before the first of ``own`` (its id is smaller). Anything
    else (committed later, or an id that is not a timestamp) is kept: not provably replaced.

    >>> stale_load_ids(["1.0", "2.0", "3.0"], ["2.0"], {"1.0": 1, "2.0": 5, "3.0": 7})
    ['1.0']
    """
    own_set = set(own)
    if not own_set or not own_set.issubset(committed):
        return []
    own_committed = min(committed[i] for i in own_set)
    own_first = min((o for o in (_order(i) for i in own_set) if o is not None), default=None)
    stale = []
    for load_id in sorted(set(found) - own_set):
        if load_id in committed:
            if committed[load_id] < own_committed:
                stale.append(load_id)
            continue
        order = _order(load_id)
        if order is not None and own_first is not None and order < own_first:
            stale.append(load_id)
    return stale


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(values: Iterable[str]) -> str:
    return ", ".join(_quote(v) for v in values)


def refreshed_targets(pipeline: Any, config: ExtractConfig, report: Report) -> dict[str, list[str]]:
    """Per loaded stream table, the locations whose full re-read completed (``ok``)."""
    schema = pipeline.default_schema
    targets: dict[str, list[str]] = {}
    for stream in (s.name for s in select(config.streams)):
        if stream not in schema.tables:
            continue
        locations = [
            loc
            for loc in config.locations
            if (loc, stream) in report.results and report.results[loc, stream].status == "ok"
        ]
        if locations:
            targets[stream] = locations
    return targets


def _refuse(destination: Destination, own: Sequence[str], missing: Sequence[str]) -> SweepRefused:
    if not own:
        what = "this run extracted no load package"
    else:
        what = (
            f"this run's load package {', '.join(missing)} is not committed in the destination "
            "(another run may have discarded it)"
        )
    return SweepRefused(
        f"--full-refresh on {destination.kind} at {destination.url}: {what}, so the rows it "
        "replaced cannot be told from stale ones; nothing was deleted",
        hint="rerun with --full-refresh (the data loaded is kept; only the sweep was skipped)",
    )


def sweep(
    pipeline: Any,
    destination: Destination,
    own_load_ids: Sequence[str],
    config: ExtractConfig,
    report: Report,
) -> dict[str, int]:
    """Delete rows of the refreshed (stream, location)s older than this run's loads.

    Returns rows deleted per table; raises ``SweepRefused`` (deleting nothing) when this run's
    packages are not all committed in the destination.
    """
    own = [str(i) for i in own_load_ids]
    if not own:
        raise _refuse(destination, own, [])
    targets = refreshed_targets(pipeline, config, report)
    if destination.table_format == "delta" and destination.path is not None:
        return _sweep_delta(
            destination, destination.path / pipeline.dataset_name, pipeline, targets, own
        )
    if not destination.sql:
        report.warnings.append(
            f"--full-refresh on {destination.kind} files: records deleted upstream stay "
            "(plain files cannot delete rows); the selected streams were re-read in full"
        )
        return {}
    schema = pipeline.default_schema
    deleted: dict[str, int] = {}
    with pipeline.sql_client() as client:
        loads = client.make_qualified_table_name("_dlt_loads")
        rows = client.execute_sql(
            f"SELECT load_id, inserted_at FROM {loads} WHERE status = 0"  # noqa: S608
        )
        committed = {str(r[0]): r[1] for r in rows or []}
        missing = [i for i in own if i not in committed]
        if missing:
            raise _refuse(destination, own, missing)
        for stream, locations in targets.items():
            table = client.make_qualified_table_name(stream)
            in_locations = f"location_id IN ({_in(locations)})"
            found = client.execute_sql(
                f"SELECT DISTINCT _dlt_load_id FROM {table} WHERE {in_locations}"  # noqa: S608
            )
            stale = stale_load_ids((str(r[0]) for r in found or []), own, committed)
            if not stale:
                continue
            where = f"{in_locations} AND _dlt_load_id IN ({_in(stale)})"
            counted = client.execute_sql(f"SELECT count(*) FROM {table} WHERE {where}")  # noqa: S608
            count = int(counted[0][0]) if counted else 0
            if not count:
                continue
            stale_ids = f"SELECT _dlt_id FROM {table} WHERE {where}"  # noqa: S608 - quoted
            for child in children(schema, stream):
                child_table = client.make_qualified_table_name(child)
                client.execute_sql(
                    f"DELETE FROM {child_table} WHERE _dlt_root_id IN ({stale_ids})"  # noqa: S608
                )
            client.execute_sql(f"DELETE FROM {table} WHERE {where}")  # noqa: S608
            deleted[stream] = count
    return deleted


def _delta_committed(root: Path) -> dict[str, Any]:
    """Load ids committed to a filesystem dataset: its ``_dlt_loads/<schema>__<load_id>.*``
    files, ordered by their modification time."""
    committed: dict[str, Any] = {}
    loads = root / "_dlt_loads"
    if loads.is_dir():
        for path in loads.iterdir():
            # highlevel__1796241526.556602.jsonl: the load id is the two numbers after "__"
            load_id = ".".join(path.name.split("__", 1)[-1].split(".")[:2])
            committed[load_id] = path.stat().st_mtime_ns
    return committed


def _sweep_delta(
    destination: Destination,
    root: Path,
    pipeline: Any,
    targets: dict[str, list[str]],
    own: Sequence[str],
) -> dict[str, int]:
    """The same sweep on Delta tables (``dataset/table`` directories), with deltalake."""
    from deltalake import DeltaTable

    committed = _delta_committed(root)
    missing = [i for i in own if i not in committed]
    if missing:
        raise _refuse(destination, own, missing)
    deleted: dict[str, int] = {}
    for stream, locations in targets.items():
        path = root / stream
        if not (path / "_delta_log").is_dir():
            continue
        nested = list(children(pipeline.default_schema, stream))
        columns = ["location_id", "_dlt_load_id"] + (["_dlt_id"] if nested else [])
        rows = DeltaTable(str(path)).to_pyarrow_table(columns=columns).to_pylist()
        mine = [r for r in rows if r["location_id"] in locations]
        stale = set(stale_load_ids({str(r["_dlt_load_id"]) for r in mine}, own, committed))
        if not stale:
            continue
        where = f"location_id IN ({_in(locations)}) AND _dlt_load_id IN ({_in(sorted(stale))})"
        ids = [r["_dlt_id"] for r in mine if nested and str(r["_dlt_load_id"]) in stale]
        for child in nested:
            if ids and (root / child / "_delta_log").is_dir():
                DeltaTable(str(root / child)).delete(f"_dlt_root_id IN ({_in(ids)})")
        metrics = DeltaTable(str(path)).delete(where)
        count = int(metrics.get("num_deleted_rows") or 0)
        if count:
            deleted[stream] = count
    return deleted


def children(schema: Any, root: str) -> Iterable[str]:
    """Nested tables under ``root`` (deepest first), which hold ``_dlt_root_id``."""
    found: list[str] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for name, table in schema.tables.items():
            if table.get("parent") == parent:
                found.append(name)
                frontier.append(name)
    return reversed(found)
