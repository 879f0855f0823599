"""Tokens at rest: one SQLite file under ``GHLSYNC_HOME``, safe with several processes.

The file is created mode 0600 (its folder 0700) before SQLite opens it, runs in WAL mode with
``synchronous=FULL`` (a rotated refresh token must survive a crash: the old one is dead), and
every write is an explicit transaction. ``begin()`` opens a ``BEGIN IMMEDIATE`` transaction on
its own connection: OAuth refresh holds it around read -> refresh -> write, so a second process
waits, then re-reads the row and uses the token the first one stored instead of sending a
refresh token that is already spent.

With ``GHLSYNC_SECRET_KEY`` the access and refresh tokens are encrypted (Fernet, key derived with
scrypt and a per-store salt); ids, kinds, scopes and expiry stay readable for
``ghlsync auth status``. A wrong key is a ``TokenStoreError`` saying so.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ghlsync.config import Settings
from ghlsync.errors import TokenStoreError

if TYPE_CHECKING:  # cryptography (~9 MiB) is imported when a store is encrypted, not before
    from cryptography.fernet import Fernet

Kind = Literal["private", "oauth", "location"]
KINDS: tuple[Kind, ...] = ("private", "oauth", "location")

_CHECK_PLAINTEXT = b"ghlsync token store v1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    kind TEXT NOT NULL,
    company_id TEXT NOT NULL DEFAULT '',
    location_id TEXT NOT NULL DEFAULT '',
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    expires_at REAL,
    scopes TEXT NOT NULL DEFAULT '',
    user_type TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (kind, company_id, location_id)
);
"""
_COLUMNS = (
    "kind, company_id, location_id, access_token, refresh_token, expires_at, scopes, "
    "user_type, updated_at"
)


