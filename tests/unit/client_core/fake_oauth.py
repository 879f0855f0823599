"""A tiny HighLevel OAuth server for tests, as an ``httpx.MockTransport`` handler.

Its state lives in a SQLite file so several processes can share one server (the token race
test). Refresh tokens are single-use: a refresh marks the old one dead and any later use of a
dead one is counted in ``dead_uses`` (the thing that must never happen). Access tokens expire
after ``lifetime`` seconds of server time, or when ``expire_access_tokens()`` is called; an
expired or unknown bearer gets ``401 Invalid JWT``.

Every token it issues starts with ``SECRET-`` so leak tests can grep for them.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs

import httpx

CLIENT_ID = "app123-client"
CLIENT_SECRET = "SECRET-client-secret-value"
AUTH_CODE = "SECRET-auth-code-1"
COMPANY = "co1"


def new_token(kind: str) -> str:
    return f"SECRET-{kind}-{uuid.uuid4().hex}"


class FakeOAuthServer:
    def __init__(
        self,
        path: Path,
        *,
        lifetime: float = 86_399.0,
        installed: int = 0,
        scope: str = "contacts.readonly contacts.write",
    ) -> None:
        self.path = path
        self.lifetime = lifetime
        self.installed = installed
        self.scope = scope
        db = self._db()
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS refresh (token TEXT PRIMARY KEY, live INTEGER,
                user_type TEXT, company TEXT, location TEXT);
            CREATE TABLE IF NOT EXISTS access (token TEXT PRIMARY KEY, expires REAL,
                kind TEXT, company TEXT, location TEXT);
            CREATE TABLE IF NOT EXISTS events (name TEXT, detail TEXT, at REAL);
            """
        )
        db.close()

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    # -- test helpers -------------------------------------------------------------------------

    def seed(
        self,
        *,
        user_type: str = "Location",
        company: str = COMPANY,
        location: str = "L1",
        access_expired: bool = False,
    ) -> tuple[str, str]:
        """Issue an (access, refresh) pair as if an authorization had happened."""
        db = self._db()
        access, refresh = new_token("at"), new_token("rt")
        db.execute(
            "INSERT INTO refresh VALUES (?, 1, ?, ?, ?)", (refresh, user_type, company, location)
        )
        expires = time.time() - 1 if access_expired else time.time() + self.lifetime
        db.execute(
            "INSERT INTO access VALUES (?, ?, ?, ?, ?)",
            (access, expires, user_type, company, location),
        )
        db.close()
        return access, refresh

    def expire_access_tokens(self) -> None:
        db = self._db()
        db.execute("UPDATE access SET expires = 0")
        db.close()

    def events(self, name: str | None = None) -> list[tuple[str, str]]:
        db = self._db()
        rows = db.execute("SELECT name, detail FROM events ORDER BY rowid").fetchall()
        db.close()
        return [(n, d) for n, d in rows if name is None or n == name]

    @property
    def dead_uses(self) -> int:
        return len(self.events("dead_refresh"))

    def live_refresh_tokens(self) -> set[str]:
        db = self._db()
        rows = db.execute("SELECT token FROM refresh WHERE live = 1").fetchall()
        db.close()
        return {r[0] for r in rows}

    # -- the handler ----------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        path = request.url.path
        if path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        db = self._db()
        try:
            row = db.execute(
                "SELECT expires, kind, company, location FROM access WHERE token=?", (bearer,)
            ).fetchone()
            if row is None or row[0] < time.time():
                self._event(db, "rejected_access", path)
                return httpx.Response(401, json={"statusCode": 401, "message": "Invalid JWT"})
            if path == "/oauth/locationToken":
                return self._location_token(db, request)
            if path == "/oauth/installedLocations":
                return self._installed(request)
            self._event(db, "api", f"{request.method} {path}")
            return httpx.Response(
                200,
                json={"ok": True, "location": row[3]},
                headers={"X-RateLimit-Remaining": "99", "X-RateLimit-Max": "100"},
            )
        finally:
            db.close()

    def _event(self, db: sqlite3.Connection, name: str, detail: str) -> None:
        db.execute("INSERT INTO events VALUES (?, ?, ?)", (name, detail, time.time()))

    def _issue(
        self,
        db: sqlite3.Connection,
        user_type: str,
        company: str,
        location: str,
    ) -> dict[str, object]:
        access, refresh = new_token("at"), new_token("rt")
        db.execute(
            "INSERT INTO refresh VALUES (?, 1, ?, ?, ?)", (refresh, user_type, company, location)
        )
        db.execute(
            "INSERT INTO access VALUES (?, ?, ?, ?, ?)",
            (access, time.time() + self.lifetime, user_type, company, location),
        )
        body: dict[str, object] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "refresh_token": refresh,
            "scope": self.scope,
            "userType": user_type,
            "companyId": company,
            "userId": "u1",
        }
        if user_type == "Location":
            body["locationId"] = location
        return body

    def _token(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert "version" not in request.headers
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return httpx.Response(401, json={"message": "invalid client"})
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            grant = form.get("grant_type")
            if grant == "authorization_code":
                if form.get("code") != AUTH_CODE:
                    db.execute("COMMIT")
                    return httpx.Response(
                        400, json={"error": "invalid_grant", "message": "Invalid code"}
                    )
                body = self._issue(db, form.get("user_type", "Location"), COMPANY, "L1")
                self._event(db, "code", "ok")
            elif grant == "refresh_token":
                token = form.get("refresh_token", "")
                row = db.execute(
                    "SELECT live, user_type, company, location FROM refresh WHERE token=?", (token,)
                ).fetchone()
                if row is None or not row[0]:
                    self._event(db, "dead_refresh", token)
                    db.execute("COMMIT")
                    return httpx.Response(
                        400, json={"error": "invalid_grant", "message": "Invalid refresh token"}
                    )
                db.execute("UPDATE refresh SET live = 0 WHERE token=?", (token,))
                body = self._issue(db, row[1], row[2], row[3])
                self._event(db, "refresh", token)
            else:
                db.execute("COMMIT")
                return httpx.Response(422, json={"message": "bad grant_type"})
            db.execute("COMMIT")
            return httpx.Response(200, json=body)
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def _location_token(self, db: sqlite3.Connection, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        assert set(form) == {"companyId", "locationId"}, form
        access = new_token("loc")
        db.execute(
            "INSERT INTO access VALUES (?, ?, 'location', ?, ?)",
            (access, time.time() + self.lifetime, form["companyId"], form["locationId"]),
        )
        self._event(db, "location_token", form["locationId"])
        return httpx.Response(
            200,
            json={
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": self.lifetime,
                "scope": self.scope,
                "locationId": form["locationId"],
                "userId": "u1",
            },
        )

    def _installed(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        assert params["companyId"] and params["appId"]
        skip, limit = int(params.get("skip", "0")), int(params.get("limit", "100"))
        ids = [f"loc{i:04d}" for i in range(self.installed)]
        page = [{"_id": i, "name": i, "address": "x"} for i in ids[skip : skip + limit]]
        return httpx.Response(
            200,
            text=json.dumps({"locations": page, "count": len(ids)}),
            headers={"content-type": "application/json"},
        )
