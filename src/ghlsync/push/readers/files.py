"""File readers: CSV (sniffed), JSONL, Parquet; each yields batches of ``SourceRow``."""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ghlsync.errors import ConfigError
from ghlsync.push.readers.base import DEFAULT_BATCH, SourceRow

_SNIFF_BYTES = 256 * 1024
_DELIMITERS = ",;\t|"


def sniff_encoding(head: bytes) -> str:
    """``utf-8-sig`` (a BOM is dropped), UTF-16 when its BOM says so, else ``cp1252`` when the
    head is not UTF-8 (spreadsheets exported on Windows)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "cp1252"
    return "utf-8-sig"


def sniff_delimiter(sample: str) -> str:
    """The delimiter among ``, ; TAB |`` (csv.Sniffer, else the most frequent in the header)."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


class CsvSource:
    """A CSV file; every value is text (empty cells are ``""``)."""

    def __init__(self, path: Path, *, encoding: str | None = None, delimiter: str | None = None):
        self.path = path
        self.name = str(path)
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        if not head.strip():
            raise ConfigError(f"source {path} is empty", hint="the CSV needs a header row")
        self.encoding = encoding or sniff_encoding(head)
        text = head.decode(self.encoding, errors="replace")
        self.delimiter = delimiter or sniff_delimiter(text[:64_000])
        with path.open(encoding=self.encoding, newline="") as handle:
            header = next(csv.reader(handle, delimiter=self.delimiter), [])
        self._columns = [name.strip() for name in header]
        if not any(self._columns):
            raise ConfigError(f"source {path} has no header row")
        seen: set[str] = set()
        for name in self._columns:
            if name in seen:
                raise ConfigError(
                    f"source {path}: the column {name!r} appears twice in the header",
                    hint="rename one of the columns",
                )
            seen.add(name)

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def batches(self, size: int = DEFAULT_BATCH) -> Iterator[list[SourceRow]]:
        columns = self._columns
        width = len(columns)
        with self.path.open(encoding=self.encoding, newline="", errors="replace") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            next(reader, None)
            batch: list[SourceRow] = []
            number = 0
            for cells in reader:
                number += 1
                if not cells:
                    continue  # a blank line is no record
                if len(cells) == width:
                    batch.append(SourceRow(number, dict(zip(columns, cells, strict=True))))
                elif len(cells) < width:
                    padded = cells + [""] * (width - len(cells))
                    batch.append(SourceRow(number, dict(zip(columns, padded, strict=True))))
                else:
                    values: dict[str, Any] = dict(zip(columns, cells, strict=False))
                    values["_raw"] = self.delimiter.join(cells)
                    reason = f"{len(cells)} fields where the header has {width}"
                    batch.append(SourceRow(number, values, reason))
                if len(batch) >= size:
                    yield batch
                    batch = []
            if batch:
                yield batch


class JsonlSource:
    """One JSON object a line; a line that is not an object is a malformed row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        self._columns: list[str] | None = None

    @property
    def columns(self) -> list[str]:
        if self._columns is None:
            seen: dict[str, None] = {}
            for batch in self.batches(500):
                for row in batch:
                    if row.malformed is None:
                        seen.update(dict.fromkeys(row.values))
                break
            self._columns = list(seen)
        return list(self._columns)

    def batches(self, size: int = DEFAULT_BATCH) -> Iterator[list[SourceRow]]:
        decoder = json.JSONDecoder()
        with self.path.open(encoding="utf-8-sig", errors="replace") as handle:
            batch: list[SourceRow] = []
            for number, line in enumerate(handle, start=1):
                text = line.strip()
                if not text:
                    continue
                try:
                    value = decoder.decode(text)
                except ValueError:
                    batch.append(SourceRow(number, {"_raw": text}, "not valid JSON"))
                else:
                    if isinstance(value, dict):
                        batch.append(SourceRow(number, value))
                    else:
                        batch.append(SourceRow(number, {"_raw": text}, "not a JSON object"))
                if len(batch) >= size:
                    yield batch
                    batch = []
            if batch:
                yield batch


class ParquetSource:
    """A Parquet file read in record batches (never whole)."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.name = str(path)
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid / OSError
            raise ConfigError(
                f"source {path} is not a Parquet file ({type(exc).__name__})"
            ) from None
        self._columns = list(self._file.schema_arrow.names)

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def batches(self, size: int = DEFAULT_BATCH) -> Iterator[list[SourceRow]]:
        number = 0
        for record_batch in self._file.iter_batches(batch_size=size):
            rows = record_batch.to_pylist()
            out = []
            for values in rows:
                number += 1
                out.append(SourceRow(number, values))
            yield out
