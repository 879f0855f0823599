"""``PushConfig``: everything one push run needs, a frozen value checked before any I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ghlsync.errors import ConfigError
from ghlsync.mapping import ContactMappingSpec

Mode = Literal["full_refresh", "incremental_append", "incremental_dedup"]
MODES: tuple[str, ...] = ("full_refresh", "incremental_append", "incremental_dedup")
MirrorMode = Literal["untag", "delete"]
Duplicates = Literal["auto", "allowed", "refused"]


@dataclass(frozen=True)
class PushConfig:
    """One ``ghlsync push`` run. ``source`` is what ``--from`` takes (a path, ``-``, or a
    database URL with ``query``/``table``); see ``docs/push.md`` for every option."""

    source: str
    mapping: ContactMappingSpec = field(default_factory=ContactMappingSpec)
    locations: tuple[str, ...] = ()
    location_column: str | None = None
    mode: Mode = "full_refresh"
    cursor: str | None = None
    primary_key: tuple[str, ...] = ()
    mirror: MirrorMode | None = None
    max_delete_pct: float = 10.0
    reserve: float = 0.10
    dry_run: bool = False
    rejects: str | None = None
    sync: str = "default"
    managed_tag: str | None = None
    default_region: str | None = None
    force: bool = False
    duplicates: Duplicates = "auto"
    query: str | None = None
    table: str | None = None
    fmt: str | None = None
    batch_size: int = 2_000
    concurrency: int = 8
    index_lag_s: float = 5.0
    #: the ``--config`` connection (``ghlsync.client.session.Connection`` keys)
    connection: dict[str, Any] | None = field(default=None, repr=False)
    #: location id -> Private Integration token; ``token``: the ``--token`` flag
    tokens: dict[str, str] = field(default_factory=dict, repr=False)
    token: str | None = field(default=None, repr=False)
    base_url: str | None = None
    rate_limit: bool = True
    sample_size: int = 5

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(problems), hint="see `ghlsync push --help`")

    def problems(self) -> list[str]:
        found: list[str] = []
        if self.mode not in MODES:
            found.append(f"--mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.mode == "incremental_append" and not self.cursor:
            found.append("--mode incremental_append needs --cursor COLUMN")
        if self.mode == "incremental_dedup" and not self.primary_key:
            found.append("--mode incremental_dedup needs --primary-key COLUMN")
        if self.mirror is not None and self.mode != "full_refresh":
            found.append("--mirror needs --mode full_refresh (only a full read shows what is gone)")
        if self.mirror not in (None, "untag", "delete"):
            found.append(f"--mirror {self.mirror!r}: use untag or delete")
        if not self.locations and not self.location_column and not self.connection:
            found.append("no destination: pass --location ID (repeatable) or --location-column")
        if not 0 <= self.max_delete_pct <= 100:
            found.append("--max-delete-pct must be within 0..100")
        if not 0 <= self.reserve < 1:
            found.append("--reserve must be a fraction within 0..1 (0.1 = 10%)")
        if self.batch_size < 1 or self.concurrency < 1:
            found.append("--batch-size and --concurrency must be positive")
        if not self.sync.strip():
            found.append("--sync must not be empty")
        if self.duplicates not in ("auto", "allowed", "refused"):
            found.append("--duplicates must be auto, allowed or refused")
        return found

    @property
    def tag(self) -> str | None:
        """The sync's managed tag (every contact it writes carries it; ``--mirror untag``
        removes it): ``--managed-tag``, else ``ghlsync-<sync>`` when mirroring, else none."""
        if self.managed_tag:
            return self.managed_tag
        return f"ghlsync-{self.sync}" if self.mirror is not None else None
