"""The seam between the client core and the resources built on it.

Resources (``ghlsync.client.resources``) and paginators only ever call ``Requester.request``;
the core (transport, auth, limiter, retries) implements it. Tests can pass any object with this
method.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, Unpack

if TYPE_CHECKING:
    from ghlsync.client.retry import RetryPolicy

JSON = Any
Params = Mapping[str, str | int | float | bool | list[str] | None]


class RequestOptions(TypedDict, total=False):
    """What a call may say besides its method and path: declared once, taken by
    ``Requester.request``, ``AsyncGHLClient.request`` and (derived) ``GHLClient.request``.

    ``location_id`` / ``company_id`` pick the token and the rate-limit bucket.
    ``idempotent`` overrides the method's default (GET/PUT/DELETE yes, POST no) so a POST that
    is safe to resend (search, upsert) can be retried. ``authenticated`` (default True): send
    the bearer token. ``retry`` / ``http_timeout`` (seconds) override the client's retry policy
    and timeout for this call (the token refresh bounds both, since it runs holding the token
    store's write lock).
    """

    params: Params | None
    json: JSON
    data: Mapping[str, str] | None
    location_id: str | None
    company_id: str | None
    idempotent: bool | None
    authenticated: bool
    retry: RetryPolicy | None
    http_timeout: float | None


#: the keys of ``RequestOptions`` (a call naming another one is a ``TypeError``)
REQUEST_OPTIONS = frozenset(RequestOptions.__annotations__)


class Requester(Protocol):
    async def request(self, method: str, path: str, **options: Unpack[RequestOptions]) -> JSON:
        """Send one API call and return the decoded JSON body (``None`` for an empty body).

        ``options``: ``RequestOptions``. Errors raise the ``ghlsync.errors`` tree; a
        non-idempotent call whose outcome is unknown raises ``OutcomeUnknownError`` instead of
        being resent.
        """
        ...
