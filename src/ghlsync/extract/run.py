"""``run_extract``: a run from a ``--to`` URL, the reading (``rounds``), and a report.

A ``duckdb:///`` file is loaded by ghlsync (``duckdb_sink``: a transaction per round, dlt not
imported); every other ``--to`` URL is mapped to a dlt destination in ``destinations`` and
loaded by a dlt pipeline, a package per round, with the full refresh's sweep in ``sweep``.

``--full-refresh`` re-reads the selected streams of the chosen locations from scratch (their
bookmarks are ignored and replaced) and, once that load is committed, deletes the rows of those
locations in those tables that the re-read did not bring (loaded before this run's packages):
records deleted upstream disappear, and other locations, other streams and their bookmarks are
left alone. A crash before the load deletes nothing. SQL destinations delete with SQL, Delta
tables with deltalake; plain Parquet files cannot delete (a warning says so).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ghlsync.client.session import RunSession, open_session
from ghlsync.config import Settings
from ghlsync.errors import ConfigError, GHLSyncError
from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.destinations import (
    DEFAULT_TO,
    Destination,
    check_url,
    destination_for,
    duckdb_file,
    redact,
)
from ghlsync.extract.engine import ReadOptions, Report
from ghlsync.extract.failures import DestinationError, ExtractFailed, PipelineLocked
from ghlsync.extract.lock import hold
from ghlsync.extract.naming import default_pipelines_dir, snake_case
from ghlsync.extract.recovery import recover
from ghlsync.extract.rounds import Feed, Part, round_source
from ghlsync.extract.streams import select
from ghlsync.extract.sweep import SweepRefused, sweep

if TYPE_CHECKING:
    from ghlsync.extract.duckdb_sink import DuckDBSink

__all__ = [
    "DEFAULT_TO",
    "Destination",
    "DestinationError",
    "ExtractFailed",
    "ExtractResult",
    "PipelineLocked",
    "SweepRefused",
    "destination_for",
    "pipeline_name_for",
    "run_extract",
]


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
    (destination unreachable, refused), ``ExtractFailed`` when reading fails as a whole and
    ``PipelineLocked`` when another run holds the pipeline (``lock``); a failing location is
    reported in ``report``, never raised. What a killed run left in the pipeline's working dir
    is recovered or discarded first (``recovery``), one warning line each. ``session``: the run
    session of ``config.connection`` (``open_session``); by default one from
    ``Settings.from_env()``, closed at the end.
    """
    check_url(to)  # a --to that cannot work is refused before any request
    owned = session is None
    session = session or open_session(Settings.from_env(), config.connection)
    the_report = report if report is not None else Report()
    feed: Feed | None = None
    try:
        if config.installed:  # --installed: the session asks HighLevel where the app is installed
            config = config.with_locations(_discovered(session, config))
        # reading starts now (custom field definitions); the destination is imported and
        # opened once those are answered, and the streams follow once the bookmarks are known
        feed = _feed(config, full_refresh, the_report, session)
        feed.wait_primed()
        database = duckdb_file(to)
        if database is not None:
            return _extract_duckdb(
                config,
                feed,
                the_report,
                database=database,
                dataset=dataset,
                full_refresh=full_refresh,
                pipelines_dir=pipelines_dir,
                pipeline_name=pipeline_name,
                phase=on_phase or (lambda _: None),
            )
        return _extract(
            config,
            feed,
            session,
            the_report,
            to=to,
            dataset=dataset,
            full_refresh=full_refresh,
            pipelines_dir=pipelines_dir,
            pipeline_name=pipeline_name,
            phase=on_phase or (lambda _: None),
            keep_staging=keep_staging,
        )
    finally:
        if feed is not None:
            feed.close()
        if owned:
            session.close()


