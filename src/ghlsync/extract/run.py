"""``run_extract``: a dlt pipeline from a ``--to`` URL, the source, and a report.

| ``--to`` | dlt destination |
| --- | --- |
| ``duckdb:///rel.duckdb`` (default ``./ghlsync.duckdb``), ``duckdb:////abs/x.duckdb`` | ``duckdb`` |
| ``postgres://user@host:5432/db`` (or ``postgresql://``) | ``postgres`` |
| ``parquet:///abs/dir``, ``parquet://rel/dir`` | ``filesystem`` with Parquet files (append only: merge needs a table format) |
| ``delta:///abs/dir``, ``delta://rel/dir`` | ``filesystem`` with Delta tables (merge: upsert) |
| ``bigquery://[project][?location=EU]`` | ``bigquery`` (credentials from dlt's config / env) |
| ``snowflake://user[:password]@account/database[?warehouse=..&role=..]`` | ``snowflake`` |
| ``dlt:<name>`` (e.g. ``dlt:motherduck``) | any dlt destination, configured the dlt way |

Relative paths are made absolute against the current directory here, before dlt sees them: dlt
would otherwise resolve them against the pipeline's working dir of its first run.

``--full-refresh`` re-reads the selected streams of the chosen locations from scratch (their
bookmarks are ignored and replaced) and, once that load is committed, deletes the rows of those
locations in those tables that the re-read did not bring (``_dlt_load_id`` older than this run):
records deleted upstream disappear, and other locations, other streams and their bookmarks are
left alone. A crash before the load deletes nothing. SQL destinations delete with SQL, Delta
tables with deltalake; plain Parquet files cannot delete (a warning says so).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import dlt

from ghlsync.client.session import RunSession, open_session
from ghlsync.config import Settings
from ghlsync.errors import ConfigError, GHLSyncError
from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.engine import Report
from ghlsync.extract.failures import DestinationError, ExtractFailed
from ghlsync.extract.source import highlevel_source
from ghlsync.extract.streams import select

__all__ = [
    "DEFAULT_TO",
    "Destination",
    "DestinationError",
    "ExtractFailed",
    "ExtractResult",
    "destination_for",
    "pipeline_name_for",
    "run_extract",
]

DEFAULT_TO = "duckdb:///ghlsync.duckdb"
SCHEMES = "duckdb:///file.duckdb, postgres://user@host/db, parquet:///dir, delta:///dir, bigquery://project, snowflake://user@account/db or dlt:<destination>"


@dataclass
class Destination:
    #: the URL as shown (password removed)
    url: str
    kind: str
    destination: Any
    loader_file_format: str | None = None
    #: normalised URL (absolute paths, no password): names the pipeline, so its bookmarks
    identity: str = ""
    table_format: str | None = None
    #: the destination runs SQL (so ``--full-refresh`` can delete what the re-read did not bring)
    sql: bool = True
    #: the local file or directory, if any
    path: Path | None = None

    def check(self) -> None:
        """Refuse a local path that cannot work, before dlt tries (and prints a traceback)."""
        if self.path is None:
            return
        if self.kind == "duckdb":
            if not self.path.parent.is_dir():
                raise ConfigError(
                    f"directory {self.path.parent} does not exist (for {self.url})",
                    hint="create it, or point --to at an existing directory",
                )
            if self.path.is_dir():
                raise ConfigError(f"{self.path} is a directory", hint="name a file: x.duckdb")
        elif self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"{self.path} is not a directory (for {self.url})")


def redact(url: str) -> str:
    """``url`` without its password (for summaries, errors and pipeline names)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _local_path(url: str, scheme: str, example: str) -> Path:
    """The path of ``duckdb:///rel`` / ``duckdb:////abs`` (SQLAlchemy's style), made absolute."""
    rest = url.split("://", 1)[1] if "://" in url else url.split(":", 1)[1]
    # SQLAlchemy's convention: three slashes then a relative path, four for an absolute one
    if rest.startswith("//"):
        path = "/" + rest.lstrip("/")
    elif rest.startswith("/"):
        path = rest[1:]
    else:
        path = rest
    if not path:
        raise ConfigError(f"no path in {url}", hint=f"e.g. {example}")
    return Path(os.path.abspath(Path(path).expanduser()))


