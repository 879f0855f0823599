"""The event debugger page in a real headless browser (Debian's chromium through Playwright)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghlsync.emulator import EmulatorServer

from .conftest import ADMIN_KEY, WRITE_KEY, RunningService, contacts_of, wait_for

CHROMIUM = Path("/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)


def test_debug_needs_the_admin_key(make_service: Any) -> None:
    running: RunningService = make_service(deliver=False)
    assert httpx.get(f"{running.url}/debug").status_code == 401
    assert httpx.get(f"{running.url}/debug", params={"key": "wrong"}).status_code == 401
    assert (
        httpx.get(f"{running.url}/debug/events", headers={"X-Admin-Key": "nope"}).status_code == 401
    )
    assert httpx.get(f"{running.url}/debug", headers={"X-Admin-Key": ADMIN_KEY}).status_code == 200


def test_debug_page_shows_calls_mapping_and_dlq_live(
    emulator: EmulatorServer, make_service: Any, tmp_path: Path
) -> None:
    running: RunningService = make_service()
    with httpx.Client(base_url=running.url, auth=(WRITE_KEY, "")) as client:
        ok = {"userId": "p-1", "traits": {"email": "page@example.com", "first_name": "Paige"}}
        assert client.post("/v1/identify", json=ok).status_code == 200
        wait_for(lambda: contacts_of(emulator, "page@example.com"), what="delivery")
        bad = {"userId": "p-2", "traits": {"first_name": "<b>no email</b>"}}
        assert client.post("/v1/identify", json=bad).status_code == 200
        assert client.post("/v1/page", json={"userId": "p-1", "name": "Home"}).status_code == 200

    with playwright_api.sync_playwright() as play:
        browser = play.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{running.url}/debug?key={ADMIN_KEY}")
            rows = page.locator("tr.event")
            rows.first.wait_for()
            page.wait_for_function("document.querySelectorAll('tr.event').length >= 3")
            # fed by server-sent events, not polling
            page.wait_for_function(
                "document.getElementById('status').textContent.includes('server-sent events')"
            )
            text = page.locator("#events").inner_text()
            assert "delivered" in text and "dead" in text and "dropped" in text
            assert page.locator("#events b").count() == 0, "event data is text, never markup"
            # live: a new event shows up without reloading
            httpx.post(
                f"{running.url}/v1/track",
                auth=(WRITE_KEY, ""),
                json={"userId": "p-1", "event": "Signed Up", "properties": {"method": "live-test"}},
            )
            page.wait_for_function(
                "document.querySelector('#events').innerText.includes('Signed Up')"
            )
            # filter by status, then open the delivered identify's detail
            page.select_option("select[name=state]", "delivered")
            page.wait_for_function(
                "[...document.querySelectorAll('tr.event .state')].every(s => s.textContent === 'delivered')"
            )
            page.locator("tr.event", has_text="identify").first.click()
            detail = page.locator("tr.detail")
            detail.wait_for()
            shown = detail.inner_text()
            assert "page@example.com" in shown and "POST /contacts/upsert" in shown
            assert "firstName" in shown
            # a browser without EventSource polls instead, and is live all the same
            polled = browser.new_page(viewport={"width": 1400, "height": 900})
            polled.add_init_script("delete window.EventSource")
            polled.goto(f"{running.url}/debug?key={ADMIN_KEY}")
            polled.wait_for_function(
                "document.getElementById('status').textContent.includes('polling')"
            )
            httpx.post(
                f"{running.url}/v1/track",
                auth=(WRITE_KEY, ""),
                json={"userId": "p-3", "event": "Lead Generated", "properties": {"source": "x"}},
            )
            polled.wait_for_function(
                "document.querySelector('#events').innerText.includes('Lead Generated')"
            )
            polled.close()
            shot = Path(os.environ.get("GHLSYNC_DEBUG_SHOT", tmp_path / "debugger.png"))
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            browser.close()