def _extract(
    config: ExtractConfig,
    feed: Feed,
    session: RunSession,
    the_report: Report,
    *,
    to: str,
    dataset: str,
    full_refresh: bool,
    pipelines_dir: str | None,
    pipeline_name: str | None,
    phase: Phase,
    keep_staging: bool,
) -> ExtractResult:
    """``run_extract`` once reading has started: the destination, the lock, the pipeline."""
    import dlt
    from dlt.common.pipeline import get_dlt_pipelines_dir

    destination = destination_for(to)
    if destination.kind == "filesystem" and destination.path is not None:
        try:
            destination.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"cannot create {destination.path} for {to}: {error.strerror or error}",
                hint="point --to at a directory you can write (parquet:///path/to/dir)",
            ) from None
    _dlt_settings()
    # without this the staging dataset keeps a second copy of every merged row after each run
    os.environ["LOAD__TRUNCATE_STAGING_DATASET"] = "false" if keep_staging else "true"
    name = pipeline_name or pipeline_name_for(destination.identity, dataset)
    directory = Path(pipelines_dir if pipelines_dir is not None else get_dlt_pipelines_dir())
    # one run per pipeline: the lock is taken before dlt opens the working dir, and what a
    # killed run left there is recovered or discarded under it
    with hold(directory, name, postgres_dsn=destination.lock_dsn, dataset=dataset):
        the_report.warnings.extend(recover(directory / name))
        if destination.kind == "filesystem" and destination.table_format != "delta":
            the_report.warnings.append(
                f"{to}: Parquet files are append-only: rows this run re-reads (the overlap"
                " window, changed records) are added again; keep the latest _dlt_load_id"
                " per id, or use delta:///dir"
            )
        pipeline = dlt.pipeline(
            pipeline_name=name,
            destination=destination.destination,
            dataset_name=dataset,
            pipelines_dir=str(directory),
        )
        return _run(pipeline, destination, config, feed, full_refresh, the_report, phase)


def _extract_duckdb(
    config: ExtractConfig,
    feed: Feed,
    the_report: Report,
    *,
    database: Path,
    dataset: str,
    full_refresh: bool,
    pipelines_dir: str | None,
    pipeline_name: str | None,
    phase: Phase,
) -> ExtractResult:
    """``run_extract`` into a DuckDB file, loaded by ``duckdb_sink`` (no dlt): the lock, what
    a dlt pipeline left (``_from_dlt``), then a transaction per round."""
    from ghlsync.extract.duckdb_sink import ROUND_ROWS, DuckDBSink

    url = redact(f"duckdb:///{database}")
    name = pipeline_name or pipeline_name_for(f"duckdb://{database}", dataset)
    directory = Path(pipelines_dir) if pipelines_dir is not None else default_pipelines_dir()
    started = time.monotonic()
    with hold(directory, name, postgres_dsn=None, dataset=dataset):
        the_report.warnings.extend(recover(directory / name))
        # the schema is named as dlt names it (``--dataset "My Data"`` is ``my_data``)
        sink = DuckDBSink.open(database, snake_case(dataset), url)
        own: list[str] = []
        refreshed: dict[str, int] = {}
        step = "connect"
        try:
            if _dlt_left_work(directory / name) or (not sink.has_state and sink.has_dlt_state):
                step = "pending"
                phase("loading what an earlier dlt run left")
                _from_dlt(sink, directory, name)
            step = "extract"
            phase("extracting")
            feed.begin(_resources(sink), sink.stored())

            def load(parts: dict[str, Part]) -> None:
                nonlocal step
                step = "load"
                phase(f"loading {sum(part.rows for part in parts.values())} rows into duckdb")
                loaded = sink.load(feed.streams, parts)
                if loaded is not None:
                    own.append(loaded[0])
                    if feed.idle:  # the reader is paced: checkpoint now, not at the end
                        sink.checkpoint()

            _each_round(feed, load, ROUND_ROWS)
            if full_refresh:
                step = "full refresh"
                phase("deleting rows the full re-read did not bring")
                refreshed = sink.sweep(_refresh_targets(sink, config, the_report), own)
            if own:
                step = "checkpoint"
                phase("writing the duckdb file")
                sink.finish()
        except GHLSyncError:
            raise
        except Exception as error:  # DuckDB refused a statement (disk full, a bad cast...)
            raise DestinationError(
                f"duckdb at {url}: {step} failed: {_root_cause(error)}",
                hint="what earlier rounds loaded stays, with its bookmarks; a rerun reads the rest",
            ) from None
        finally:
            sink.close()
    return ExtractResult(
        the_report, time.monotonic() - started, name, dataset, url, refreshed=refreshed
    )