def destination_for(url: str) -> Destination:
    """Map a ``--to`` URL to a dlt destination (no connection is made here)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if url.startswith("dlt:"):
        return _dlt_named(url)
    if scheme == "duckdb":
        path = _local_path(url, scheme, "duckdb:///ghlsync.duckdb")
        return Destination(
            url,
            "duckdb",
            dlt.destinations.duckdb(str(path)),
            loader_file_format="parquet",
            identity=f"duckdb://{path}",
            path=path,
        )
    if scheme in {"postgres", "postgresql"}:
        from dlt.destinations.impl.postgres.configuration import PostgresCredentials

        if not parts.hostname or not parts.path.strip("/"):
            raise ConfigError(
                f"incomplete PostgreSQL URL {redact(url)}", hint="postgres://user@host:5432/db"
            )
        credentials = PostgresCredentials(url.replace("postgres://", "postgresql://", 1))
        if credentials.password is None:
            credentials.password = ""  # trust / peer / .pgpass auth: dlt would ask for one
            credentials.resolve()
        shown = redact(url)
        return Destination(
            shown,
            "postgres",
            dlt.destinations.postgres(credentials=credentials),
            identity=shown.replace("postgresql://", "postgres://", 1),
        )
    if scheme in {"parquet", "delta"}:
        # parquet:///abs/dir or parquet://rel/dir (a URL's host part is the relative start)
        rest = parts.netloc + parts.path
        if not rest:
            raise ConfigError(f"no directory in {url}", hint=f"e.g. {scheme}:///tmp/ghl")
        directory = Path(os.path.abspath(Path(rest).expanduser()))
        delta = scheme == "delta"
        if delta:
            try:
                import deltalake  # noqa: F401
            except ImportError as error:
                raise ConfigError(
                    "delta:// needs the deltalake package", hint="pip install 'ghlsync[delta]'"
                ) from error
        return Destination(
            url,
            "filesystem",
            dlt.destinations.filesystem(bucket_url=directory.as_uri()),
            loader_file_format="parquet",
            identity=f"{scheme}://{directory}",
            table_format="delta" if delta else None,
            sql=False,
            path=directory,
        )
    if scheme == "bigquery":
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        kwargs: dict[str, Any] = {}
        if query.get("location"):
            kwargs["location"] = query["location"]
        if parts.netloc:
            from dlt.common.configuration.specs import GcpServiceAccountCredentials

            gcp = GcpServiceAccountCredentials()
            gcp.project_id = parts.netloc
            kwargs["credentials"] = gcp
        return Destination(url, "bigquery", dlt.destinations.bigquery(**kwargs), identity=url)
    if scheme == "snowflake":
        if not parts.hostname:
            raise ConfigError(
                f"incomplete Snowflake URL {redact(url)}",
                hint="snowflake://user@account/database?warehouse=WH&role=ROLE",
            )
        shown = redact(url)
        return Destination(
            shown, "snowflake", dlt.destinations.snowflake(credentials=url), identity=shown
        )
    raise ConfigError(f"unsupported destination {redact(url)!r}", hint=f"use {SCHEMES}")


def _dlt_named(url: str) -> Destination:
    """``dlt:<name>``: any destination dlt knows, configured through dlt's config and env."""
    from dlt.common.destination import Destination as DltDestination

    name = url.split(":", 1)[1].strip()
    if not name:
        raise ConfigError("no destination name in dlt:", hint="e.g. dlt:motherduck")
    try:
        destination = DltDestination.from_reference(name)
    except Exception as error:  # dlt raises several unrelated types for an unknown name
        raise ConfigError(
            f"dlt has no destination {name!r}: {type(error).__name__}",
            hint="see https://dlthub.com/docs/dlt-ecosystem/destinations/",
        ) from None
    kind = str(getattr(destination, "destination_type", name)).rsplit(".", 1)[-1]
    return Destination(url, kind, destination, identity=url, sql=kind != "filesystem")


@dataclass
class ExtractResult:
    report: Report
    seconds: float
    pipeline_name: str
    dataset: str
    destination: str
    load_info: Any = None
    #: rows deleted by ``--full-refresh`` per table (those its re-read did not bring)
    refreshed: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.ok

    def to_dict(self) -> dict[str, Any]:
        out = {
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "pipeline": self.pipeline_name,
            "dataset": self.dataset,
            "destination": self.destination,
            "totals": self.report.totals(),
            **self.report.to_dict(),
        }
        if self.refreshed:
            out["full_refresh_deleted"] = dict(self.refreshed)
        return out


def pipeline_name_for(url: str, dataset: str) -> str:
    """One dlt pipeline (and so one set of bookmarks) per destination and dataset.

    ``url`` should be ``Destination.identity`` (absolute paths) so that the same file reached
    from two directories is one pipeline.
    """
    digest = hashlib.sha256(f"{url}|{dataset}".encode()).hexdigest()[:10]
    return f"ghlsync_{digest}"


Phase = Callable[[str], None]


