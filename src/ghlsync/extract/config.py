"""What an extract connects to: base URL, locations and their tokens (a JSON file or arguments).

```json
{"base_url": "http://127.0.0.1:8765", "token": "pit-default (optional)",
 "locations": [{"id": "loc1", "token": "pit-..."}, "loc2"],
 "streams": ["contacts", "opportunities"], "start_date": "2026-01-01T00:00:00Z",
 "overlap_seconds": 300, "rate_limit": true}
```
The same file is the Singer tap's ``--config``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ghlsync.errors import ConfigError

if TYPE_CHECKING:
    from ghlsync.client import AsyncGHLClient, Limiter


@dataclass
class ExtractConfig:
    locations: list[str]
    tokens: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    base_url: str | None = None
    streams: list[str] | None = None
    start_date: str | None = None
    overlap: dt.timedelta = dt.timedelta(minutes=5)
    #: client-side rate limiting (per location buckets); False only against an unlimited server
    rate_limit: bool = True
    api_version: str | None = None
    #: client-side burst budget per location (HighLevel: 100 requests per 10 s)
    burst: int = 100
    interval: float = 10.0
    #: records per contacts search page (HighLevel's maximum: 500)
    page_size: int = 500

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ExtractConfig:
        locations: list[str] = []
        tokens: dict[str, str] = {}
        for item in data.get("locations") or data.get("location_ids") or []:
            if isinstance(item, str):
                locations.append(item)
            elif isinstance(item, Mapping) and isinstance(item.get("id"), str):
                locations.append(item["id"])
                if item.get("token"):
                    tokens[item["id"]] = str(item["token"])
            else:
                raise ConfigError(
                    f"bad location entry {item!r}", hint='use "id" or {"id", "token"}'
                )
        if not locations:
            raise ConfigError("no locations configured", hint='add "locations": ["<location id>"]')
        overlap = data.get("overlap_seconds")
        return cls(
            locations=locations,
            tokens=tokens,
            token=data.get("token") or os.environ.get("GHL_TOKEN"),
            base_url=data.get("base_url") or os.environ.get("GHL_BASE_URL"),
            streams=list(data["streams"]) if data.get("streams") else None,
            start_date=data.get("start_date"),
            overlap=dt.timedelta(seconds=float(overlap)) if overlap is not None else cls.overlap,
            rate_limit=bool(data.get("rate_limit", True)),
            api_version=data.get("api_version"),
            page_size=int(data.get("page_size", 500)),
            burst=int(data.get("burst", 100)),
            interval=float(data.get("interval", 10.0)),
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ExtractConfig:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read config {path}: {error}") from error
        return cls.from_mapping(data)

    def limiter(self) -> Limiter | None:
        """One limiter to share between the clients of a run (None: rate limiting off)."""
        from ghlsync.extract.limits import MarginLimiter

        if not self.rate_limit:
            return None
        return MarginLimiter(self.burst, self.interval)

    def client(self, limiter: Limiter | None = None) -> AsyncGHLClient:
        """A client for every configured location (``limiter`` shared across clients)."""
        from ghlsync.client import AsyncGHLClient, PrivateTokenAuth

        auth = PrivateTokenAuth(self.token, tokens=self.tokens, identity="extract")
        shared = limiter if limiter is not None else self.limiter()
        return AsyncGHLClient(
            auth, base_url=self.base_url, api_version=self.api_version, limiter=shared
        )