def _resources(sink: DuckDBSink) -> dict[str, Any]:
    return {name: dict(state) for name, state in sink.resources.items()}


def _refresh_targets(
    sink: DuckDBSink, config: ExtractConfig, report: Report
) -> dict[str, list[str]]:
    """Per table, the locations whose full re-read of its stream completed."""
    targets: dict[str, list[str]] = {}
    for stream in select(config.streams):
        done = [
            loc
            for loc in config.locations
            if (loc, stream.name) in report.results
            and report.results[loc, stream.name].status == "ok"
        ]
        tables = [stream.name]
        if stream.table_of is not None:
            tables = list((sink.resources.get(stream.name) or {}).get("tables") or [])
        for table in tables:
            if done and table in sink.tables:
                targets[table] = done
    return targets


def _dlt_left_work(working: Path) -> bool:
    """Whether a dlt pipeline's working dir holds a package not yet loaded."""
    for folder in ("normalize/extracted", "load/normalized", "load/new"):
        path = working / folder
        if path.is_dir() and any(path.iterdir()):
            return True
    return False


def _from_dlt(sink: DuckDBSink, directory: Path, name: str) -> None:
    """What a dlt pipeline of this warehouse left: its pending packages are loaded, and, the
    first time, its bookmarks become ghlsync's (``_ghlsync_state``). Imports dlt; only a
    warehouse dlt wrote, or a killed dlt run, comes here."""
    import dlt

    _dlt_settings()
    pipeline = dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(sink.connection),
        dataset_name=sink.dataset,
        pipelines_dir=str(directory),
    )
    _sync_state(pipeline, "duckdb", lambda _: None)
    _load_pending(pipeline, lambda _: None)
    if not sink.has_state:
        sink.write_state(_bookmarks(pipeline)[0])
    sink.reload()  # what dlt made meanwhile (tables, columns, the copied bookmarks)


def _dlt_settings() -> None:
    """dlt's settings for our runs, unless the user set them."""
    # Arrow pages get dlt's _dlt_load_id too: tables made from dict pages require it, and
    # --full-refresh tells re-read rows from stale ones by it
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    # dlt's own log lines ("|[WARNING]|... Falling back to `append`") are not for our users:
    # what matters of them is said once, in the report (RUNTIME__LOG_LEVEL still wins)
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")


def _sync_state(pipeline: Any, kind: str, phase: Phase) -> None:
    """The pipeline's state (bookmarks, schema) from the destination, where dlt keeps it."""
    if pipeline.config.restore_from_destination:
        phase(f"reading state from {kind}")
        pipeline.sync_destination()


def _load_pending(pipeline: Any, phase: Phase) -> None:
    """Load first what an interrupted run extracted or normalized and did not load."""
    if pipeline.has_pending_data:
        phase("loading the pending package of an interrupted run")
        if pipeline.list_extracted_load_packages():
            pipeline.normalize()
        pipeline.load()


