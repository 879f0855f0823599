"""What a push did, per location: counts, rejects by reason, conflicts, budget."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Conflict:
    """An upsert or update where the email and the phone belong to two different contacts:
    HighLevel kept ``contact_id`` (matched by ``field``) and dropped the other value, which
    belongs to ``other_contact_id`` (GHL-NOTES §4, hl-docs#37)."""

    key: str
    row: int
    contact_id: str
    other_contact_id: str | None
    dropped: str


@dataclass
class LocationReport:
    location_id: str
    status: str = "ok"  # ok | failed | budget_stopped | dry_run
    message: str = ""
    duplicates_allowed: bool | None = None
    rows: int = 0
    created: int = 0
    updated: int = 0
    tags_only: int = 0
    unchanged: int = 0
    skipped: int = 0
    superseded: int = 0
    tags_added: int = 0
    tags_removed: int = 0
    untagged: int = 0
    deleted: int = 0
    reconciled: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    budget_left: int | None = None
    budget_limit: int | None = None
    cursor: Any = None
    seconds: float = 0.0

    @property
    def rejected_count(self) -> int:
        return sum(self.rejected.values())

    @property
    def failed_count(self) -> int:
        return sum(self.failed.values())

    @property
    def all_went(self) -> bool:
        return self.status in ("ok", "dry_run") and not self.rejected and not self.failed

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rejected"] = dict(self.rejected)
        data["failed"] = dict(self.failed)
        data["rejected_count"] = self.rejected_count
        data["failed_count"] = self.failed_count
        return data


@dataclass
class PushResult:
    locations: list[LocationReport]
    source: str
    mode: str
    dry_run: bool
    rejects_path: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every row of every location went (exit 0)."""
        return all(report.all_went for report in self.locations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "rejects_path": self.rejects_path,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "locations": [report.to_dict() for report in self.locations],
        }