def run_extract(
    config: ExtractConfig,
    *,
    to: str = DEFAULT_TO,
    dataset: str = "highlevel",
    full_refresh: bool = False,
    pipelines_dir: str | None = None,
    pipeline_name: str | None = None,
    report: Report | None = None,
    on_phase: Phase | None = None,
    keep_staging: bool = False,
    session: RunSession | None = None,
) -> ExtractResult:
    """Extract ``config``'s locations into ``to``; bookmarks live in dlt's state of the pipeline.

    ``on_phase`` hears each dlt step ("loading 1234 rows into duckdb"). The merge's staging
    tables (``<dataset>_staging``) are emptied after each load unless ``keep_staging``.
    Raises ``ConfigError``
    for a bad URL or config, ``DestinationError`` when dlt's sync/normalize/load step fails
    (destination unreachable, refused) and ``ExtractFailed`` when reading fails as a whole; a
    failing location is reported in ``report``, never raised. ``session``: the run session of
    ``config.connection`` (``open_session``); by default one from ``Settings.from_env()``,
    closed at the end.
    """
    from dlt.pipeline.exceptions import PipelineStepFailed

    destination = destination_for(to)
    destination.check()
    owned = session is None
    session = session or open_session(Settings.from_env(), config.connection)
    if config.installed:  # --installed: the session asks HighLevel where the app is installed
        config = config.with_locations(_discovered(session, config, owned))
    if destination.kind == "filesystem" and destination.path is not None:
        destination.path.mkdir(parents=True, exist_ok=True)
    # Arrow pages get dlt's _dlt_load_id too: tables made from dict pages require it, and
    # --full-refresh tells re-read rows from stale ones by it
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    # without this the staging dataset keeps a second copy of every merged row after each run
    os.environ["LOAD__TRUNCATE_STAGING_DATASET"] = "false" if keep_staging else "true"
    name = pipeline_name or pipeline_name_for(destination.identity, dataset)
    the_report = report if report is not None else Report()
    phase = on_phase or (lambda _text: None)
    pipeline_kwargs: dict[str, Any] = {}
    if pipelines_dir is not None:
        pipeline_kwargs["pipelines_dir"] = pipelines_dir
    pipeline = dlt.pipeline(
        pipeline_name=name,
        destination=destination.destination,
        dataset_name=dataset,
        **pipeline_kwargs,
    )
    source = highlevel_source(config, full_refresh=full_refresh, report=the_report, session=session)
    if destination.table_format == "delta":
        for resource in source.resources.values():
            # Delta tables merge by upsert (dlt's delete-insert is for SQL destinations)
            resource.apply_hints(
                write_disposition={"disposition": "merge", "strategy": "upsert"},
                table_format="delta",
            )
    started = time.monotonic()
    refreshed: dict[str, int] = {}
    step = "connect"
    try:
        if pipeline.config.restore_from_destination:
            phase(f"reading state from {destination.kind}")
            pipeline.sync_destination()
        if pipeline.has_pending_data:
            # a previous run was interrupted after extracting: its data goes in first
            phase("loading the pending package of an interrupted run")
            step = "pending"
            if pipeline.list_extracted_load_packages():
                pipeline.normalize()
            pipeline.load()
        step = "extract"
        phase("extracting")
        pipeline.extract(source, loader_file_format=destination.loader_file_format)
        step = "normalize"
        records = sum(r.records + r.deleted for r in the_report.results.values())
        phase(f"normalizing {records} records")
        normalized = pipeline.normalize()
        rows = _rows(normalized)
        step = "load"
        phase(f"loading {rows} rows into {destination.kind}")
        info = pipeline.load()
        if full_refresh:
            step = "full refresh"
            phase("deleting rows the full re-read did not bring")
            refreshed = _sweep(pipeline, destination, info, config, the_report)
    except PipelineStepFailed as error:
        if error.step == "extract":  # reading failed outside the per-location guard: not the
            raise ExtractFailed(  # destination's fault
                f"extract failed: {_root_cause(error)}",
                hint="nothing was loaded and bookmarks did not advance; rerun, or report it",
            ) from None
        raise DestinationError(
            f"{destination.kind} at {destination.url}: dlt's {error.step} step failed: "
            f"{_root_cause(error)}",
            hint="check that the destination is reachable and its credentials; "
            "bookmarks did not advance, so a rerun loses nothing",
        ) from None
    except GHLSyncError:
        raise
    except Exception as error:  # anything else from dlt or a driver outside its steps
        raise DestinationError(
            f"{destination.kind} at {destination.url}: {step} failed: {_root_cause(error)}",
            hint="check that the destination is reachable and its credentials",
        ) from None
    finally:
        if owned:
            session.close()
    return ExtractResult(
        the_report,
        time.monotonic() - started,
        name,
        dataset,
        destination.url,
        load_info=info,
        refreshed=refreshed,
    )


