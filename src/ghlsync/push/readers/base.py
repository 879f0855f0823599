"""The reader interface: a source row and what every reader provides."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

Row = dict[str, Any]

DEFAULT_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One source row: its number (1-based, in source order), its values, and for a row that
    could not even be parsed (a CSV line with too many fields, a JSONL line that is not an
    object) the reason, with the raw text under ``values["_raw"]``."""

    number: int
    values: Row
    malformed: str | None = None


class Source(Protocol):
    """What push reads: the column names (empty when unknown until read) and batches."""

    name: str

    @property
    def columns(self) -> list[str]: ...

    def batches(self, size: int = DEFAULT_BATCH) -> Iterator[list[SourceRow]]: ...
