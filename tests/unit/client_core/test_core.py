"""The request pipeline over ``httpx.MockTransport``: headers, errors, retries, sync twin."""

from __future__ import annotations

import httpx
import pytest

from ghlsync.client import AsyncGHLClient, GHLClient, RetryPolicy
from ghlsync.errors import (
    AuthError,
    ConfigError,
    ForbiddenError,
    InvalidRequestError,
    MalformedResponseError,
    NetworkFailureError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)
from tests.unit.client_core.conftest import Responder, Script, Sleeps, fail, reply

TOKEN = "pit-secret-token-123"


def client(script: Script, sleeps: Sleeps, **kwargs: object) -> AsyncGHLClient:
    return AsyncGHLClient(
        TOKEN,
        transport=script.transport,
        sleep=sleeps,
        limiter=None,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_request_sends_token_version_params_and_decodes(sleeps: Sleeps) -> None:
    script = Script([reply(200, {"contact": {"id": "c1"}})])
    async with client(script, sleeps) as c:
        body = await c.request(
            "get", "/contacts/c1", params={"a": 1, "b": None, "c": True}, location_id="L1"
        )
    assert body == {"contact": {"id": "c1"}}
    (request,) = script.requests
    assert request.method == "GET"
    assert str(request.url) == "https://services.leadconnectorhq.com/contacts/c1?a=1&c=true"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["version"] == "2021-07-28"
    assert request.headers["accept"] == "application/json"


async def test_calendars_family_and_v3(sleeps: Sleeps) -> None:
    script = Script([reply(200, {})])
    async with client(script, sleeps) as c:
        await c.request("GET", "/calendars/events")
    async with client(script, sleeps, api_version="v3", base_url="http://emu:1/") as c:
        await c.request("GET", "/calendars/events")
        await c.request("POST", "/oauth/token", data={"a": "b"}, authenticated=False)
    assert [r.headers.get("version") for r in script.requests] == ["2021-04-15", "v3", None]
    assert str(script.requests[1].url) == "http://emu:1/calendars/events"
    assert "authorization" not in script.requests[2].headers
    assert script.requests[2].content == b"a=b"


async def test_empty_body_is_none(sleeps: Sleeps) -> None:
    async with client(Script([reply(204)]), sleeps) as c:
        assert await c.request("DELETE", "/contacts/c1") is None


async def test_malformed_json_on_2xx(sleeps: Sleeps) -> None:
    script = Script([reply(200, b"<html>oops</html>", **{"content-type": "text/html"})])
    async with client(script, sleeps) as c:
        with pytest.raises(MalformedResponseError, match=r"GET /contacts/c1 -> 200") as caught:
            await c.request("GET", "/contacts/c1")
    assert len(script.requests) == 1
    assert (caught.value.method, caught.value.path, caught.value.status) == (
        "GET",
        "/contacts/c1",
        200,
    )


def _bad_gzip(status: int) -> Responder:
    def respond(request: httpx.Request) -> httpx.Response:
        # a stream, so the body is decoded when the client reads it, as off the network
        body = httpx.ByteStream(b"not gzip at all")
        return httpx.Response(status, stream=body, headers={"content-encoding": "gzip"})

    return respond


async def test_an_undecodable_body_is_a_malformed_response_in_the_tree(sleeps: Sleeps) -> None:
    script = Script([_bad_gzip(200)])
    async with client(script, sleeps, retry=RetryPolicy(max_attempts=2)) as c:
        with pytest.raises(MalformedResponseError) as caught:
            await c.request("GET", "/contacts/c1")
    assert not isinstance(caught.value, httpx.HTTPError)
    assert (caught.value.method, caught.value.path, caught.value.status) == (
        "GET",
        "/contacts/c1",
        200,
    )
    assert "GET /contacts/c1 -> 200" in str(caught.value)
    assert len(script.requests) == 2  # a GET is resent once more, then the error


async def test_an_undecodable_answer_to_a_post_is_outcome_unknown(sleeps: Sleeps) -> None:
    script = Script([_bad_gzip(201)])
    async with client(script, sleeps) as c:
        with pytest.raises(OutcomeUnknownError) as caught:
            await c.request("POST", "/contacts/", json={"email": "a@b.c"})
    assert isinstance(caught.value.cause, MalformedResponseError)
    assert len(script.requests) == 1


async def test_a_bad_url_scheme_is_a_connect_error_naming_ghl_base_url(sleeps: Sleeps) -> None:
    async with AsyncGHLClient(TOKEN, base_url="ftp://example.test", limiter=None) as c:
        with pytest.raises(NetworkFailureError) as caught:
            await c.request("GET", "/contacts/c1")
    assert "GHL_BASE_URL" in caught.value.hint


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"message": ["email must be an email"]}, InvalidRequestError),
        (422, {"message": "property x should not exist"}, InvalidRequestError),
        (403, {"message": "The token does not have access to this location."}, ForbiddenError),
        (404, {"message": "Contact not found"}, NotFoundError),
    ],
)
async def test_error_statuses_map_to_the_tree(
    sleeps: Sleeps, status: int, body: dict[str, object], error: type[Exception]
) -> None:
    body = {**body, "traceId": "trace-1"}
    script = Script([reply(status, body)])
    async with client(script, sleeps) as c:
        with pytest.raises(error) as caught:
            await c.request("GET", "/contacts/c1")
    exc = caught.value
    assert exc.status == status  # type: ignore[attr-defined]
    assert exc.trace_id == "trace-1"  # type: ignore[attr-defined]
    assert exc.method == "GET" and exc.path == "/contacts/c1"  # type: ignore[attr-defined]
    assert exc.hint  # type: ignore[attr-defined]
    assert len(script.requests) == 1


