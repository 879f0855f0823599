"""The request pipeline: ``AsyncGHLClient.request``.

One call goes: Version header (``versions``) -> token (``auth``) -> rate-limit budget
(``limiter``) -> httpx (keep-alive pool) -> limiter correction from the answer headers ->
decode, or map the error (``ghlsync.errors.error_for_status``) and decide whether to resend
(``retry``). The client composes these parts and holds no endpoint knowledge: resources
(``ResourceSet``) are attached in ``__init__`` and only ever call ``request``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Final, Protocol, Unpack

import httpx
import msgspec

from ghlsync import __version__
from ghlsync.client._protocol import JSON, REQUEST_OPTIONS, Params, RequestOptions
from ghlsync.client.auth import Auth, PrivateTokenAuth, Scope
from ghlsync.client.limiter import (
    BucketKey,
    DailyBudgetExhausted,
    InMemoryLimiter,
    Limiter,
    NoLimiter,
    location_key,
)
from ghlsync.client.outage import OutageWatch
from ghlsync.client.resources import ResourceSet
from ghlsync.client.retry import (
    Decision,
    Failure,
    RetryPolicy,
    backoff_for,
    is_idempotent,
    parse_retry_after,
    should_retry,
)
from ghlsync.client.scopes import required_scope
from ghlsync.client.v3 import answer_from_v3, to_v3
from ghlsync.client.versions import version_for
from ghlsync.config import DEFAULT_BASE_URL, Settings
from ghlsync.errors import (
    APIError,
    AuthError,
    GHLSyncError,
    MalformedResponseError,
    NetworkFailureError,
    OutcomeUnknownError,
    RateLimitError,
    RequestTimeoutError,
    error_for_status,
)

log = logging.getLogger("ghlsync.client")

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
DEFAULT_LIMITS: Final = httpx.Limits(
    max_connections=100, max_keepalive_connections=100, keepalive_expiry=30.0
)


class Closeable(Protocol):
    """A part the client closes when it created it (a ``TokenStore``)."""

    def close(self) -> None: ...


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Final = _Default()


class AsyncGHLClient(ResourceSet):
    """Async HighLevel API client (API v2 dated versions, or v3).

    ``auth`` is an ``Auth`` (``PrivateTokenAuth``, ``OAuthAuth``) or a Private Integration
    token string. ``transport`` (an ``httpx.AsyncBaseTransport``) replaces the network, e.g.
    ``httpx.MockTransport`` in tests. ``limiter=None`` turns client-side limiting off; the
    default is an ``InMemoryLimiter`` with HighLevel's published budgets. Use as
    ``async with AsyncGHLClient(...) as client:`` or call ``aclose()``. A call that gets no
    answer is retried for ``retry.outage_window_s`` (default 5 minutes); ``outage`` (an
    ``OutageWatch``, shareable between clients) says so once, not once per attempt; ``clock``
    and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        auth: Auth | str | None = None,
        *,
        base_url: str | None = None,
        api_version: str | None = None,
        settings: Settings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: Limiter | _Default | None = DEFAULT,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        user_agent: str | None = None,
        owned: tuple[Limiter | Closeable, ...] = (),
        outage: OutageWatch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        resolved = settings if settings is not None else Settings.from_env()
        self.base_url = (base_url or resolved.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.api_version = api_version or resolved.api_version or "v2"
        version_for("GET", "/", self.api_version)  # validate early
        if auth is None or isinstance(auth, str):
            auth = PrivateTokenAuth(auth or resolved.token)
        self.auth: Auth = auth
        if isinstance(limiter, _Default):
            limiter = InMemoryLimiter(daily_store=resolved.rate_state_path)
            owned = (*owned, limiter)
        self.limiter: Limiter = NoLimiter() if limiter is None else limiter
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        #: shared by clients that should say "waiting for HighLevel" once between them
        self.outage = outage if outage is not None else OutageWatch(clock=clock)
        self._owned = owned
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            limits=limits,
            headers={
                "Accept": "application/json",
                "User-Agent": user_agent or f"ghlsync/{__version__}",
            },
            follow_redirects=False,
        )
        self.auth.bind(self)
        self._init_resources()

    # -- construction from settings ----------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> AsyncGHLClient:
        """A client configured from ``Settings`` (token, OAuth app, base URL, GHLSYNC_HOME).

        With ``GHL_CLIENT_ID``/``GHL_CLIENT_SECRET`` set, OAuth tokens come from the token
        store; else ``GHL_TOKEN`` and any Private Integration tokens in the store are used.
        The daily rate-limit counts persist under ``GHLSYNC_HOME``.
        """
        from ghlsync.client.factory import components_from_settings

        settings = settings or Settings.from_env()
        parts = components_from_settings(settings, **kwargs)
        return cls(settings=settings, **parts)

    @classmethod
    def from_env(cls, **kwargs: Any) -> AsyncGHLClient:
        """``from_settings(Settings.from_env())``."""
        return cls.from_settings(Settings.from_env(), **kwargs)

    # -- the pipeline --------------------------------------------------------------------------

    async def request(self, method: str, path: str, **options: Unpack[RequestOptions]) -> JSON:
        """Send one API call and return its decoded JSON (``None`` for an empty body).

        ``options``: ``RequestOptions`` (``params``, ``json``, ``data``, ``location_id``,
        ``company_id``, ``idempotent``, ``authenticated``, ``retry``, ``http_timeout``).
        Retries 429, 5xx and transport failures when safe; refreshes once on a 401 saying the
        token expired.
        """
        if not options.keys() <= REQUEST_OPTIONS:
            unknown = sorted(options.keys() - REQUEST_OPTIONS)
            raise TypeError(f"request() got unexpected keyword arguments {unknown}")
        params = options.get("params")
        json = options.get("json")
        data = options.get("data")
        location_id = options.get("location_id")
        company_id = options.get("company_id")
        idempotent = options.get("idempotent")
        authenticated = options.get("authenticated", True)
        retry = options.get("retry")
        http_timeout = options.get("http_timeout")
        method = method.upper()
        policy = retry or self.retry
        scope = Scope(location_id, company_id)
        if authenticated and not (location_id or company_id):
            scope = await self.auth.resolve_scope(scope)  # its token and its bucket
        safe = is_idempotent(method, idempotent)
        base_headers: dict[str, str] = {}
        version = version_for(method, path, self.api_version)
        if version is not None:
            base_headers["Version"] = version
        query = _clean_params(params)
        wire_path, form = path, data
        if self.api_version == "v3":  # the one v2 -> v3 map, at the edge (``v3.py``)
            wire_path, query, form = to_v3(method, path, query, data)
        key = (self.auth.identity, scope.bucket)
        refreshed = False
        attempt = 0
        failing_since: float | None = None  # the clock's time of this call's first failure
        while True:
            attempt += 1
            headers = dict(base_headers)
            token: str | None = None
            if authenticated:
                token = await self.auth.token_for(scope)
                headers["Authorization"] = f"Bearer {token}"
                await self._acquire(key, scope, method, path)
            started = time.perf_counter()
            try:
                response = await self._send(
                    method, wire_path, query, json, form, headers, http_timeout
                )
            except httpx.RequestError as exc:  # transport failures, undecodable bodies
                failure, error = _transport_failure(exc, method, path, self.base_url)
                now = self._clock()
                failing_since = now if failing_since is None else failing_since
                # the outage window is for a HighLevel that answered before: a base URL that
                # never answered in this run (a typo, nothing listening) fails after the
                # client's normal attempts, naming the URL
                answered = self.outage.ever_answered
                window = policy.outage_window_s if answered else 0.0
                decision = should_retry(
                    policy,
                    attempt=attempt,
                    idempotent=safe,
                    failure=failure,
                    failing_s=now - failing_since if answered else float("inf"),
                )
                if decision is Decision.RETRY:
                    delay = backoff_for(policy, attempt)
                    if attempt >= 2 and failure is not Failure.UNDECODABLE:  # no answer, twice
                        self.outage.failed(
                            self.base_url,
                            f"{type(exc).__name__} on {method} {path}",
                            window,
                            policy.max_attempts,
                        )
                    log.debug(
                        "%s %s: %s; retry %d in %.2fs",
                        method,
                        path,
                        type(exc).__name__,
                        attempt,
                        delay,
                    )
                    await self._sleep(delay)
                    continue
                if decision is Decision.UNKNOWN:
                    raise _unknown(error, method, path, scope, attempt) from exc
                raise error from exc
            elapsed_ms = (time.perf_counter() - started) * 1000
            self.outage.answered(self.base_url)
            status = response.status_code
            if authenticated:
                await self.limiter.observe(key, response.headers)
            if 200 <= status < 300:
                log.debug("%s %s -> %d (%.1f ms)", method, path, status, elapsed_ms)
                decoded = _decode(response, method, path)
                if self.api_version == "v3":
                    return answer_from_v3(method, path, decoded)
                return decoded
            api_error = _api_error(response, method, path, scope)
            log.debug(
                "%s %s -> %d (%.1f ms, attempt %d)", method, path, status, elapsed_ms, attempt
            )
            if (
                status == 401
                and authenticated
                and token is not None
                and not refreshed
                and isinstance(api_error, AuthError)
                and api_error.reason == "expired"
            ):
                refreshed = True
                if await self.auth.refresh_after_401(scope, token):
                    log.info("%s %s: token expired; refreshed, resending", method, path)
                    continue
                raise _auth_hinted(api_error, self.auth, scope, token)
            if isinstance(api_error, AuthError):
                api_error = _auth_hinted(api_error, self.auth, scope, token)
            decision = should_retry(policy, attempt=attempt, idempotent=safe, status=status)
            if decision is Decision.RETRY:
                delay = backoff_for(
                    policy, attempt, status=status, headers=response.headers, now=time.time()
                )
                log.debug("%s %s -> %d; retry %d in %.2fs", method, path, status, attempt, delay)
                await self._sleep(delay)
                continue
            if decision is Decision.UNKNOWN:
                raise _unknown(api_error, method, path, scope, attempt)
            raise api_error

    async def _send(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None,
        json: JSON,
        data: Mapping[str, str] | None,
        headers: dict[str, str],
        http_timeout: float | None = None,
    ) -> httpx.Response:
        """One HTTP exchange, body read; an undecodable body keeps the status it came with."""
        request = self._http.build_request(
            method,
            path,
            params=query,
            json=json,
            data=data,
            headers=headers,
            timeout=(
                httpx.Timeout(http_timeout)
                if http_timeout is not None
                else httpx.USE_CLIENT_DEFAULT
            ),
        )
        response = await self._http.send(request, stream=True)
        try:
            await response.aread()
        except httpx.DecodingError as exc:
            raise _UndecodableBody(str(exc), request=request, status=response.status_code) from exc
        finally:
            await response.aclose()
            # httpx's response and its bound stream refer to each other: without this each
            # response (a page of contacts is ~0.5 MB) waits for the cyclic collector, which an
            # extract pauses while reading (the body read is kept: .content, .json())
            response.stream = httpx.ByteStream(b"")
        return response

    async def _acquire(self, key: tuple[str, str], scope: Scope, method: str, path: str) -> None:
        try:
            await self.limiter.acquire(key)
        except DailyBudgetExhausted as exc:
            where = scope.location_id or scope.company_id
            reset = exc.reset_at.isoformat(timespec="seconds")
            raise RateLimitError(
                status=429,
                method=method,
                path=path,
                messages=[
                    f"daily budget of {exc.limit} calls spent for {scope.describe()}; "
                    f"resets at {reset}"
                ],
                location=where,
                reset_at=exc.reset_at,
                hint=f"wait until {reset} or spread the load; the call was not sent",
            ) from None

    def bucket_key(self, location_id: str) -> BucketKey:
        """The limiter's key for calls of this client for ``location_id`` (for
        ``client.limiter.snapshot(key)``); same as ``location_key(auth.identity, location_id)``."""
        return location_key(self.auth.identity, location_id)

    # -- lifecycle -----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool, and the limiter and stores this client created (a
        limiter or store passed in stays open: its owner closes it; a shared limiter is only
        flushed, so the daily counts of this client's calls are written)."""
        await self._http.aclose()
        if self.limiter not in self._owned:
            await self.limiter.flush()
        for part in self._owned:
            if isinstance(part, Limiter):
                await part.aclose()
            else:
                part.close()

    async def __aenter__(self) -> AsyncGHLClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"AsyncGHLClient(base_url={self.base_url!r}, api_version={self.api_version!r}, "
            f"auth={self.auth!r}, limiter={self.limiter!r})"
        )


