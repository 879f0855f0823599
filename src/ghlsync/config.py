"""Settings read from the environment (and later files), in one place.

| variable            | meaning                                              | default                              |
| ------------------- | ---------------------------------------------------- | ------------------------------------ |
| GHL_BASE_URL        | HighLevel API base URL                               | https://services.leadconnectorhq.com |
| GHL_API_VERSION     | ``v2`` (dated Version headers) or ``v3``             | v2                                   |
| GHL_TOKEN           | a Private Integration token (static bearer)          | unset                                |
| GHL_CLIENT_ID       | OAuth client id                                      | unset                                |
| GHL_CLIENT_SECRET   | OAuth client secret                                  | unset                                |
| GHLSYNC_HOME        | where ghlsync keeps its token store and state        | the per-user data dir                |
| GHLSYNC_SECRET_KEY  | optional key encrypting tokens at rest               | unset (tokens stored unencrypted)    |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

DEFAULT_BASE_URL = "https://services.leadconnectorhq.com"


@dataclass(frozen=True)
class Settings:
    base_url: str = DEFAULT_BASE_URL
    api_version: str = "v2"
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    home: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("ghlsync")))
    secret_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = env.get("GHLSYNC_HOME")
        return cls(
            base_url=env.get("GHL_BASE_URL", DEFAULT_BASE_URL).rstrip("/"),
            api_version=env.get("GHL_API_VERSION", "v2"),
            token=env.get("GHL_TOKEN") or None,
            client_id=env.get("GHL_CLIENT_ID") or None,
            client_secret=env.get("GHL_CLIENT_SECRET") or None,
            home=Path(home) if home else Path(platformdirs.user_data_dir("ghlsync")),
            secret_key=env.get("GHLSYNC_SECRET_KEY") or None,
        )

    @property
    def token_store_path(self) -> Path:
        return self.home / "tokens.sqlite3"

    @property
    def rate_state_path(self) -> Path:
        """Today's call counts per rate-limit bucket, shared by every process of this home."""
        return self.home / "ratelimit.sqlite3"

    @property
    def state_path(self) -> Path:
        return self.home / "state.sqlite3"