async def test_429_waits_then_succeeds_honouring_retry_after(sleeps: Sleeps) -> None:
    script = Script(
        [reply(429, {"message": "Too many"}, **{"Retry-After": "3"}), reply(200, {"ok": 1})]
    )
    async with client(script, sleeps) as c:
        assert await c.request("POST", "/contacts/", json={"email": "a@b.co"}) == {"ok": 1}
    assert sleeps.waits == [3.0]
    assert len(script.requests) == 2  # a 429 was not processed: even a POST is resent


async def test_429_without_retry_after_waits_for_the_window(sleeps: Sleeps) -> None:
    headers = {"X-RateLimit-Interval-Milliseconds": "10000", "X-RateLimit-Remaining": "0"}
    script = Script([reply(429, {}, **headers), reply(200, {})])
    async with client(script, sleeps) as c:
        await c.request("GET", "/contacts/c1")
    assert 5.0 <= sleeps.waits[0] <= 10.0


async def test_429_after_all_attempts_names_the_location(sleeps: Sleeps) -> None:
    script = Script([reply(429, {"message": "Too many"}, **{"Retry-After": "1"})])
    async with client(script, sleeps, retry=RetryPolicy(max_attempts=3)) as c:
        with pytest.raises(RateLimitError) as caught:
            await c.request("GET", "/contacts/c1", location_id="loc-9")
    assert caught.value.location == "loc-9"
    assert caught.value.reset_at is not None
    assert len(script.requests) == 3


async def test_5xx_retries_are_capped(sleeps: Sleeps) -> None:
    script = Script([reply(502, {"message": "bad gateway"})])
    async with client(script, sleeps, retry=RetryPolicy(max_attempts=4, max_delay=2)) as c:
        with pytest.raises(ServerError):
            await c.request("GET", "/contacts/c1")
    assert len(script.requests) == 4
    assert len(sleeps.waits) == 3 and all(0 <= w <= 2 for w in sleeps.waits)


async def test_5xx_then_success(sleeps: Sleeps) -> None:
    script = Script([reply(503), reply(500), reply(200, {"ok": True})])
    async with client(script, sleeps) as c:
        assert await c.request("PUT", "/contacts/c1", json={}) == {"ok": True}
    assert len(script.requests) == 3


