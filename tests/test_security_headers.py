"""Security headers on every response, and pages that run under the CSP (issue 10,
defect 8): no page is framable or sniffable, and nothing inline needs the CSP relaxed."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from promtour._auth import create_token
from promtour._platform import Platform
from promtour._tokens import sign_station
from promtour.testing import import_demo_in_thread, station_path, with_platform

ROOT = Path(__file__).resolve().parent.parent
#: Inline code the CSP (script-src/style-src 'self', no 'unsafe-inline') would refuse.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style[\s>]|\son[a-z]+\s*=|\sstyle\s*=|javascript:",
    re.IGNORECASE,
)

#: The exceptions: a new visitor's first page carries the tour's stylesheet and script
#: inline, each allowed by its hash in that page's CSP (tests/plugins/test_page_assets).
HASHED_BLOCKS = ("<style>{{ css }}</style>", "<script>{{ js }}</script>")


def _without_hashed_blocks(line: str) -> str:
    for block in HASHED_BLOCKS:
        line = line.replace(block, "")
    return line


def assert_secured(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    csp = response.headers.get("content-security-policy", "")
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ):
        assert directive in csp, f"{where}: CSP lacks {directive!r}: {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") in ("same-origin", "no-referrer"), where


async def test_every_kind_of_response_has_the_security_headers(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=2, plugins={"career": {}, "quests": {}})
    server = serve_app()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        start = await client.get(f"/t/{tour.enterprise}/{tour.id}")
        assert start.status_code == 200
        station = await client.get(station_path(tour, "s1"), follow_redirects=True)
        assert station.status_code == 200
        responses = [
            start,
            station,
            await client.get(f"/t/{tour.enterprise}/{tour.id}/finish"),
            await client.get(f"/p/career/t/{tour.enterprise}/{tour.id}/profile"),
            await client.get("/s/forged-code"),  # an error page
            await client.get("/no/such/page"),  # litestar's own 404
            await client.post("/t/x/y/group", data={"code": "a"}),  # CSRF refusal
            await client.get("/console/login"),
            await client.get("/static/core/promtour.css"),
            await client.get("/healthz"),
        ]
    assert [r.status_code >= 400 for r in responses[4:7]] == [True] * 3
    for response in responses:
        assert_secured(response)


def test_templates_have_no_inline_scripts_styles_or_handlers():
    templates = [
        *ROOT.joinpath("core/_web/templates").rglob("*.html"),
        *ROOT.glob("plugins/*/templates/**/*.html"),
    ]
    assert len(templates) > 10
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in templates
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INLINE.search(_without_hashed_blocks(line) if path.name == "base.html" else line)
    ]
    assert found == [], "inline code the CSP refuses:\n" + "\n".join(found)


def _admin_token(nats_url: str, enterprise: str) -> str:
    """An admin token for the demo enterprise, made in a thread of its own: Playwright
    owns this thread's event loop."""

    async def work(platform: Platform) -> str:
        return (await create_token(platform.bus, enterprise, "admin", "csp"))[1]

    return with_platform(nats_url, work)


def test_demo_and_console_pages_run_under_the_csp(nats_url, serve_app, phone, browser):
    """Any "Refused to execute/apply/load ..." in the console fails: a page that needs
    an inline script or style to work is broken under the CSP, silently for users."""
    assert "uralpress.main" in import_demo_in_thread(nats_url)
    secret = _admin_token(nats_url, "uralpress")
    server = serve_app()
    state = server.platform.tours.cached("uralpress.main")
    assert state is not None
    tour = state.tour
    violations: list[str] = []

    def watch(page):
        def on_console(msg):
            if "Content Security Policy" in msg.text or "Refused to" in msg.text:
                violations.append(f"{page.url}: {msg.text}")

        page.on("console", on_console)
        return page

    visitor = watch(phone(locale="en-US").new_page())
    for url in (
        f"/t/{tour.enterprise}/{tour.id}",
        f"/s/{sign_station(tour, 'warehouse')}",
        f"/s/{sign_station(tour, 'press')}",
        f"/p/career/t/{tour.enterprise}/{tour.id}/quiz",
        f"/p/career/t/{tour.enterprise}/{tour.id}/profile",
        f"/t/{tour.enterprise}/{tour.id}/finish",
    ):
        response = visitor.goto(server.url + url)
        assert response is not None and response.status < 400, url
        assert "default-src 'self'" in response.headers["content-security-policy"], url
        visitor.wait_for_load_state("networkidle")
    assert visitor.locator("h1").count() >= 1

    console = watch(browser.new_context(viewport={"width": 1280, "height": 900}).new_page())
    try:
        console.goto(f"{server.url}/console/login")
        console.fill("#token", secret)
        console.click("button[type=submit]")
        console.wait_for_url(f"**/console/{tour.enterprise}")
        base = f"{server.url}/console/{tour.enterprise}"
        for url in (
            f"{base}/tours/{tour.id}",
            f"{base}/tours/{tour.id}/media",
            f"{base}/tours/{tour.id}/plugins/audio_guide",
            f"{base}/tokens",
        ):
            response = console.goto(url)
            assert response is not None and response.status < 400, url
            console.wait_for_load_state("networkidle")
    finally:
        console.context.close()
    assert violations == []
