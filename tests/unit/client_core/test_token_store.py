"""The token store: file modes, WAL, encryption at rest, wrong keys, status without tokens."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from ghlsync.client.token_store import TokenRecord, TokenStore
from ghlsync.errors import TokenStoreError

ACCESS = "SECRET-access-token-abcdef"
REFRESH = "SECRET-refresh-token-123456"


def record(**overrides: object) -> TokenRecord:
    values: dict[str, object] = {
        "kind": "oauth",
        "company_id": "co1",
        "location_id": "L1",
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "expires_at": time.time() + 3600,
        "scopes": "contacts.readonly",
        "user_type": "Location",
        "updated_at": time.time(),
    }
    values.update(overrides)
    return TokenRecord(**values)  # type: ignore[arg-type]


def test_file_0600_folder_0700_and_wal(tmp_path: Path) -> None:
    home = tmp_path / "home" / "ghlsync"
    store = TokenStore(home / "tokens.sqlite3")
    store.put(record())
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    wal = Path(str(store.path) + "-wal")
    assert wal.exists() and stat.S_IMODE(os.stat(wal).st_mode) == 0o600
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    store.close()


def test_loose_existing_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "tokens.sqlite3"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    TokenStore(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_round_trip_find_delete_and_status(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "t.sqlite3")
    store.put(record())
    store.put(
        record(
            kind="private", company_id=None, refresh_token=None, expires_at=None, location_id="L2"
        )
    )
    got = store.get("oauth", company_id="co1", location_id="L1")
    assert got is not None and got.access_token == ACCESS and got.refresh_token == REFRESH
    assert store.find("oauth", location_id="L1") == got
    assert store.find("oauth", location_id="L9") is None
    infos = store.list()
    assert [(i.kind, i.location_id) for i in infos] == [("oauth", "L1"), ("private", "L2")]
    assert infos[0].has_refresh_token and infos[0].scopes == "contacts.readonly"
    text = repr(infos) + repr(got) + repr(store)
    assert ACCESS not in text and REFRESH not in text
    assert store.delete("private", location_id="L2")
    assert len(store.list()) == 1
    store.close()


def test_encryption_at_rest(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    store = TokenStore(path, secret_key="correct horse battery staple")
    store.put(record())
    assert store.encrypted
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert ACCESS.encode() not in raw and REFRESH.encode() not in raw
    assert b"contacts.readonly" in raw  # metadata stays readable for `auth status`
    again = TokenStore(path, secret_key="correct horse battery staple")
    got = again.get("oauth", company_id="co1", location_id="L1")
    assert got is not None and got.access_token == ACCESS and got.refresh_token == REFRESH
    again.close()


def test_wrong_or_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    TokenStore(path, secret_key="right").close()
    with pytest.raises(TokenStoreError, match="wrong key"):
        TokenStore(path, secret_key="wrong")
    with pytest.raises(TokenStoreError, match="encrypted and GHLSYNC_SECRET_KEY is not set"):
        TokenStore(path)
    plain = tmp_path / "plain.sqlite3"
    TokenStore(plain).close()
    with pytest.raises(TokenStoreError, match="without encryption"):
        TokenStore(plain, secret_key="k")


def test_begin_immediate_blocks_a_second_writer(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "t.sqlite3", busy_timeout=0.2)
    other = TokenStore(tmp_path / "t.sqlite3", busy_timeout=0.2)
    transaction = store.begin()
    transaction.put(record())
    with pytest.raises(TokenStoreError, match="locked"):
        other.begin()
    assert other.get("oauth", company_id="co1", location_id="L1") is None  # not committed yet
    transaction.commit()
    assert other.get("oauth", company_id="co1", location_id="L1") is not None
    store.close()
    other.close()
