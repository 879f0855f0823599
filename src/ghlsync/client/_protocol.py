"""The seam between the client core and the resources built on it.

Resources (``ghlsync.client.resources``) and paginators only ever call ``Requester.request``;
the core (transport, auth, limiter, retries) implements it. Tests can pass any object with this
method.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ghlsync.client.retry import RetryPolicy

JSON = Any
Params = Mapping[str, str | int | float | bool | list[str] | None]


class Requester(Protocol):
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: JSON = None,
        data: Mapping[str, str] | None = None,
        location_id: str | None = None,
        company_id: str | None = None,
        idempotent: bool | None = None,
        authenticated: bool = True,
        retry: RetryPolicy | None = None,
        http_timeout: float | None = None,
    ) -> JSON:
        """Send one API call and return the decoded JSON body (``None`` for an empty body).

        ``location_id`` / ``company_id`` pick the token and the rate-limit bucket.
        ``idempotent`` overrides the method's default (GET/PUT/DELETE yes, POST no) so a
        POST that is safe to resend (search, upsert) can be retried. Errors raise the
        ``ghlsync.errors`` tree; a non-idempotent call whose outcome is unknown raises
        ``OutcomeUnknownError`` instead of being resent. ``retry`` / ``http_timeout`` (seconds) override the
        client's retry policy and timeout for this call (the token refresh bounds both, since
        it runs holding the token store's write lock).
        """
        ...
