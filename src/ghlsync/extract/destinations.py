"""``--to`` URLs: which dlt destination, where, and the name that identifies it.

| ``--to`` | dlt destination |
| --- | --- |
| ``duckdb:///rel.duckdb`` (default ``./ghlsync.duckdb``), ``duckdb:////abs/x.duckdb`` | ``duckdb`` |
| ``postgres://user@host:5432/db`` (or ``postgresql://``) | ``postgres`` |
| ``parquet:///abs/dir``, ``parquet://rel/dir`` | ``filesystem`` with Parquet files (append only: merge needs a table format) |
| ``delta:///abs/dir``, ``delta://rel/dir`` | ``filesystem`` with Delta tables (merge: upsert) |
| ``bigquery://[project][?location=EU]`` | ``bigquery`` (credentials from dlt's config / env) |
| ``snowflake://user[:password]@account/database[?warehouse=..&role=..]`` | ``snowflake`` |
| ``dlt:<name>`` (e.g. ``dlt:motherduck``) | any dlt destination, configured the dlt way |

dlt is imported when a URL is mapped, not with this module. Relative paths are made absolute against the current directory here, before dlt sees them: dlt
would otherwise resolve them against the pipeline's working dir of its first run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from ghlsync.errors import ConfigError

__all__ = ["DEFAULT_TO", "SCHEMES", "Destination", "destination_for", "duckdb_file", "redact"]

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
    #: PostgreSQL: where to take the dataset's advisory lock (holds the password: never shown)
    lock_dsn: str | None = field(default=None, repr=False)


def check_url(url: str) -> None:
    """Refuse a ``--to`` URL that cannot work, with what can be known without dlt or a
    connection: its shape (``check_shape``) and a local path's directory. ``run_extract`` calls
    it before its first request."""
    check_shape(url)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "duckdb":
        path = _local_path(url, scheme, "duckdb:///ghlsync.duckdb")
        if not path.parent.is_dir():
            raise ConfigError(
                f"directory {path.parent} does not exist (for {url})",
                hint="create it, or point --to at an existing directory",
            )
        if path.is_dir():
            raise ConfigError(f"{path} is a directory", hint="name a file: x.duckdb")
    elif scheme in {"parquet", "delta"} and not url.startswith("dlt:"):
        directory = _directory(url)
        if directory.exists() and not directory.is_dir():
            raise ConfigError(f"{directory} is not a directory (for {url})")


def duckdb_file(url: str) -> Path | None:
    """The file of a ``duckdb:///`` URL (made absolute), else None; without dlt. ``ghlsync``
    loads these itself (``duckdb_sink``); ``dlt:duckdb`` goes through dlt."""
    if url.startswith("dlt:") or urlsplit(url).scheme.lower() != "duckdb":
        return None
    return _local_path(url, "duckdb", "duckdb:///ghlsync.duckdb")


def check_shape(url: str) -> None:
    """The scheme and the parts it needs (``destination_for`` checks this much too). A
    ``dlt:<name>`` is looked up in dlt's own list, which imports dlt."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if url.startswith("dlt:"):
        _dlt_named(url)
    elif scheme == "duckdb":
        _local_path(url, scheme, "duckdb:///ghlsync.duckdb")
    elif scheme in {"postgres", "postgresql"}:
        if not parts.hostname or not parts.path.strip("/"):
            raise ConfigError(
                f"incomplete PostgreSQL URL {redact(url)}", hint="postgres://user@host:5432/db"
            )
    elif scheme in {"parquet", "delta"}:
        _directory(url)
        if scheme == "delta":
            try:
                import deltalake  # noqa: F401
            except ImportError as error:
                raise ConfigError(
                    "delta:// needs the deltalake package", hint="pip install 'ghlsync[delta]'"
                ) from error
    elif scheme == "snowflake":
        if not parts.hostname:
            raise ConfigError(
                f"incomplete Snowflake URL {redact(url)}",
                hint="snowflake://user@account/database?warehouse=WH&role=ROLE",
            )
    elif scheme != "bigquery":
        raise ConfigError(f"unsupported destination {redact(url)!r}", hint=f"use {SCHEMES}")


def _directory(url: str) -> Path:
    """``parquet:///abs/dir`` or ``parquet://rel/dir`` (a URL's host part is the relative start)."""
    parts = urlsplit(url)
    rest = parts.netloc + parts.path
    if not rest:
        raise ConfigError(f"no directory in {url}", hint=f"e.g. {parts.scheme}:///tmp/ghl")
    return Path(os.path.abspath(Path(rest).expanduser()))


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
    """Map a ``--to`` URL to a dlt destination (no connection is made here; imports dlt)."""
    if url.startswith("dlt:"):
        return _dlt_named(url)
    check_shape(url)
    import dlt

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
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

        credentials = PostgresCredentials(url.replace("postgres://", "postgresql://", 1))
        if credentials.password is None:
            credentials.password = ""  # trust / peer / .pgpass auth: dlt would ask for one
            credentials.resolve()
        shown = redact(url)
        return Destination(
            shown,
            "postgres",
            dlt.destinations.postgres(credentials=credentials),
            # not dlt's CSV COPY for Arrow pages: it loads every quoted "" as NULL (its COPY
            # has FORCE_NULL on each nullable column), where DuckDB and Parquet keep "": the
            # same record would read differently per destination (issue 11)
            loader_file_format="insert_values",
            identity=shown.replace("postgresql://", "postgres://", 1),
            lock_dsn=credentials.to_native_representation(),
        )
    if scheme in {"parquet", "delta"}:
        directory = _directory(url)
        delta = scheme == "delta"
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
    # snowflake: the only scheme left once check_shape has passed
    shown = redact(url)
    return Destination(
        shown, "snowflake", dlt.destinations.snowflake(credentials=url), identity=shown
    )


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
