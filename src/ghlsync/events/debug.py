"""``GET /debug``: the event debugger, a page fed by server-sent events (``GET /debug/stream``),
polling ``GET /debug/events`` every second where the stream cannot be had.

Behind the admin key (``X-Admin-Key`` header, or ``?key=`` for a browser tab). Shows the last
events, newest first: the incoming call, the mapping result (the upsert body and tags), the
request sent to HighLevel, its status and message, attempts, and the state (pending, delivered,
dropped, dead = in the dead-letter queue); filters by location, source and state; webhooks in.
Everything is rendered with ``textContent`` (never ``innerHTML``): event data cannot inject
markup into the page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ghlsync.events.queue import STATES

if TYPE_CHECKING:
    from ghlsync.events.service import EventService

#: how often a stream looks for changes, and how long one stream lasts before the browser
#: reconnects (a shutdown waits for open responses: it never waits longer than this)
STREAM_EVERY_S = 0.5
STREAM_S = 30.0

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>ghlsync event debugger</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
 header{background:#1d2330;color:#fff;padding:10px 16px;display:flex;gap:16px;align-items:center}
 header h1{font-size:16px;margin:0}
 #counts span{margin-right:12px}
 form{display:flex;gap:8px;padding:10px 16px;background:#fff;border-bottom:1px solid #dde}
 table{border-collapse:collapse;width:100%;background:#fff}
 th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eef;vertical-align:top}
 th{background:#fafbfc;font-weight:600}
 tr.event{cursor:pointer} tr.event:hover{background:#f2f6ff}
 .state{padding:1px 8px;border-radius:9px;font-size:12px}
 .delivered{background:#d8f5e0}.pending{background:#fff2c6}.dead{background:#ffd6d6}.dropped{background:#e8e8ee}
 pre{margin:0;white-space:pre-wrap;font-size:12px;max-height:320px;overflow:auto}
 .detail td{background:#fbfcfe} .detail h3{font-size:12px;margin:6px 0 2px}
 .grid{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
 #status{margin-left:auto;font-size:12px;opacity:.8}
</style></head>
<body>
<header><h1>ghlsync event debugger</h1><div id="counts"></div><div id="status">connecting</div></header>
<form id="filters">
 <label>location <select name="location"><option value="">all</option>__LOCATIONS__</select></label>
 <label>source <select name="source"><option value="">all</option>__SOURCES__</select></label>
 <label>status <select name="state"><option value="">all</option>__STATES__</select></label>
</form>
<table><thead><tr><th>#</th><th>received</th><th>source</th><th>location</th><th>call</th>
<th>state</th><th>attempts</th><th>HighLevel</th><th>message</th></tr></thead>
<tbody id="events"></tbody></table>
<script>
const key = new URLSearchParams(location.search).get("key") || "";
const form = document.getElementById("filters");
const body = document.getElementById("events");
const open = new Set();
function cell(row, text, cls) {
  const td = document.createElement("td");
  if (cls) { const s = document.createElement("span"); s.className = cls; s.textContent = text; td.append(s); }
  else td.textContent = text;
  row.append(td); return td;
}
function block(title, value) {
  const div = document.createElement("div");
  const h = document.createElement("h3"); h.textContent = title;
  const pre = document.createElement("pre"); pre.textContent = JSON.stringify(value, null, 2);
  div.append(h, pre); return div;
}
function render(data) {
  const counts = document.getElementById("counts"); counts.textContent = "";
  for (const [state, n] of Object.entries(data.counts)) {
    const s = document.createElement("span"); s.textContent = state + ": " + n; counts.append(s);
  }
  body.textContent = "";
  for (const e of data.events) {
    const tr = document.createElement("tr"); tr.className = "event"; tr.dataset.seq = e.seq;
    cell(tr, e.seq); cell(tr, new Date(e.receivedAt * 1000).toLocaleTimeString());
    cell(tr, e.source); cell(tr, e.locationId);
    cell(tr, e.type + (e.event ? " " + e.event : "")); cell(tr, e.state, "state " + e.state);
    cell(tr, e.attempts); cell(tr, e.lastStatus == null ? "" : String(e.lastStatus));
    cell(tr, e.lastError || (e.result && e.result.contactId ? "contact " + e.result.contactId : ""));
    tr.onclick = () => { open.has(e.seq) ? open.delete(e.seq) : open.add(e.seq); render(data); };
    body.append(tr);
    if (open.has(e.seq)) {
      const d = document.createElement("tr"); d.className = "detail";
      const td = document.createElement("td"); td.colSpan = 9;
      const grid = document.createElement("div"); grid.className = "grid";
      const r = e.result || {};
      grid.append(block("incoming call", e.call), block("mapping result", {upsert: r.mapping, tags: r.tags, coalesced: r.coalesced}),
                   block("sent to HighLevel", {request: r.request, tagsRequest: r.tagsRequest, status: r.status, message: r.message, dlq: e.state === "dead"}));
      td.append(grid); d.append(td); body.append(d);
    }
  }
}
const status = document.getElementById("status");
function query() { const p = new URLSearchParams(new FormData(form)); p.set("key", key); return p; }
async function poll() {
  try {
    const answer = await fetch("debug/events?" + query(), {headers: {"X-Admin-Key": key}});
    if (!answer.ok) throw new Error("HTTP " + answer.status);
    render(await answer.json());
    status.textContent = "live (polling), updated " + new Date().toLocaleTimeString();
  } catch (err) { status.textContent = "error: " + err.message; }
}
let stream = null, timer = null;
function polling() { if (timer === null) { poll(); timer = setInterval(poll, 1000); } }
function start() {
  if (stream) { stream.close(); stream = null; }
  if (!window.EventSource) { polling(); return; }
  stream = new EventSource("debug/stream?" + query());
  stream.onmessage = (m) => {
    render(JSON.parse(m.data));
    status.textContent = "live (server-sent events), updated " + new Date().toLocaleTimeString();
  };
  // the server ends a stream now and then and the browser reconnects by itself; a stream
  // refused or broken for good (CLOSED) leaves the page on polling
  stream.onerror = () => { if (stream && stream.readyState === EventSource.CLOSED) { stream = null; polling(); } };
}
form.onchange = () => { if (timer !== null) poll(); else start(); };
start();
</script></body></html>
"""