# -- helpers (pure) ----------------------------------------------------------------------------


#: msgspec decodes a 500-contact page about 3x faster than ``json.loads`` (its errors are
#: ``ValueError``s too)
_json_decode = msgspec.json.decode


def _clean_params(params: Params | None) -> dict[str, Any] | None:
    if not params:
        return None
    cleaned: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        cleaned[name] = ("true" if value else "false") if isinstance(value, bool) else value
    return cleaned


def _decode(response: httpx.Response, method: str, path: str) -> JSON:
    content = response.content
    if not content or not content.strip():
        return None
    try:
        return _json_decode(content)
    except ValueError:
        kind = response.headers.get("content-type", "no content-type")
        raise MalformedResponseError(
            f"{method} {path} -> {response.status_code}: the body is not JSON "
            f"({len(content)} bytes, {kind})",
            method=method,
            path=path,
            status=response.status_code,
        ) from None


def _api_error(response: httpx.Response, method: str, path: str, scope: Scope) -> APIError:
    try:
        body: Any = _json_decode(response.content) if response.content else None
    except ValueError:
        body = response.text[:500]
    trace = response.headers.get("traceid") or response.headers.get("x-trace-id")
    error = error_for_status(
        status=response.status_code,
        method=method,
        path=path,
        body=body,
        trace_id=trace,
        required_scope=required_scope(method, path) if response.status_code == 401 else None,
    )
    if isinstance(error, RateLimitError):
        error.location = scope.location_id or scope.company_id
        wait = parse_retry_after(response.headers.get("retry-after"), now=time.time())
        if wait is not None:
            error.reset_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
    return error