@dataclass(frozen=True)
class TokenRecord:
    """One stored token. ``repr`` never shows the tokens."""

    kind: Kind
    company_id: str | None = None
    location_id: str | None = None
    access_token: str = field(default="", repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None  # epoch seconds; None = does not expire (private)
    scopes: str = ""
    user_type: str | None = None
    updated_at: float = 0.0

    def expires_within(self, seconds: float, now: float) -> bool:
        """True when the token expires in less than ``seconds`` from ``now``."""
        return self.expires_at is not None and self.expires_at - now < seconds

    def info(self) -> TokenInfo:
        """This record without its tokens."""
        return TokenInfo(
            kind=self.kind,
            company_id=self.company_id,
            location_id=self.location_id,
            scopes=self.scopes,
            expires_at=self.expires_at,
            updated_at=self.updated_at,
            has_refresh_token=self.refresh_token is not None,
            user_type=self.user_type,
        )


@dataclass(frozen=True)
class TokenInfo:
    """What ``ghlsync auth status`` shows: everything but the tokens."""

    kind: Kind
    company_id: str | None
    location_id: str | None
    scopes: str
    expires_at: float | None
    updated_at: float
    has_refresh_token: bool
    user_type: str | None


_KEY_CACHE: dict[tuple[bytes, bytes], Fernet] = {}
_KEY_LOCK = threading.Lock()


def _fernet(secret_key: str, salt: bytes) -> Fernet:
    """Fernet from the secret key and the store's salt (scrypt; cached per process)."""
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    cache_key = (hashlib.sha256(secret_key.encode()).digest(), salt)
    with _KEY_LOCK:
        cached = _KEY_CACHE.get(cache_key)
        if cached is None:
            raw = Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(secret_key.encode())
            cached = Fernet(base64.urlsafe_b64encode(raw))
            _KEY_CACHE[cache_key] = cached
        return cached


def create_private_file(path: Path) -> None:
    """Create ``path`` mode 0600 (its folder 0700) unless it exists; tighten a loose one."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700)
        os.chmod(folder, 0o700)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)


class _Codec:
    """Encrypts token columns (or passes them through when the store is not encrypted)."""

    def __init__(self, fernet: Fernet | None) -> None:
        self.fernet = fernet

    def seal(self, value: str | None) -> str | None:
        if value is None or self.fernet is None:
            return value
        return self.fernet.encrypt(value.encode()).decode("ascii")

    def open(self, value: str | None) -> str | None:
        if value is None or self.fernet is None:
            return value
        from cryptography.fernet import InvalidToken

        try:
            return self.fernet.decrypt(value.encode("ascii")).decode()
        except InvalidToken:
            raise TokenStoreError(
                "a token in the store cannot be decrypted with GHLSYNC_SECRET_KEY"
            ) from None


def _row_to_record(row: tuple[object, ...], codec: _Codec) -> TokenRecord:
    kind, company, location, access, refresh, expires, scopes, user_type, updated = row
    return TokenRecord(
        kind=str(kind),  # type: ignore[arg-type]
        company_id=str(company) or None,
        location_id=str(location) or None,
        access_token=codec.open(str(access)) or "",
        refresh_token=codec.open(str(refresh)) if refresh is not None else None,
        expires_at=float(expires) if isinstance(expires, int | float) else None,
        scopes=str(scopes or ""),
        user_type=str(user_type) if user_type is not None else None,
        updated_at=float(updated) if isinstance(updated, int | float) else 0.0,
    )


def _select(
    db: sqlite3.Connection,
    codec: _Codec,
    kind: Kind,
    company_id: str | None,
    location_id: str | None,
) -> TokenRecord | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM tokens WHERE kind=? AND company_id=? AND location_id=?",  # noqa: S608 - fixed column list
        (kind, company_id or "", location_id or ""),
    ).fetchone()
    return _row_to_record(row, codec) if row is not None else None


def _find(
    db: sqlite3.Connection,
    codec: _Codec,
    kind: Kind,
    company_id: str | None,
    location_id: str | None,
) -> TokenRecord | None:
    """The newest row of ``kind`` matching the given ids (``None`` matches any, ``""`` none)."""
    where: list[str] = ["kind=?"]
    args: list[str] = [kind]
    if company_id is not None:
        where.append("company_id=?")
        args.append(company_id)
    if location_id is not None:
        where.append("location_id=?")
        args.append(location_id)
    row = db.execute(
        f"SELECT {_COLUMNS} FROM tokens WHERE {' AND '.join(where)} "  # noqa: S608 - fixed names
        "ORDER BY updated_at DESC LIMIT 1",
        args,
    ).fetchone()
    return _row_to_record(row, codec) if row is not None else None


def _upsert(db: sqlite3.Connection, codec: _Codec, record: TokenRecord) -> None:
    db.execute(
        f"INSERT OR REPLACE INTO tokens ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608 - fixed column list
        (
            record.kind,
            record.company_id or "",
            record.location_id or "",
            codec.seal(record.access_token),
            codec.seal(record.refresh_token),
            record.expires_at,
            record.scopes,
            record.user_type,
            record.updated_at or time.time(),
        ),
    )


class Transaction:
    """A ``BEGIN IMMEDIATE`` transaction on its own connection (blocking calls).

    Other writers wait until ``commit()`` or ``rollback()``; readers are not blocked (WAL).
    """

    def __init__(self, db: sqlite3.Connection, codec: _Codec) -> None:
        self._db = db
        self._codec = codec
        self._open = True

    def get(
        self, kind: Kind, *, company_id: str | None = None, location_id: str | None = None
    ) -> TokenRecord | None:
        return _select(self._db, self._codec, kind, company_id, location_id)

    def put(self, record: TokenRecord) -> None:
        _upsert(self._db, self._codec, record)

    def find(
        self, kind: Kind, *, company_id: str | None = None, location_id: str | None = None
    ) -> TokenRecord | None:
        return _find(self._db, self._codec, kind, company_id, location_id)

    def commit(self) -> None:
        self._finish("COMMIT")

    def rollback(self) -> None:
        """Undo and release the lock (a no-op once committed or rolled back)."""
        self._finish("ROLLBACK")

    def _finish(self, statement: str) -> None:
        if self._open:
            self._open = False
            try:
                self._db.execute(statement)
            finally:
                self._db.close()


class TokenStore:
    """The token store (see the module docstring). ``repr`` shows the path only."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        secret_key: str | None = None,
        busy_timeout: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._lock = threading.Lock()
        try:
            create_private_file(self.path)
            self._db = self._connect()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._codec = self._init_schema(secret_key)
        except sqlite3.Error as exc:
            raise TokenStoreError(f"cannot open the token store {self.path}: {exc}") from exc
        except OSError as exc:
            raise TokenStoreError(
                f"cannot create the token store {self.path}: {exc.strerror}"
            ) from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenStore:
        return cls(settings.token_store_path, secret_key=settings.secret_key)

    @property
    def encrypted(self) -> bool:
        return self._codec.fernet is not None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, isolation_level=None, timeout=self.busy_timeout, check_same_thread=False
        )
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        return db

    def _init_schema(self, secret_key: str | None) -> _Codec:
        db = self._db
        db.executescript(_SCHEMA)  # idempotent; executescript commits, so before BEGIN
        db.execute("BEGIN IMMEDIATE")
        try:
            meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
            if "encryption" not in meta:
                if secret_key:
                    salt = secrets.token_bytes(16)
                    fernet = _fernet(secret_key, salt)
                    meta = {
                        "encryption": "fernet-scrypt",
                        "salt": salt.hex(),
                        "check": fernet.encrypt(_CHECK_PLAINTEXT).decode("ascii"),
                    }
                else:
                    meta = {"encryption": "none"}
                db.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", meta.items())
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if meta["encryption"] == "none":
            if secret_key:
                raise TokenStoreError(
                    f"the token store {self.path} was created without encryption but "
                    "GHLSYNC_SECRET_KEY is set",
                    hint="unset GHLSYNC_SECRET_KEY, or delete the store and add the tokens again",
                )
            return _Codec(None)
        if not secret_key:
            raise TokenStoreError(
                f"the token store {self.path} is encrypted and GHLSYNC_SECRET_KEY is not set",
                hint="set GHLSYNC_SECRET_KEY to the key the store was created with",
            )
        fernet = _fernet(secret_key, bytes.fromhex(meta["salt"]))
        from cryptography.fernet import InvalidToken

        try:
            fernet.decrypt(meta["check"].encode("ascii"))
        except InvalidToken:
            raise TokenStoreError(
                f"GHLSYNC_SECRET_KEY does not open the token store {self.path} (wrong key)",
                hint="use the key the store was created with, or delete the store and re-authorise",
            ) from None
        return _Codec(fernet)

    # -- plain reads and writes ------------------------------------------------------------

    def get(
        self, kind: Kind, *, company_id: str | None = None, location_id: str | None = None
    ) -> TokenRecord | None:
        with self._guard():
            return _select(self._db, self._codec, kind, company_id, location_id)

    def find(
        self, kind: Kind, *, company_id: str | None = None, location_id: str | None = None
    ) -> TokenRecord | None:
        """The newest ``kind`` row matching the ids given (``None`` = any, ``""`` = none)."""
        with self._guard():
            return _find(self._db, self._codec, kind, company_id, location_id)

    def put(self, record: TokenRecord) -> None:
        """Insert or replace ``record`` (one transaction)."""
        with self._guard():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                _upsert(self._db, self._codec, record)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def delete(
        self, kind: Kind, *, company_id: str | None = None, location_id: str | None = None
    ) -> bool:
        with self._guard():
            cursor = self._db.execute(
                "DELETE FROM tokens WHERE kind=? AND company_id=? AND location_id=?",
                (kind, company_id or "", location_id or ""),
            )
            return cursor.rowcount > 0

    def list(self) -> list[TokenInfo]:
        """Every stored token's description (never the token)."""
        with self._guard():
            rows = self._db.execute(
                "SELECT kind, company_id, location_id, scopes, expires_at, updated_at, "
                "refresh_token IS NOT NULL, user_type FROM tokens "
                "ORDER BY kind, company_id, location_id"
            ).fetchall()
        return [
            TokenInfo(
                kind=kind,
                company_id=company or None,
                location_id=location or None,
                scopes=scopes or "",
                expires_at=expires,
                updated_at=updated,
                has_refresh_token=bool(has_refresh),
                user_type=user_type,
            )
            for kind, company, location, scopes, expires, updated, has_refresh, user_type in rows
        ]

    def begin(self) -> Transaction:
        """Open a ``BEGIN IMMEDIATE`` transaction (blocks while another writer holds one)."""
        try:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TokenStoreError(f"the token store {self.path} stayed locked: {exc}") from exc
        return Transaction(db, self._codec)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise TokenStoreError(f"token store {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        state = "encrypted" if self.encrypted else "unencrypted"
        return f"TokenStore({str(self.path)!r}, {state})"