def _options(values: list[str]) -> str:
    import html

    return "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in values)


def debug_routes(service: EventService) -> list[BaseRoute]:
    """``/debug`` (the page) and ``/debug/events`` (its JSON), both behind the admin key."""

    async def page(request: Request) -> Response:
        if not service.admin_ok(request):
            return JSONResponse({"error": "admin key required"}, status_code=401)
        html_page = (
            PAGE.replace(
                "__LOCATIONS__", _options(sorted({s.location_id for s in service.config.sources}))
            )
            .replace("__SOURCES__", _options(sorted({s.name for s in service.config.sources})))
            .replace("__STATES__", _options(list(STATES)))
        )
        return HTMLResponse(html_page, headers={"Cache-Control": "no-store"})

    async def snapshot(request: Request) -> dict[str, Any] | Response:
        """What the page shows for the request's filters, or the answer refusing them."""
        if not service.admin_ok(request):
            return JSONResponse({"error": "admin key required"}, status_code=401)
        query = request.query_params
        state = query.get("state") or None
        if state is not None and state not in STATES:
            return JSONResponse(
                {"error": f"state must be one of {', '.join(STATES)}"}, status_code=400
            )
        try:
            limit = min(500, max(1, int(query.get("limit", "100"))))
        except ValueError:
            return JSONResponse({"error": "limit must be a number"}, status_code=400)
        rows = await service.queue.recent(
            limit,
            location_id=query.get("location") or None,
            source=query.get("source") or None,
            state=state,
        )
        depth = await service.queue.depth()
        counts: dict[str, Any] = {"pending": sum(n for n, _ in depth.values())}
        counts["dead (DLQ)"] = len(await service.queue.recent(500, state="dead"))
        receiver = service.webhook_receiver
        webhooks = await asyncio.to_thread(receiver.store.recent, 20) if receiver else []
        return {"events": [r.summary() for r in rows], "counts": counts, "webhooks": webhooks}

    async def events(request: Request) -> Response:
        found = await snapshot(request)
        return found if isinstance(found, Response) else JSONResponse(found)

    async def stream(request: Request) -> Response:
        first = await snapshot(request)
        if isinstance(first, Response):
            return first  # refused: the page falls back to polling, which shows why

        async def frames() -> AsyncIterator[str]:
            # a frame when what the page shows changed, a comment now and then to keep
            # proxies from closing the stream; ended after STREAM_S (the browser reconnects)
            # or when the service is shutting down, so a drain never waits on a debugger tab
            yield f"retry: 1000\ndata: {json.dumps(first, default=str)}\n\n"
            last, quiet_s = first, 0.0
            for _ in range(int(STREAM_S / STREAM_EVERY_S)):
                await asyncio.sleep(STREAM_EVERY_S)
                if service.closing or await request.is_disconnected():
                    return
                found = await snapshot(request)
                if isinstance(found, Response):
                    return
                if found != last:
                    last, quiet_s = found, 0.0
                    yield f"data: {json.dumps(found, default=str)}\n\n"
                else:
                    quiet_s += STREAM_EVERY_S
                    if quiet_s >= 5:
                        quiet_s = 0.0
                        yield ": keep-alive\n\n"

        return StreamingResponse(
            frames(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return [
        Route("/debug", page, methods=["GET"]),
        Route("/debug/events", events, methods=["GET"]),
        Route("/debug/stream", stream, methods=["GET"]),
    ]