def _discovered(session: RunSession, config: ExtractConfig, owned: bool) -> list[str]:
    """The agency app's locations plus the listed ones (the session closed if this fails)."""
    import asyncio

    try:
        return asyncio.run(session.locations(config.locations))
    except BaseException:
        if owned:
            session.close()
        raise


def _rows(normalized: Any) -> int:
    counts = getattr(normalized, "row_counts", None) or {}
    return sum(n for table, n in counts.items() if not str(table).startswith("_dlt"))


def _root_cause(error: BaseException) -> str:
    """The innermost exception's type and first line (no traceback, no URL with a password)."""
    inner: BaseException = error
    seen = 0
    while seen < 20:
        nxt = inner.__cause__ or inner.__context__
        if nxt is None:
            break
        inner, seen = nxt, seen + 1
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else ""
    return f"{type(inner).__name__}: {_scrub(text)[:300]}"


def _scrub(text: str) -> str:
    """Remove ``user:password@`` from any URL in ``text``."""
    import re

    return re.sub(r"(//[^/:@\s]+):[^@\s]+@", r"\1:***@", text)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _refreshed_targets(
    pipeline: Any, config: ExtractConfig, report: Report
) -> dict[str, list[str]]:
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


def _stale_where(locations: list[str], load_ids: list[str]) -> str:
    where = f"location_id IN ({', '.join(_quote(loc) for loc in locations)})"
    if load_ids:
        where += f" AND _dlt_load_id NOT IN ({', '.join(_quote(i) for i in load_ids)})"
    return where


def _sweep(
    pipeline: Any, destination: Destination, info: Any, config: ExtractConfig, report: Report
) -> dict[str, int]:
    """Delete rows of the refreshed (stream, location)s that this run's load did not write."""
    load_ids = [str(i) for i in (getattr(info, "loads_ids", None) or [])]
    targets = _refreshed_targets(pipeline, config, report)
    if destination.table_format == "delta" and destination.path is not None:
        return _sweep_delta(destination.path / pipeline.dataset_name, pipeline, targets, load_ids)
    if not destination.sql:
        report.warnings.append(
            f"--full-refresh on {destination.kind} files: records deleted upstream stay "
            "(plain files cannot delete rows); the selected streams were re-read in full"
        )
        return {}
    schema = pipeline.default_schema
    deleted: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for stream, locations in targets.items():
            table = client.make_qualified_table_name(stream)
            where = _stale_where(locations, load_ids)
            stale = f"SELECT _dlt_id FROM {table} WHERE {where}"  # noqa: S608 - quoted above
            rows = client.execute_sql(f"SELECT count(*) FROM {table} WHERE {where}")  # noqa: S608
            count = int(rows[0][0]) if rows else 0
            if not count:
                continue
            for child in _children(schema, stream):
                child_table = client.make_qualified_table_name(child)
                client.execute_sql(
                    f"DELETE FROM {child_table} WHERE _dlt_root_id IN ({stale})"  # noqa: S608
                )
            client.execute_sql(f"DELETE FROM {table} WHERE {where}")  # noqa: S608
            deleted[stream] = count
    return deleted


def _sweep_delta(
    root: Path, pipeline: Any, targets: dict[str, list[str]], load_ids: list[str]
) -> dict[str, int]:
    """The same sweep on Delta tables (``dataset/table`` directories), with deltalake."""
    from deltalake import DeltaTable

    deleted: dict[str, int] = {}
    for stream, locations in targets.items():
        path = root / stream
        if not (path / "_delta_log").is_dir():
            continue
        where = _stale_where(locations, load_ids)
        children = [c for c in _children(pipeline.default_schema, stream)]
        if children:
            stale = (
                DeltaTable(str(path))
                .to_pyarrow_table(columns=["_dlt_id", "location_id", "_dlt_load_id"])
                .to_pylist()
            )
            ids = [
                r["_dlt_id"]
                for r in stale
                if r["location_id"] in locations and r["_dlt_load_id"] not in load_ids
            ]
            for child in children:
                if ids and (root / child / "_delta_log").is_dir():
                    DeltaTable(str(root / child)).delete(
                        f"_dlt_root_id IN ({', '.join(_quote(i) for i in ids)})"
                    )
        metrics = DeltaTable(str(path)).delete(where)
        count = int(metrics.get("num_deleted_rows") or 0)
        if count:
            deleted[stream] = count
    return deleted


def _children(schema: Any, root: str) -> Iterable[str]:
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