async def test_5xx_on_a_post_is_outcome_unknown_and_not_resent(sleeps: Sleeps) -> None:
    script = Script([reply(500, {"message": "boom"})])
    async with client(script, sleeps) as c:
        with pytest.raises(OutcomeUnknownError) as caught:
            await c.request("POST", "/contacts/", json={"email": "a@b.co"}, location_id="L1")
    assert len(script.requests) == 1
    assert isinstance(caught.value.cause, ServerError)
    assert caught.value.location_id == "L1" and caught.value.attempts == 1


async def test_read_timeout_get_is_retried(sleeps: Sleeps) -> None:
    script = Script([fail(httpx.ReadTimeout), fail(httpx.ReadTimeout), reply(200, {"ok": 1})])
    async with client(script, sleeps) as c:
        assert await c.request("GET", "/contacts/c1") == {"ok": 1}
    assert len(script.requests) == 3


async def test_read_timeout_post_raises_outcome_unknown_sent_once(sleeps: Sleeps) -> None:
    script = Script([fail(httpx.ReadTimeout), reply(200, {"ok": 1})])
    async with client(script, sleeps) as c:
        with pytest.raises(OutcomeUnknownError) as caught:
            await c.request("POST", "/contacts/", json={"email": "a@b.co"}, location_id="L1")
    assert len(script.requests) == 1
    assert isinstance(caught.value.cause, RequestTimeoutError)
    assert caught.value.method == "POST" and caught.value.path == "/contacts/"


async def test_reset_after_send_on_post_is_outcome_unknown(sleeps: Sleeps) -> None:
    script = Script([fail(httpx.RemoteProtocolError), reply(200, {})])
    async with client(script, sleeps) as c:
        with pytest.raises(OutcomeUnknownError):
            await c.request("POST", "/contacts/", json={})
    assert len(script.requests) == 1


async def test_idempotent_post_is_retried_after_timeout(sleeps: Sleeps) -> None:
    script = Script([fail(httpx.ReadTimeout), reply(200, {"contacts": []})])
    async with client(script, sleeps) as c:
        await c.request("POST", "/contacts/search", json={}, idempotent=True)
    assert len(script.requests) == 2


async def test_connect_refused_post_is_resent(sleeps: Sleeps) -> None:
    script = Script([fail(httpx.ConnectError), reply(200, {"contact": {}})])
    async with client(script, sleeps) as c:
        await c.request("POST", "/contacts/", json={})
    assert len(script.requests) == 2


async def test_transport_errors_after_all_attempts(sleeps: Sleeps) -> None:
    no_window = RetryPolicy(max_attempts=2, outage_window_s=0)
    script = Script([fail(httpx.ConnectError)])
    async with client(script, sleeps, retry=no_window) as c:
        with pytest.raises(NetworkFailureError):
            await c.request("GET", "/contacts/c1")
    script = Script([fail(httpx.ReadTimeout)])
    async with client(script, sleeps, retry=no_window) as c:
        with pytest.raises(RequestTimeoutError):
            await c.request("GET", "/contacts/c1")
    assert len(script.requests) == 2


async def test_scope_401_is_not_refreshed(sleeps: Sleeps) -> None:
    script = Script([reply(401, {"message": "The token is not authorized for this scope."})])
    async with client(script, sleeps) as c:
        with pytest.raises(AuthError) as caught:
            await c.request("GET", "/contacts/c1")
    assert caught.value.reason == "scope"
    assert len(script.requests) == 1
    # the endpoint's required scope (from the spec) is named, and the hint says to add it
    assert caught.value.scope == "contacts.readonly"
    assert "`contacts.readonly`" in caught.value.hint


async def test_scope_named_for_writes_and_unknown_endpoints(sleeps: Sleeps) -> None:
    refusal = reply(401, {"message": "The token is not authorized for this scope."})
    async with client(Script([refusal]), sleeps) as c:
        with pytest.raises(AuthError) as caught:
            await c.request("PUT", "/opportunities/o1/status", json={"status": "won"})
        assert caught.value.scope == "opportunities.write"
        with pytest.raises(AuthError) as unknown:
            await c.request("GET", "/somewhere/else")
        assert unknown.value.scope is None and "the scope this endpoint needs" in unknown.value.hint