class _UndecodableBody(httpx.DecodingError):
    """``httpx.DecodingError`` with the status of the answer whose body failed to decode."""

    def __init__(self, message: str, *, request: httpx.Request, status: int) -> None:
        super().__init__(message, request=request)
        self.status = status


def _auth_hinted(error: AuthError, auth: Auth, scope: Scope, token: str | None) -> AuthError:
    """``error`` with the hint that fits the kind of token: a Private Integration token never
    expires, so its 401 means a wrong or revoked token (or another location's); an OAuth
    token's means it expired and could not be refreshed."""
    if error.reason == "scope":
        return error
    is_static = getattr(auth, "is_static", None)
    static = is_static(scope, token) if callable(is_static) else isinstance(auth, PrivateTokenAuth)
    if static:
        error.hint = (
            "HighLevel refused the Private Integration token (these do not expire): it is "
            "mistyped, revoked, or another location's token; check it with `ghlsync auth status`"
        )
    else:
        error.hint = (
            "the OAuth access token was refused and could not be refreshed (expired or revoked);"
            " re-authorise with `ghlsync auth login`"
        )
    return error


def _transport_failure(
    exc: httpx.RequestError, method: str, path: str, base_url: str = ""
) -> tuple[Failure, GHLSyncError]:
    """Classify an httpx failure: was anything sent, and which error of the tree is it."""
    text = type(exc).__name__
    if isinstance(exc, httpx.DecodingError):
        # the server answered but the body could not be decoded (bad gzip/deflate/brotli)
        status = exc.status if isinstance(exc, _UndecodableBody) else None
        shown = f" -> {status}" if status is not None else ""
        return Failure.UNDECODABLE, MalformedResponseError(
            f"{method} {path}{shown}: the body could not be decoded ({exc})",
            method=method,
            path=path,
            status=status,
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return Failure.UNSENDABLE, NetworkFailureError(
            f"{text}: the URL scheme is not http or https",
            method=method,
            path=path,
            hint="check GHL_BASE_URL (e.g. https://services.leadconnectorhq.com)",
        )
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return Failure.NOT_SENT, RequestTimeoutError(
            f"{text} before sending", method=method, path=path
        )
    if isinstance(exc, httpx.TimeoutException):
        return Failure.MAYBE_SENT, RequestTimeoutError(
            f"{text} waiting for the answer", method=method, path=path
        )
    if isinstance(exc, httpx.ConnectError):
        return Failure.NOT_SENT, NetworkFailureError(
            f"{text}: could not connect to {base_url or 'the base URL'}", method=method, path=path
        )
    return Failure.MAYBE_SENT, NetworkFailureError(
        f"{text}: connection to {base_url or 'the base URL'} lost", method=method, path=path
    )


def _unknown(
    error: GHLSyncError, method: str, path: str, scope: Scope, attempt: int
) -> OutcomeUnknownError:
    return OutcomeUnknownError(
        f"{error.message}; not resent because {method} is not idempotent",
        method=method,
        path=path,
        cause=error,
        location_id=scope.location_id,
        company_id=scope.company_id,
        attempts=attempt,
    )
