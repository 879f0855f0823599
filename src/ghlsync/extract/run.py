"""``run_extract``: a dlt pipeline from a ``--to`` URL, the source, and a report.

| ``--to`` | dlt destination |
| --- | --- |
| ``duckdb:///rel.duckdb`` (default ``./ghlsync.duckdb``), ``duckdb:////abs/x.duckdb`` | ``duckdb`` |
| ``postgres://user@host:5432/db`` (or ``postgresql://``) | ``postgres`` |
| ``parquet:///abs/dir``, ``parquet://rel/dir`` | ``filesystem`` with Parquet files (append only: merge needs a table format) |
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dlt

from ghlsync.errors import ConfigError
from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.engine import Report
from ghlsync.extract.source import highlevel_source

DEFAULT_TO = "duckdb:///ghlsync.duckdb"


@dataclass
class Destination:
    url: str
    kind: str
    destination: Any
    loader_file_format: str | None = None


def destination_for(url: str) -> Destination:
    """Map a ``--to`` URL to a dlt destination."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "duckdb":
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") and not path.startswith("//") else path
        path = "/" + path.lstrip("/") if path.startswith("/") else path
        if not path:
            raise ConfigError(f"no file in {url}", hint="e.g. duckdb:///./ghlsync.duckdb")
        return Destination(
            url, "duckdb", dlt.destinations.duckdb(str(Path(path))), loader_file_format="parquet"
        )
    if scheme in {"postgres", "postgresql"}:
        from dlt.destinations.impl.postgres.configuration import PostgresCredentials

        credentials = PostgresCredentials(url.replace("postgres://", "postgresql://", 1))
        if credentials.password is None:
            credentials.password = ""  # trust / peer / .pgpass auth: dlt would ask for one
            credentials.resolve()
        return Destination(url, "postgres", dlt.destinations.postgres(credentials=credentials))
    if scheme == "parquet":
        directory = parts.netloc + parts.path  # parquet:///abs/dir or parquet://rel/dir
        if not directory:
            raise ConfigError(f"no directory in {url}", hint="e.g. parquet:///tmp/ghl")
        Path(directory).mkdir(parents=True, exist_ok=True)
        return Destination(
            url,
            "filesystem",
            dlt.destinations.filesystem(bucket_url=Path(directory).resolve().as_uri()),
            loader_file_format="parquet",
        )
    raise ConfigError(
        f"unsupported destination {url!r}",
        hint="use duckdb:///file.duckdb, postgres://user@host/db or parquet:///dir",
    )


@dataclass
class ExtractResult:
    report: Report
    seconds: float
    pipeline_name: str
    dataset: str
    destination: str
    load_info: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "pipeline": self.pipeline_name,
            "dataset": self.dataset,
            "destination": self.destination,
            "totals": self.report.totals(),
            **self.report.to_dict(),
        }


def pipeline_name_for(url: str, dataset: str) -> str:
    """One dlt pipeline (and so one set of bookmarks) per destination and dataset."""
    digest = hashlib.sha256(f"{url}|{dataset}".encode()).hexdigest()[:10]
    return f"ghlsync_{digest}"


def run_extract(
    config: ExtractConfig,
    *,
    to: str = DEFAULT_TO,
    dataset: str = "highlevel",
    full_refresh: bool = False,
    pipelines_dir: str | None = None,
    pipeline_name: str | None = None,
    report: Report | None = None,
) -> ExtractResult:
    """Extract ``config``'s locations into ``to``; bookmarks live in dlt's state of the pipeline."""
    destination = destination_for(to)
    name = pipeline_name or pipeline_name_for(to, dataset)
    the_report = report if report is not None else Report()
    pipeline_kwargs: dict[str, Any] = {}
    if pipelines_dir is not None:
        pipeline_kwargs["pipelines_dir"] = pipelines_dir
    pipeline = dlt.pipeline(
        pipeline_name=name,
        destination=destination.destination,
        dataset_name=dataset,
        **pipeline_kwargs,
    )
    source = highlevel_source(config, full_refresh=full_refresh, report=the_report)
    started = time.monotonic()
    kwargs: dict[str, Any] = {}
    if destination.loader_file_format:
        kwargs["loader_file_format"] = destination.loader_file_format
    if full_refresh:
        kwargs["refresh"] = "drop_sources"
    info = pipeline.run(source, **kwargs)
    return ExtractResult(the_report, time.monotonic() - started, name, dataset, to, load_info=info)