async def test_missing_token_is_a_config_error(sleeps: Sleeps) -> None:
    async with AsyncGHLClient(transport=Script([reply()]).transport, limiter=None) as c:
        with pytest.raises(ConfigError, match="no Private Integration token"):
            await c.request("GET", "/contacts/c1", location_id="L1")


def test_sync_twin_runs_resources_and_iterators() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/contacts/c1":
            return httpx.Response(200, json={"contact": {"id": "c1"}})
        return httpx.Response(200, json={"pipelines": [{"id": "p1"}, {"id": "p2"}]})

    script = Script([respond])
    with GHLClient(TOKEN, transport=script.transport, limiter=None) as c:
        assert c.request("GET", "/contacts/c1") == {"contact": {"id": "c1"}}
        assert c.contacts.get("c1", location_id="L1") == {"contact": {"id": "c1"}}
        pipelines = c.pipelines.list("L1")
        assert [p["id"] for p in pipelines] == ["p1", "p2"]
        assert TOKEN not in repr(c)
    assert len(script.requests) == 3


def test_sync_twin_iterates_async_streams() -> None:
    pages = [
        {"forms": [{"id": "f1"}, {"id": "f2"}], "total": 3},
        {"forms": [{"id": "f3"}], "total": 3},
    ]

    def respond(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params.get("skip", "0"))
        return httpx.Response(200, json=pages[0] if skip == 0 else pages[1])

    with GHLClient(TOKEN, transport=httpx.MockTransport(respond), limiter=None) as c:
        stream = c.forms.iterate("L1")
        ids = [form["id"] for form in stream]
        assert ids[:3] == ["f1", "f2", "f3"]
        assert stream.progress.records >= 3


def test_sync_twin_raises_the_same_errors() -> None:
    with (
        GHLClient(
            TOKEN, transport=Script([reply(404, {"message": "nope"})]).transport, limiter=None
        ) as c,
        pytest.raises(NotFoundError),
    ):
        c.contacts.get("c1", location_id="L1")


def test_sync_twin_thread_stops_on_close_and_on_bad_arguments() -> None:
    import threading

    before = {t.name for t in threading.enumerate()}
    client = GHLClient(TOKEN, transport=Script([reply(200, {})]).transport, limiter=None)
    assert "ghlsync-client-loop" in {t.name for t in threading.enumerate()}
    client.close()
    client.close()  # idempotent
    with pytest.raises(ValueError, match="api_version"):
        GHLClient(TOKEN, api_version="v9")
    assert {t.name for t in threading.enumerate()} == before


async def test_plain_constructor_reads_base_url_and_version_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    monkeypatch.setenv("GHL_BASE_URL", "http://127.0.0.1:9/ghl/")
    monkeypatch.setenv("GHL_API_VERSION", "v3")
    async with AsyncGHLClient("t", transport=httpx.MockTransport(answer), limiter=None) as client:
        assert client.base_url == "http://127.0.0.1:9/ghl"
        await client.request("GET", "/locations/L1", location_id="L1")
    assert str(seen[0].url) == "http://127.0.0.1:9/ghl/locations/L1"
    assert seen[0].headers["Version"] == "v3"
    # explicit arguments win over the environment
    explicit = AsyncGHLClient("t", base_url="http://x.test", api_version="v2", limiter=None)
    assert (explicit.base_url, explicit.api_version) == ("http://x.test", "v2")
    await explicit.aclose()


async def test_v3_calls_are_mapped_at_the_edge(sleeps: Sleeps) -> None:
    script = Script([reply(200, {"opportunities": [], "meta": {}})])
    async with client(script, sleeps, api_version="v3") as c:
        await c.opportunities.search("L1", pipeline_id="p1")
        with pytest.raises(ConfigError, match="does not exist in API v3") as caught:
            await c.request("GET", "/users/", params={"locationId": "L1"}, location_id="L1")
        assert "users.search" in caught.value.hint
    sent = script.requests[0]
    assert sent.url.path == "/opportunities/search"
    assert sent.url.params["locationId"] == "L1" and sent.url.params["pipelineId"] == "p1"
    assert "location_id" not in sent.url.params and sent.headers["Version"] == "v3"
    assert len(script.requests) == 1  # the refused call was not sent