def _run(
    pipeline: Any,
    destination: Destination,
    config: ExtractConfig,
    feed: Feed,
    full_refresh: bool,
    the_report: Report,
    phase: Phase,
) -> ExtractResult:
    """Sync the state, load what is pending, extract, normalize, load, sweep (under the lock)."""
    from dlt.pipeline.exceptions import PipelineStepFailed

    started = time.monotonic()
    refreshed: dict[str, int] = {}
    own_load_ids: list[str] = []
    info: Any = None
    step = "connect"
    try:
        _sync_state(pipeline, destination.kind, phase)
        step = "pending"
        _load_pending(pipeline, phase)
        step = "extract"
        phase("extracting")
        feed.begin(*_bookmarks(pipeline))

        def load(parts: dict[str, Part]) -> None:
            nonlocal step, info
            step = "extract"
            source = round_source(feed.streams, parts)
            if destination.table_format == "delta":
                for resource in source.resources.values():
                    # Delta tables merge by upsert (dlt's delete-insert is for SQL)
                    resource.apply_hints(
                        write_disposition={"disposition": "merge", "strategy": "upsert"},
                        table_format="delta",
                    )
            extracted = pipeline.extract(source, loader_file_format=destination.loader_file_format)
            own_load_ids.extend(str(i) for i in extracted.loads_ids)
            step = "normalize"
            phase(f"normalizing {sum(part.rows for part in parts.values())} records")
            normalized = pipeline.normalize()
            step = "load"
            phase(f"loading {_rows(normalized)} rows into {destination.kind}")
            info = pipeline.load()

        _each_round(feed, load)
        if full_refresh:
            step = "full refresh"
            phase("deleting rows the full re-read did not bring")
            refreshed = sweep(pipeline, destination, own_load_ids, config, the_report)
    except PipelineStepFailed as error:
        if _signalled(error):  # Ctrl-C: dlt stopped the step at a safe point
            raise KeyboardInterrupt(error.step) from None
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
    return ExtractResult(
        the_report,
        time.monotonic() - started,
        pipeline.pipeline_name,
        pipeline.dataset_name,
        destination.url,
        load_info=info,
        refreshed=refreshed,
    )


def _bookmarks(pipeline: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The source's resource states (bookmarks) and stored tables (column types)."""
    sources = pipeline.state.get("sources") or {}
    state = (sources.get("highlevel") or {}).get("resources") or {}
    schema = pipeline.schemas.get("highlevel") if "highlevel" in pipeline.schemas else None
    stored = dict(schema.tables) if schema is not None else {}
    return state, stored


def _feed(config: ExtractConfig, full_refresh: bool, report: Report, session: RunSession) -> Feed:
    """The reading of this run, started (it waits for ``Feed.begin`` to read the streams)."""
    options = ReadOptions(
        overlap=config.overlap,
        start_date=config.start_date,
        full_refresh=full_refresh,
        page_size=config.page_size,
    )
    selected = select(config.streams)
    return Feed(selected, config.locations, options, report, session).start()


def _each_round(
    feed: Feed, load: Callable[[dict[str, Part]], None], rows: int | None = None
) -> None:
    """Hand ``feed``'s rounds (of ``rows`` rows, default ``rounds.PACKAGE_ROWS``) to ``load``
    one at a time, the collector paused while reading and run once per round; the feed is
    closed after (done or failed)."""
    try:
        with _collector_paused():
            while (parts := feed.next_round(rows)) is not None:
                load(parts)
                del parts
                gc.collect()
                gc.freeze()  # what survived is the run's own: not scanned again
    finally:
        feed.close()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while reading (it cost a fifth of the run,
    scanning the rows in flight again and again); the run collects once per package instead.
    What was imported before is frozen out of those collections."""
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


def _discovered(session: RunSession, config: ExtractConfig) -> list[str]:
    """The agency app's locations plus the listed ones."""
    import asyncio

    return asyncio.run(session.locations(config.locations))


def _signalled(error: BaseException) -> bool:
    """Whether dlt stopped a step because of SIGINT/SIGTERM (``SignalReceivedException``)."""
    inner: BaseException | None = error
    for _ in range(20):
        if inner is None:
            return False
        if type(inner).__name__ == "SignalReceivedException" or isinstance(
            inner, KeyboardInterrupt
        ):
            return True
        inner = inner.__cause__ or inner.__context__
    return False


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
